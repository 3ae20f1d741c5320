#!/usr/bin/env python3
"""Writes the uncompressed kernel (an ELF vmlinux, bootable as PVH by QEMU's microvm) found in a
compressed kernel image (a bzImage such as Debian's vmlinuz).

A bzImage carries the kernel as one compressed stream after its setup code: each known
compressor's magic bytes are searched for, and the first offset whose stream decompresses to an
ELF file wins (the same approach as the kernel's scripts/extract-vmlinux, written anew here).
Usage: extract-vmlinux.py VMLINUZ OUT
"""

import gzip
import lzma
import shutil
import subprocess
import sys
import zlib

MAGICS = [
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("gzip", b"\x1f\x8b\x08"),
]


def decompress(kind, data):
    if kind == "xz":
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if kind == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    if kind == "zstd" and shutil.which("zstd"):
        out = subprocess.run(["zstd", "-dc"], input=data, capture_output=True)
        return out.stdout
    return b""


def main():
    src, dst = sys.argv[1], sys.argv[2]
    image = open(src, "rb").read()
    for kind, magic in MAGICS:
        start = 0
        while True:
            at = image.find(magic, start)
            if at < 0:
                break
            start = at + 1
            try:
                out = decompress(kind, image[at:])
            except (lzma.LZMAError, zlib.error, EOFError, gzip.BadGzipFile):
                continue
            if out[:4] == b"\x7fELF":
                with open(dst, "wb") as f:
                    f.write(out)
                print("%s: %s stream at offset %d, %d bytes" % (src, kind, at, len(out)))
                return 0
    print("%s: no compressed ELF kernel found" % src, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())

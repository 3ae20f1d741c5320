#!/usr/bin/env python3
"""Builds the micro-VM initramfs: a gzip'd cpio (newc) archive holding busybox, our /init
script and the kernel modules the guest needs, with their dependencies, in load order.

Debian's kernel builds the virtio, squashfs, ext4 and overlay drivers as modules; the order is
computed here from each module's `depends=` entry (read from its .modinfo section), so the guest
needs neither depmod nor modprobe.
Usage: build-initramfs.py MODULES_DIR BUSYBOX INIT_SCRIPT OUT MODULE...
"""

import gzip
import os
import re
import sys


def module_index(root):
    index = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".ko"):
                index[name[:-3].replace("-", "_")] = os.path.join(dirpath, name)
    return index


def depends(path):
    data = open(path, "rb").read()
    match = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", data)
    if not match or not match.group(1):
        return []
    return [d.decode().replace("-", "_") for d in match.group(1).split(b",") if d]


def load_order(index, wanted):
    order, seen = [], set()

    def visit(name, stack):
        if name in seen:
            return
        if name not in index:
            raise SystemExit("module %s not found (needed by %s)" % (name, " <- ".join(stack)))
        for dep in depends(index[name]):
            visit(dep, stack + [name])
        seen.add(name)
        order.append(name)

    for name in wanted:
        visit(name.replace("-", "_"), [])
    return order


class Cpio:
    def __init__(self):
        self.out = bytearray()
        self.ino = 1

    def entry(self, name, mode, data=b"", rdev=(0, 0)):
        name_b = name.encode() + b"\x00"
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields) + name_b
        self.out += b"\x00" * (-len(self.out) % 4)
        self.out += data
        self.out += b"\x00" * (-len(self.out) % 4)

    def dir(self, name):
        self.entry(name, 0o040755)

    def file(self, name, data, mode=0o100644):
        self.entry(name, mode, data)

    def finish(self):
        self.entry("TRAILER!!!", 0)
        return bytes(self.out)


def main():
    modules_dir, busybox, init_script, out = sys.argv[1:5]
    index = module_index(modules_dir)
    order = load_order(index, sys.argv[5:])
    cpio = Cpio()
    for d in ["bin", "dev", "proc", "sys", "newroot", "lower", "upper", "lib", "lib/modules"]:
        cpio.dir(d)
    cpio.entry("dev/console", 0o020600, rdev=(5, 1))
    cpio.entry("dev/null", 0o020666, rdev=(1, 3))
    cpio.file("bin/busybox", open(busybox, "rb").read(), 0o100755)
    cpio.file("init", open(init_script, "rb").read(), 0o100755)
    for name in order:
        cpio.file("lib/modules/%s.ko" % name, open(index[name], "rb").read())
    cpio.file("lib/modules/order", ("\n".join(order) + "\n").encode())
    with open(out + ".part", "wb") as f:
        f.write(gzip.compress(cpio.finish(), 6, mtime=0))
    os.rename(out + ".part", out)
    print("%s: %d modules (%s)" % (out, len(order), " ".join(order)))


if __name__ == "__main__":
    main()

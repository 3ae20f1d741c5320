"""aleph-node's micro-VM init: the guest's process 1 after the initramfs built the root.

It starts the runtime shim (init.py, the guest side of the program protocol, NETWORK.md §5.5)
on Unix sockets inside the guest and relays them to the host over one virtio-serial port (the
host has no vsock here). Frames on the port are `>IBI` (id, kind, length) then the payload:

- kind 1, host -> guest: one connection's bytes for the shim's socket; the relay connects,
  writes them, closes its write side and reads the answer to the end;
- kind 2, guest -> host: that answer, with the same id;
- kind 3, guest -> host: the shim's hello (what it sent to its host socket).

When the shim exits (halt, or the program crashed it) the VM powers off, so the host sees the
program gone. Only the standard library is used.
"""

import ctypes
import glob
import os
import socket
import struct
import subprocess
import sys
import threading
import time

PORT_NAME = "org.aleph.0"
SOCKET_DIR = "/run/aleph"
LISTEN = SOCKET_DIR + "/vm.sock"
HELLO = SOCKET_DIR + "/vm.sock_52"
HEADER = struct.Struct(">IBI")
MAX_FRAME = 64 << 20


def log(*args):
    print("aleph-guest:", *args, file=sys.stderr, flush=True)


def power_off():
    os.sync()
    libc = ctypes.CDLL(None, use_errno=True)
    # RB_AUTOBOOT: QEMU runs with -no-reboot, so a reset ends the VM.
    libc.reboot(0x01234567)
    time.sleep(5)
    os._exit(1)


def find_port():
    for _ in range(200):
        for name_file in glob.glob("/sys/class/virtio-ports/*/name"):
            with open(name_file) as f:
                if f.read().strip() == PORT_NAME:
                    return "/dev/" + name_file.split("/")[-2]
        time.sleep(0.05)
    raise SystemExit("no virtio-serial port " + PORT_NAME)


class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR)
        self.lock = threading.Lock()

    def send(self, frame_id, kind, payload):
        data = HEADER.pack(frame_id, kind, len(payload)) + payload
        with self.lock:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]

    def read_exact(self, n):
        chunks, left = [], n
        while left:
            chunk = os.read(self.fd, min(left, 1 << 20))
            if not chunk:
                # No host connected: the port reads nothing until one is.
                time.sleep(0.05)
                continue
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


def read_to_end(sock):
    chunks, total = [], 0
    while total < MAX_FRAME:
        chunk = sock.recv(1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def exchange(port, frame_id, payload):
    answer = b""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(LISTEN)
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            answer = read_to_end(sock)
    except OSError as error:
        log("connection", frame_id, "failed:", error)
    port.send(frame_id, 2, answer)


def host_to_guest(port):
    while True:
        frame_id, kind, length = HEADER.unpack(port.read_exact(HEADER.size))
        if length > MAX_FRAME:
            log("frame too large:", length)
            power_off()
        payload = port.read_exact(length)
        if kind == 1:
            threading.Thread(target=exchange, args=(port, frame_id, payload), daemon=True).start()


def hellos(port, server):
    while True:
        conn, _ = server.accept()
        with conn:
            port.send(0, 3, read_to_end(conn))


def main():
    os.makedirs(SOCKET_DIR, exist_ok=True)
    port = Port(find_port())
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(HELLO)
    server.listen(4)
    threading.Thread(target=hellos, args=(port, server), daemon=True).start()
    threading.Thread(target=host_to_guest, args=(port,), daemon=True).start()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    shim = subprocess.Popen(
        [sys.executable, "/usr/lib/aleph/init.py", LISTEN, HELLO], cwd="/opt", env=env
    )
    # Process 1 reaps every orphan; the VM ends with the shim.
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid == shim.pid:
            log("runtime exited with status", status)
            break
    power_off()


if __name__ == "__main__":
    try:
        main()
    except BaseException as error:  # noqa: B036 - process 1 must not return
        log("init failed:", error)
        power_off()

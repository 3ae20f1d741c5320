"""aleph-node's Python runtime shim: the guest side of a program run by the CRN.

It plays the part the official runtime's init process plays inside a micro-VM, over a Unix socket
instead of vsock, with the same msgpack framing:

1. it listens on LISTEN_SOCKET, then tells the host it is up by sending the msgpack map
   {"version": ...} to HOST_SOCKET;
2. the first connection carries the configuration, "<length>\n" followed by a msgpack map
   (code, encoding, entrypoint, interface, variables, input_data, ...); the reply is the msgpack
   map {"success": bool, "error"?, "traceback"?};
3. every later connection carries one instruction, read to the end of the stream: a msgpack map
   {"scope": {...}} for an HTTP request (answered with {"headers", "body", "output",
   "output_data"}, or {"error", "traceback", "output"}), or the bytes `halt`
   (answered with "STOP\n" then "STOPZ\n", after which the shim exits).

Only the standard library is used, so any Python 3.8+ interpreter can run it.
Usage: python3 init.py LISTEN_SOCKET HOST_SOCKET
"""

import asyncio
import base64
import http.client
import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import traceback
import zipfile

VERSION = "2.0.0"


# --- msgpack (the subset the protocol uses) ----------------------------------------------------


def packb(obj):
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


def _pack_len(out, n, fix_base, fix_max, codes):
    if fix_base is not None and n <= fix_max:
        out.append(fix_base | n)
    elif n < 0x100 and codes[0] is not None:
        out += bytes([codes[0], n])
    elif n < 0x10000:
        out += bytes([codes[1]]) + struct.pack(">H", n)
    else:
        out += bytes([codes[2]]) + struct.pack(">I", n)


def _pack(obj, out):
    if obj is None:
        out.append(0xC0)
    elif obj is True:
        out.append(0xC3)
    elif obj is False:
        out.append(0xC2)
    elif isinstance(obj, int):
        if 0 <= obj < 0x80:
            out.append(obj)
        elif -32 <= obj < 0:
            out.append(obj & 0xFF)
        elif 0 <= obj < 1 << 64:
            out += b"\xcf" + struct.pack(">Q", obj)
        else:
            out += b"\xd3" + struct.pack(">q", obj)
    elif isinstance(obj, float):
        out += b"\xcb" + struct.pack(">d", obj)
    elif isinstance(obj, str):
        data = obj.encode("utf-8", "surrogateescape")
        _pack_len(out, len(data), 0xA0, 31, (0xD9, 0xDA, 0xDB))
        out += data
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)
        _pack_len(out, len(data), None, -1, (0xC4, 0xC5, 0xC6))
        out += data
    elif isinstance(obj, (list, tuple)):
        _pack_len(out, len(obj), 0x90, 15, (None, 0xDC, 0xDD))
        for item in obj:
            _pack(item, out)
    elif isinstance(obj, dict):
        _pack_len(out, len(obj), 0x80, 15, (None, 0xDE, 0xDF))
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    else:
        raise TypeError("cannot msgpack-encode %r" % type(obj))


def unpackb(data):
    value, end = _unpack(memoryview(data), 0)
    if end != len(data):
        raise ValueError("trailing bytes after msgpack value")
    return value


_FIXED = {
    0xCC: (">B", 1), 0xCD: (">H", 2), 0xCE: (">I", 4), 0xCF: (">Q", 8),
    0xD0: (">b", 1), 0xD1: (">h", 2), 0xD2: (">i", 4), 0xD3: (">q", 8),
    0xCA: (">f", 4), 0xCB: (">d", 8),
}


def _unpack(buf, i):
    b = buf[i]
    i += 1
    if b <= 0x7F:
        return b, i
    if b >= 0xE0:
        return b - 0x100, i
    if 0x80 <= b <= 0x8F:
        return _unpack_map(buf, i, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _unpack_array(buf, i, b & 0x0F)
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        return bytes(buf[i:i + n]).decode("utf-8", "surrogateescape"), i + n
    if b == 0xC0:
        return None, i
    if b == 0xC2:
        return False, i
    if b == 0xC3:
        return True, i
    if b in _FIXED:
        fmt, size = _FIXED[b]
        return struct.unpack(fmt, buf[i:i + size])[0], i + size
    if b in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB):
        size = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
        n = int.from_bytes(buf[i:i + size], "big")
        i += size
        raw = bytes(buf[i:i + n])
        if b >= 0xD9:
            return raw.decode("utf-8", "surrogateescape"), i + n
        return raw, i + n
    if b in (0xDC, 0xDD):
        size = 2 if b == 0xDC else 4
        return _unpack_array(buf, i + size, int.from_bytes(buf[i:i + size], "big"))
    if b in (0xDE, 0xDF):
        size = 2 if b == 0xDE else 4
        return _unpack_map(buf, i + size, int.from_bytes(buf[i:i + size], "big"))
    raise ValueError("unsupported msgpack type byte 0x%02x" % b)


def _unpack_array(buf, i, n):
    items = []
    for _ in range(n):
        item, i = _unpack(buf, i)
        items.append(item)
    return items, i


def _unpack_map(buf, i, n):
    result = {}
    for _ in range(n):
        key, i = _unpack(buf, i)
        value, i = _unpack(buf, i)
        result[key] = value
    return result, i


# --- setup ---------------------------------------------------------------------------------------


def log(*args):
    print("[aleph-runtime]", *args, file=sys.stderr, flush=True)


def extract_zip(data, target):
    os.makedirs(target, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            path = archive.extract(info, target)
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                os.chmod(path, mode)


def import_entrypoint(entrypoint):
    module_name, attr = entrypoint.split(":", 1)
    module = __import__(module_name)
    for part in module_name.split(".")[1:]:
        module = getattr(module, part)
    return getattr(module, attr)


class Lifespan:
    """Runs an ASGI app's lifespan protocol; apps without lifespan support are accepted."""

    def __init__(self, app):
        self.app = app
        self.inbox = asyncio.Queue()
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.supported = True
        self.task = None

    async def _receive(self):
        return await self.inbox.get()

    async def _send(self, event):
        kind = event.get("type", "")
        if kind.startswith("lifespan.startup."):
            if kind.endswith(".failed"):
                raise RuntimeError("lifespan startup failed: %s" % event.get("message", ""))
            self.started.set()
        elif kind.startswith("lifespan.shutdown."):
            self.stopped.set()

    async def _run(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        try:
            await self.app(scope, self._receive, self._send)
        except Exception:
            if not self.started.is_set():
                self.supported = False
                log("the app does not support the ASGI lifespan protocol; going on without it")
        finally:
            self.started.set()
            self.stopped.set()

    async def startup(self):
        self.task = asyncio.ensure_future(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        await asyncio.wait_for(self.started.wait(), timeout=30)
        if self.task.done() and self.task.exception():
            raise self.task.exception()

    async def shutdown(self):
        if self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self.stopped.wait(), timeout=10)
        except asyncio.TimeoutError:
            log("lifespan shutdown did not complete within 10 s")


class Program:
    def __init__(self, config):
        self.config = config
        self.interface = config.get("interface") or "asgi"
        self.app = None
        self.lifespan = None
        self.process = None

    async def setup(self):
        config = self.config
        vm_hash = config.get("vm_hash") or ""
        try:
            raw = base64.b16decode(vm_hash.upper())
            os.environ["ALEPH_ADDRESS_TO_USE"] = base64.b32encode(raw).decode().strip("=").lower()
        except ValueError:
            pass
        os.environ["ALEPH_INIT_VERSION"] = VERSION
        for key, value in (config.get("variables") or {}).items():
            os.environ[str(key)] = str(value)
        input_data = config.get("input_data")
        if input_data:
            extract_zip(input_data, "/data")
        code = config.get("code") or b""
        encoding = config.get("encoding")
        entrypoint = config.get("entrypoint") or ""
        if self.interface == "asgi":
            sys.path.insert(0, "/opt/packages")
            if encoding == "squashfs":
                sys.path.insert(0, "/opt/code")
                self.app = import_entrypoint(entrypoint)
            elif encoding == "zip":
                extract_zip(code, "/opt")
                sys.path.insert(0, "/opt")
                self.app = import_entrypoint(entrypoint)
            elif encoding == "plain":
                namespace = {}
                exec(compile(code, "<program>", "exec"), namespace)
                self.app = namespace[entrypoint]
            else:
                raise ValueError("unknown code encoding %r" % encoding)
            self.lifespan = Lifespan(self.app)
            await self.lifespan.startup()
        elif self.interface == "executable":
            path = os.path.join("/opt/code", entrypoint)
            if encoding == "zip":
                extract_zip(code, "/opt/code")
            elif encoding == "plain":
                os.makedirs("/opt/code", exist_ok=True)
                with open(path, "wb") as f:
                    f.write(code)
            elif encoding != "squashfs":
                raise ValueError("unknown code encoding %r" % encoding)
            if not os.path.isfile(path):
                raise FileNotFoundError("no such file: %s" % path)
            if encoding != "squashfs":
                os.chmod(path, os.stat(path).st_mode | 0o111)
            self.process = subprocess.Popen([path], cwd="/opt/code")
        else:
            raise ValueError("unknown interface %r" % self.interface)

    async def run(self, scope):
        if self.interface == "asgi":
            return await self.run_asgi(scope)
        return await asyncio.get_running_loop().run_in_executor(None, self.run_executable, scope)

    async def run_asgi(self, scope):
        body = scope.pop("body", b"") or b""
        if isinstance(body, str):
            body = body.encode()
        kind = scope.get("type", "http")
        query = scope.get("query_string", b"")
        if isinstance(query, str):
            scope["query_string"] = query.encode("latin-1")
        if kind == "http":
            scope.setdefault("asgi", {"version": "3.0"})
            scope.setdefault("http_version", "1.1")
            scope.setdefault("scheme", "http")
            scope.setdefault("root_path", "")
            scope.setdefault("raw_path", scope.get("path", "/").encode())
            scope.setdefault("server", ("localhost", 80))
            scope.setdefault("client", ("127.0.0.1", 0))
            scope["headers"] = [
                (bytes(k).lower() if not isinstance(k, str) else k.lower().encode(),
                 bytes(v) if not isinstance(v, str) else v.encode())
                for k, v in scope.get("headers", [])
            ]
        events = []
        delivered = False

        async def receive():
            nonlocal delivered
            if delivered:
                # A second receive means the app waits for a disconnect: park it.
                await asyncio.Event().wait()
            delivered = True
            event_type = "http.request" if kind in ("http", "websocket") else "aleph.message"
            return {"type": event_type, "body": body, "more_body": False}

        async def send(event):
            events.append(event)

        await self.app(scope, receive, send)
        start = {}
        if kind == "http":
            start = next((e for e in events if e.get("type") == "http.response.start"), {})
        chunks = [e for e in events if e.get("type") != "http.response.start"]
        body_event = dict(chunks[0]) if chunks else {"type": "http.response.body", "body": b""}
        body_event["body"] = b"".join(bytes(e.get("body", b"") or b"") for e in chunks)
        body_event.pop("more_body", None)
        output_data = b""
        if os.path.isdir("/data") and os.listdir("/data"):
            archive = shutil.make_archive("/tmp/output", "zip", "/data")
            with open(archive, "rb") as f:
                output_data = f.read()
        return {"headers": start, "body": body_event, "output": "", "output_data": output_data}

    def run_executable(self, scope):
        headers = [
            (k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
            for k, v in scope.get("headers", [])
        ]
        query = scope.get("query_string") or ""
        if isinstance(query, bytes):
            query = query.decode("latin-1")
        target = scope.get("path", "/") + ("?" + query if query else "")
        body = scope.get("body") or None
        for attempt in range(1, 61):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", 8080, timeout=5)
                conn.putrequest(scope.get("method", "GET"), target, skip_host=True,
                                skip_accept_encoding=True)
                names = {k.lower() for k, _ in headers}
                if "host" not in names:
                    conn.putheader("Host", "localhost:8080")
                for k, v in headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        conn.putheader(k, v)
                conn.putheader("Content-Length", str(len(body or b"")))
                conn.putheader("Connection", "close")
                conn.endheaders(body)
                resp = conn.getresponse()
                payload = resp.read()
                pairs = [[k.encode(), v.encode()] for k, v in resp.getheaders()]
                conn.close()
                return {
                    "headers": {"type": "http.response.start", "status": resp.status, "headers": pairs},
                    "body": {"type": "http.response.body", "body": payload},
                    "output": "",
                    "output_data": None,
                }
            except (OSError, http.client.HTTPException):
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError("the program exited with status %s" % self.process.returncode)
                import time
                time.sleep(attempt * 0.05)
        page = b"<html><body><h1>The program is loading</h1></body></html>"
        return {
            "headers": {"type": "http.response.start", "status": 503,
                        "headers": [[b"content-type", b"text/html"]]},
            "body": {"type": "http.response.body", "body": page},
            "output": "",
            "output_data": None,
        }

    async def halt(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.lifespan is not None:
            await self.lifespan.shutdown()


async def read_all(reader):
    chunks = []
    while True:
        chunk = await reader.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


async def main(listen_path, host_path):
    if os.path.exists(listen_path):
        os.unlink(listen_path)
    server_sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server_sock.bind(listen_path)
    server_sock.listen(64)
    server_sock.setblocking(False)
    loop = asyncio.get_running_loop()

    hello = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hello.connect(host_path)
    hello.sendall(packb({"version": VERSION}))
    hello.close()

    client, _ = await loop.sock_accept(server_sock)
    client.setblocking(True)
    length = b""
    while not length.endswith(b"\n") and len(length) < 12:
        byte = client.recv(1)
        if not byte:
            raise ConnectionError("configuration connection closed early")
        length += byte
    expected = int(length)
    data = b""
    while len(data) < expected:
        chunk = client.recv(min(1 << 20, expected - len(data)))
        if not chunk:
            raise ConnectionError("configuration truncated")
        data += chunk
    program = Program(unpackb(data))
    try:
        await program.setup()
        client.sendall(packb({"success": True}))
    except BaseException as error:  # noqa: B036 - the host must hear about any failure
        client.sendall(packb({"success": False, "error": str(error),
                              "traceback": traceback.format_exc()}))
        client.close()
        raise
    client.close()

    done = asyncio.Event()

    async def handle(reader, writer):
        try:
            data = await read_all(reader)
            if data == b"halt":
                await program.halt()
                writer.write(b"STOP\n")
                writer.write(b"STOPZ\n")
                await writer.drain()
                done.set()
                return
            try:
                payload = unpackb(data)
                result = await program.run(payload["scope"])
                writer.write(packb(result))
            except Exception as error:
                writer.write(packb({"error": str(error), "traceback": traceback.format_exc(),
                                    "output": ""}))
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_unix_server(handle, sock=server_sock)
    async with server:
        await done.wait()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: init.py LISTEN_SOCKET HOST_SOCKET")
    asyncio.run(main(sys.argv[1], sys.argv[2]))

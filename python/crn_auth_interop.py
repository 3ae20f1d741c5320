"""CRN authentication interop between our Rust code and the official Python stack.

Usage:
  python crn_auth_interop.py sign CHAIN PRIVATE_KEY_HEX NODE_URL VM_HASH OPERATION METHOD
      Prints {"address", "url", "headers"}: the X-SignedPubKey / X-SignedOperation headers that the
      official SDK's VmClient sends for that operation (CHAIN is ETH or SOL; for SOL the key is
      the 32-byte seed).
  python crn_auth_interop.py sign-scheduler PRIVATE_KEY_HEX METHOD PATH BODY_HEX
      Prints {"address", "authorization"}: an Aleph-EIP191-V1 header signed with eth_account the
      way aleph-vm's tests sign scheduler requests (sorted, compact JSON payload).
  python crn_auth_interop.py verify-owner CASES.json
      CASES.json is a JSON array of {"pubkey", "operation", "method", "domain", "path"}. For each,
      prints one JSON line {"valid", "address", "error"}: the verdict of the checks aleph-vm's
      views/authentication.py makes, run with the same libraries it uses (pydantic datetimes,
      eth_account EIP-191 recovery, PyNaCl ed25519, jwcrypto ES256).
  python crn_auth_interop.py verify-scheduler CASES.json
      CASES.json is a JSON array of {"authorization", "method", "path", "body_hex"}. For each,
      prints {"valid", "signer", "payload", "error"}: the checks of aleph-vm's
      views/allocation_auth.py (parameters, payload fields, 300 s window, method/path, EIP-191
      recovery, body hash), with the same libraries.

aleph-vm itself is not installable here (it is not published and needs its supervisor), so these
verifiers restate its checks; the signing side is the SDK's own code.
"""

import asyncio
import datetime
import json
import sys
import time
from hashlib import sha256

import base58
import nacl.signing
from eth_account import Account
from eth_account.messages import encode_defunct
from jwcrypto import jwk
from jwcrypto.jwa import JWA
from pydantic import BaseModel


async def sdk_sign(chain, key_hex, node_url, vm_hash, operation, method):
    from aleph.sdk.chains.ethereum import ETHAccount
    from aleph.sdk.chains.solana import SOLAccount
    from aleph.sdk.client.vm_client import VmClient

    key = bytes.fromhex(key_hex)
    account = SOLAccount(key) if chain == "SOL" else ETHAccount(key)
    client = VmClient(account, node_url)
    try:
        url, headers = await client._generate_header(vm_id=vm_hash, operation=operation, method=method)
    finally:
        await client.session.close()
    return {"address": account.get_address(), "url": url, "headers": headers}


def scheduler_sign(key_hex, method, path, body_hex):
    account = Account.from_key(bytes.fromhex(key_hex))
    payload = {
        "method": method,
        "path": path,
        "body_sha256": sha256(bytes.fromhex(body_hex)).hexdigest(),
        "iat": int(time.time()),
    }
    payload_bytes = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    signed = account.sign_message(encode_defunct(payload_bytes))
    authorization = f"Aleph-EIP191-V1 sig={signed.signature.hex()},payload={payload_bytes.hex()}"
    return {"address": account.address, "authorization": authorization}


class OperationTime(BaseModel):
    time: datetime.datetime


def unhex_signature(text):
    return bytes.fromhex(text.removeprefix("0x"))


def verify_owner(case):
    now = datetime.datetime.now(tz=datetime.timezone.utc)
    header = json.loads(case["pubkey"])
    payload = bytes.fromhex(header["payload"])
    signature = unhex_signature(header["signature"])
    content = json.loads(payload)
    expires = datetime.datetime.fromisoformat(content["expires"].replace("Z", "+00:00"))
    if not expires > now:
        raise ValueError("Token expired")
    chain = content.get("chain", "ETH")
    address = content["address"]
    if chain == "SOL":
        nacl.signing.VerifyKey(base58.b58decode(address)).verify(payload.hex().encode(), signature)
    elif chain == "ETH":
        recovered = Account.recover_message(encode_defunct(hexstr=payload.hex()), signature=signature)
        if recovered.lower() != address.lower():
            raise ValueError("Invalid signature")
    else:
        raise ValueError("Unsupported chain")

    operation = json.loads(case["operation"])
    op_payload = bytes.fromhex(operation["payload"])
    op_signature = unhex_signature(operation["signature"])
    op = json.loads(op_payload)
    t = OperationTime(time=op["time"]).time
    if not (now - datetime.timedelta(minutes=2) <= t <= now + datetime.timedelta(minutes=2)):
        raise ValueError("time skew")
    if op["method"] not in ("GET", "POST", "DELETE"):
        raise ValueError("bad method")
    if op["domain"] != case["domain"]:
        raise ValueError("Invalid domain")
    if op["path"] != case["path"]:
        raise ValueError("Invalid path")
    if op["method"] != case["method"]:
        raise ValueError("Invalid method")
    JWA.signing_alg("ES256").verify(jwk.JWK(**content["pubkey"]), op_payload, op_signature)
    return {"address": address, "chain": chain}


def verify_scheduler(case):
    scheme, _, params_str = case["authorization"].partition(" ")
    if scheme.casefold() != "aleph-eip191-v1":
        raise ValueError("scheme")
    params = {}
    for pair in params_str.strip().split(","):
        key, sep, value = pair.strip().partition("=")
        if not sep or not value:
            raise ValueError("malformed param")
        params[key] = value
    if set(params) != {"sig", "payload"}:
        raise ValueError("params")
    payload_bytes = bytes.fromhex(params["payload"].removeprefix("0x"))
    payload = json.loads(payload_bytes)
    iat = payload["iat"]
    if not isinstance(iat, int) or isinstance(iat, bool):
        raise ValueError("iat")
    if abs(iat - time.time()) > 300:
        raise ValueError("stale")
    if payload["method"] != case["method"] or payload["path"] != case["path"]:
        raise ValueError("method/path")
    recovered = Account.recover_message(
        encode_defunct(payload_bytes), signature=bytes.fromhex(params["sig"].removeprefix("0x"))
    )
    if sha256(bytes.fromhex(case["body_hex"])).hexdigest() != payload["body_sha256"]:
        raise ValueError("body")
    return {"signer": recovered, "payload": payload_bytes.decode()}


def judge(path, check):
    ok = True
    for case in json.load(open(path)):
        try:
            verdict = {"valid": True, **check(case)}
        except Exception as error:  # every failure is a refusal
            verdict = {"valid": False, "error": f"{type(error).__name__}: {error}"}
            ok = False
        print(json.dumps(verdict))
    return ok


def main():
    mode = sys.argv[1]
    if mode == "sign":
        print(json.dumps(asyncio.run(sdk_sign(*sys.argv[2:8]))))
    elif mode == "sign-scheduler":
        print(json.dumps(scheduler_sign(*sys.argv[2:6])))
    elif mode == "verify-owner":
        sys.exit(0 if judge(sys.argv[2], verify_owner) else 1)
    elif mode == "verify-scheduler":
        sys.exit(0 if judge(sys.argv[2], verify_scheduler) else 1)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

"""Judge messages signed by our Rust signers with the official Python SDK.

Usage: python verify_with_sdk.py MESSAGES.json

MESSAGES.json holds a JSON array of pending messages (the envelope a client submits). For each,
prints one JSON line {"item_hash", "valid", "error"} where `valid` means: the official
`aleph_message` schema parses the envelope and its content, and the SDK's own verification
buffer and verifier for the chain accept the signature. Exits 0 when every message is valid, 1
otherwise.
"""

import json
import sys
from datetime import datetime, timezone

from aleph.sdk.chains import ethereum, solana, tezos
from aleph.sdk.chains.common import get_verification_buffer
from aleph_message import parse_message
from pytezos_crypto.key import Key

EVM_LABELS = {
    "ETH", "ETHERLINK", "ARB", "BASE", "BLAST", "BOB", "BSC", "CYBER", "FRAX", "HYPE", "INK", "LENS",
    "LINEA", "LISK", "METIS", "MODE", "NEO", "OP", "POL", "SONIC", "UNICHAIN", "WLD", "ZORA",
}


def micheline_bytes(buffer: bytes, time: float, dapp_url: str) -> bytes:
    """The bytes a Tezos wallet signs in micheline mode (independent restatement of the rule)."""
    dt = datetime.fromtimestamp(time, tz=timezone.utc)
    stamp = dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
    payload = " ".join(["Tezos Signed Message:", dapp_url, stamp]).encode() + b" " + buffer
    return b"\x05\x01\x00" + str(len(payload.hex())).encode() + payload


def check(message: dict) -> None:
    # The official schema must accept the envelope and the content.
    full = dict(message)
    if full.get("item_type", "inline") == "inline":
        full["content"] = json.loads(full["item_content"])
    parse_message(full)

    buffer = get_verification_buffer(message)
    chain = message["chain"]
    if chain in EVM_LABELS:
        ethereum.verify_signature(message["signature"], message["sender"], buffer)
    elif chain in ("SOL", "ES"):
        sig = json.loads(message["signature"])
        if sig["publicKey"] != message["sender"]:
            raise ValueError("publicKey is not the sender")
        solana.verify_signature(sig["signature"], sig["publicKey"], buffer)
    elif chain == "TEZOS":
        sig = json.loads(message["signature"])
        key = Key.from_encoded_key(sig["publicKey"])
        if key.public_key_hash() != message["sender"]:
            raise ValueError("key does not hash to the sender")
        signed = buffer
        if sig.get("signingType", "raw") == "micheline":
            signed = micheline_bytes(buffer, message["time"], sig.get("dAppUrl", "aleph.im"))
        if not tezos.verify_signature(sig["signature"], sig["publicKey"], signed):
            raise ValueError("tezos signature does not verify")
    else:
        raise ValueError(f"chain {chain} is not covered by this check")


def main() -> int:
    with open(sys.argv[1]) as f:
        messages = json.load(f)
    ok = True
    for message in messages:
        try:
            check(message)
            verdict = {"item_hash": message.get("item_hash"), "valid": True, "error": None}
        except Exception as e:  # every failure is a verdict, reported per message
            ok = False
            verdict = {"item_hash": message.get("item_hash"), "valid": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(verdict))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

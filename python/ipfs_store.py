"""Signs and sends an ipfs STORE of an existing CID with the official Python SDK, for the IPFS
interop test (aleph-node/tests/it/ipfs.rs). Usage: python ipfs_store.py <node url> <ETH private
key hex> <CID>; prints the STORE's item hash."""

import asyncio
import sys

from aleph.sdk.chains.ethereum import ETHAccount
from aleph.sdk.client import AuthenticatedAlephHttpClient
from aleph.sdk.types import StorageEnum


async def main(url, key, cid):
    account = ETHAccount(private_key=bytes.fromhex(key.removeprefix("0x")))
    async with AuthenticatedAlephHttpClient(account, api_server=url) as client:
        message, _status = await client.create_store(
            file_hash=cid, storage_engine=StorageEnum.ipfs, channel="IPFS-IT", sync=False
        )
    print(message.item_hash)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

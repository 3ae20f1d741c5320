"""The official Python SDK (aleph-sdk-python) driving a fresh aleph-node.

Expects ``ALEPH_NODE_BIN``: the path of a built ``aleph-node`` binary (the Rust test
``aleph-node/tests/it/python_interop.rs`` passes it). One node is started for the whole module on a
free loopback port with a temporary data directory; its funded dev accounts
(``<data-dir>/dev-accounts.json``) are loaded as SDK accounts for ETH, SOL and TEZOS.

Every test uses its own channel or keys, so they are independent on the shared node. The tests are
plain functions running their coroutine with ``asyncio.run``: no asyncio plugin is needed.

The aleph-client CLI tests run only when the ``aleph`` command is found (``ALEPH_CLI``, else on
``PATH``): aleph-client pins an older aleph-sdk-python than the one this suite is pinned to, so it
cannot share its environment and is not in requirements.txt; install it in a separate venv and
point ``ALEPH_CLI`` at its ``bin/aleph``.
"""

import asyncio
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from aleph.sdk.chains.ethereum import ETHAccount
from aleph.sdk.chains.solana import SOLAccount
from aleph.sdk.chains.tezos import TezosAccount
from aleph.sdk.client import AlephHttpClient, AuthenticatedAlephHttpClient
from aleph.sdk.exceptions import (
    ForgottenMessageError,
    InvalidMessageError,
    MessageNotFoundError,
)
from aleph.sdk.query.filters import AddressesFilter, MessageFilter, PostFilter
from aleph.sdk.types import StorageEnum
from aleph_message.models import (
    AggregateMessage,
    Chain,
    ForgetMessage,
    ItemType,
    MessageType,
    Payment,
    PaymentType,
    PostMessage,
    StoreMessage,
)
from aleph_message.status import MessageStatus

NODE_BIN = os.environ.get("ALEPH_NODE_BIN")

pytestmark = pytest.mark.skipif(
    not NODE_BIN, reason="set ALEPH_NODE_BIN to a built aleph-node binary"
)

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A running aleph-node process and its dev accounts."""

    def __init__(self, binary: str, config: str = ""):
        self.dir = Path(tempfile.mkdtemp(prefix="aleph-node-interop-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(self.dir / "node.log", "wb")
        extra = []
        if config:
            (self.dir / "node.toml").write_text(config)
            extra = ["--config", str(self.dir / "node.toml")]
        self.proc = subprocess.Popen(
            [
                binary,
                *extra,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--data-dir",
                str(self.dir / "data"),
                "--role",
                "both",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v0/version", timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"aleph-node did not start: {self.logs()}")
                time.sleep(0.05)
        accounts = json.loads((self.dir / "data" / "dev-accounts.json").read_text())
        self.accounts = accounts["accounts"]

    def account(self, chain: str, index: int = 0):
        entry = [a for a in self.accounts if a["chain"] == chain][index]
        key = bytes.fromhex(entry["private_key_hex"])
        cls = {"ETH": ETHAccount, "SOL": SOLAccount, "TEZOS": TezosAccount}[chain]
        return cls(key), entry["address"]

    def logs(self) -> str:
        self.log.flush()
        return (self.dir / "node.log").read_text(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def node():
    n = Node(NODE_BIN)
    yield n
    n.stop()


VM_ASSETS = os.environ.get("ALEPH_VM_ASSETS")


@pytest.fixture(scope="module")
def vm_node():
    """A node whose CRN runs programs in QEMU micro-VMs (the assets scripts/vm-assets builds)."""
    config = '[crn]\nexecutor = "microvm"\nvm_assets = %s\nstart_timeout_secs = 120.0\n' % json.dumps(VM_ASSETS)
    n = Node(NODE_BIN, config)
    yield n
    n.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=60))


def channel() -> str:
    return f"INTEROP-{uuid.uuid4().hex[:12]}"


async def wait_status(client, item_hash, wanted, timeout=15.0):
    deadline = time.time() + timeout
    while True:
        status = await client.get_message_status(item_hash)
        if status == wanted:
            return
        assert time.time() < deadline, f"{item_hash} stuck at {status}, wanted {wanted}"
        await asyncio.sleep(0.05)


CHAINS = ["ETH", "SOL", "TEZOS"]


def test_sdk_accounts_have_the_dev_account_addresses(node):
    for chain in CHAINS:
        for i in range(5):
            account, address = node.account(chain, i)
            assert account.get_address() == address
            assert account.CHAIN == chain


@pytest.mark.parametrize("chain", CHAINS)
def test_create_post_and_read_it_back(node, chain):
    account, address = node.account(chain)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            message, status = await client.create_post(
                {"body": f"hello from {chain}", "n": 1},
                post_type="interop",
                channel=ch,
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
            assert isinstance(message, PostMessage)
            got = await client.get_message(message.item_hash)
            assert got.item_hash == message.item_hash
            assert got.sender == address
            assert got.content.content == {"body": f"hello from {chain}", "n": 1}
            got, status = await client.get_message(
                message.item_hash, message_type=PostMessage, with_status=True
            )
            assert status == "processed"
            assert await client.get_message_status(message.item_hash) == MessageStatus.PROCESSED
            assert await client.get_message_error(message.item_hash) is None

            messages = await client.get_messages(
                message_filter=MessageFilter(channels=[ch], chains=[chain])
            )
            assert [m.item_hash for m in messages.messages] == [message.item_hash]
            assert messages.pagination_total == 1

            posts = await client.get_posts(post_filter=PostFilter(channels=[ch]))
            assert len(posts.posts) == 1
            post = posts.posts[0]
            assert post.item_hash == message.item_hash
            assert post.content == {"body": f"hello from {chain}", "n": 1}
            assert post.sender == address and post.type == "interop"

            # A resubmission of a processed message answers at once.
            start = time.time()
            again, status = await client._broadcast(message=message, sync=True)
            assert status == MessageStatus.PROCESSED
            assert time.time() - start < 5

    run(go())


def test_large_post_content_goes_through_storage(node):
    account, _ = node.account("ETH", 1)
    ch = channel()
    body = {"blob": "x" * 60_000}

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            for engine, item_type in [
                (StorageEnum.storage, ItemType.storage),
                (StorageEnum.ipfs, ItemType.ipfs),
            ]:
                message, status = await client.create_post(
                    body, post_type="big", channel=ch, storage_engine=engine, sync=True
                )
                assert status == MessageStatus.PROCESSED
                assert message.item_type == item_type
                got = await client.get_message(message.item_hash)
                assert got.content.content == body

    run(go())


def test_amend(node):
    account, _ = node.account("SOL", 1)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            original, _ = await client.create_post(
                {"v": 1}, post_type="doc", channel=ch, sync=True
            )
            amend, status = await client.create_post(
                {"v": 2}, post_type="amend", ref=original.item_hash, channel=ch, sync=True
            )
            assert status == MessageStatus.PROCESSED
            posts = await client.get_posts(post_filter=PostFilter(channels=[ch]))
            assert len(posts.posts) == 1
            post = posts.posts[0]
            assert post.content == {"v": 2}
            assert post.item_hash == amend.item_hash
            assert post.original_item_hash == original.item_hash
            assert post.original_type == "doc"
            # An amend of an amend is rejected (102).
            message, status, _ = await client.submit(
                content={
                    "address": account.get_address(),
                    "time": time.time(),
                    "type": "amend",
                    "ref": amend.item_hash,
                    "content": {"v": 3},
                },
                message_type=MessageType.post,
                channel=ch,
                sync=True,
                raise_on_rejected=False,
            )
            assert status == MessageStatus.REJECTED
            error = await client.get_message_error(message.item_hash)
            assert error["error_code"] == 102
            # An amend whose original is unknown stays pending (101 is retried).
            pending, status = await client.create_post(
                {"v": 1},
                post_type="amend",
                ref="0" * 64,
                channel=ch,
                sync=False,
            )
            assert status == MessageStatus.PENDING
            await asyncio.sleep(0.3)
            assert await client.get_message_status(pending.item_hash) == MessageStatus.PENDING

    run(go())


def test_aggregates_merge(node):
    account, address = node.account("TEZOS", 1)
    key = f"settings-{uuid.uuid4().hex[:8]}"

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            m1, status = await client.create_aggregate(
                key, {"a": 1, "b": {"x": 1}}, channel=channel(), sync=True
            )
            assert status == MessageStatus.PROCESSED
            assert isinstance(m1, AggregateMessage)
            await asyncio.sleep(0.01)
            await client.create_aggregate(key, {"b": {"y": 2}, "c": 3}, sync=True)
            await client.create_aggregate("other", {"z": True}, sync=True)
            merged = await client.fetch_aggregate(address, key)
            assert merged == {"a": 1, "b": {"y": 2}, "c": 3}
            both = await client.fetch_aggregates(address, keys=[key, "other"])
            assert both == {key: merged, "other": {"z": True}}
            assert await client.get_aggregate(address, "missing-key") is None
            assert await client.get_aggregates(address, keys=["missing-key"]) is None
            every = await client.get_aggregates(address)
            assert set(every) >= {key, "other"}
            listed = await client.list_aggregates(keys=[key], addresses=[address])
            assert len(listed.aggregates) == 1
            assert listed.aggregates[0]["content"] == merged
            assert listed.aggregates[0]["address"] == address

    run(go())


@pytest.mark.parametrize("engine", [StorageEnum.storage, StorageEnum.ipfs])
def test_create_store_and_download(node, engine):
    account, address = node.account("ETH", 2)
    data = f"file for {engine.value} {uuid.uuid4()}\n".encode() * 100

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            message, status = await client.create_store(
                file_content=data, storage_engine=engine, channel=channel(), sync=True
            )
            assert status == MessageStatus.PROCESSED
            assert isinstance(message, StoreMessage)
            file_hash = message.content.item_hash
            assert await client.download_file(file_hash) == data
            got = await client.get_message(message.item_hash, message_type=StoreMessage)
            assert got.content.item_hash == file_hash
            stored = await client.get_stored_content(message.item_hash)
            assert stored.error is None and stored.hash == file_hash
            files = await client.get_account_files(address)
            assert file_hash in [f.file_hash for f in files.files]
            # Unauthenticated pushes.
            if engine == StorageEnum.storage:
                pushed = await client.storage_push_file(b"pushed bytes")
                assert await client.download_file(pushed) == b"pushed bytes"
                doc = await client.storage_push({"b": 1, "a": [2]})
            else:
                pushed = await client.ipfs_push_file(b"pushed bytes")
                assert pushed.startswith("Qm")
                assert await client.download_file(pushed) == b"pushed bytes"
                doc = await client.ipfs_push({"b": 1, "a": [2]})
            assert json.loads(await client.download_file(doc)) == {"a": [2], "b": 1}
            # A STORE of an already uploaded file, by hash.
            by_hash, status = await client.create_store(
                file_hash=pushed, storage_engine=engine, sync=True
            )
            assert status == MessageStatus.PROCESSED

    run(go())


def test_forget(node):
    account, address = node.account("SOL", 2)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            post, _ = await client.create_post({"secret": 1}, post_type="tmp", channel=ch, sync=True)
            store, _ = await client.create_store(file_content=b"forget me", channel=ch, sync=True)
            forget, status = await client.forget(
                [post.item_hash, store.item_hash], reason="interop", channel=ch, sync=True
            )
            assert status == MessageStatus.PROCESSED
            assert isinstance(forget, ForgetMessage)
            with pytest.raises(ForgottenMessageError):
                await client.get_message(post.item_hash)
            with pytest.raises(ForgottenMessageError):
                await client.get_message_error(store.item_hash)
            assert await client.get_message_status(post.item_hash) == MessageStatus.FORGOTTEN
            posts = await client.get_posts(post_filter=PostFilter(channels=[ch]))
            assert posts.posts == []
            # Forgetting a FORGET is rejected (502).
            message, status, _ = await client.submit(
                content={
                    "address": address,
                    "time": time.time(),
                    "hashes": [forget.item_hash],
                },
                message_type=MessageType.forget,
                channel=ch,
                sync=True,
                raise_on_rejected=False,
            )
            assert status == MessageStatus.REJECTED
            assert (await client.get_message_error(message.item_hash))["error_code"] == 502

    run(go())


def test_rejections_are_reported_with_their_code(node):
    (owner, owner_address), (other, _) = node.account("ETH", 3), node.account("TEZOS", 3)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(other, api_server=node.url) as client:
            # Posting for someone else: 422, raised by create_post…
            with pytest.raises(InvalidMessageError):
                await client.create_post(
                    {"x": 1}, post_type="t", address=owner_address, channel=ch, sync=True
                )
            # …and readable through get_message_error.
            message, status, _ = await client.submit(
                content={"address": owner_address, "time": time.time(), "type": "t", "content": {}},
                message_type=MessageType.post,
                channel=ch,
                sync=True,
                raise_on_rejected=False,
            )
            assert status == MessageStatus.REJECTED
            error = await client.get_message_error(message.item_hash)
            assert error["error_code"] == 2, error
            assert await client.get_message_status(message.item_hash) == MessageStatus.REJECTED
            # Content the node refuses (an escaped NUL): code 0.
            message, status, _ = await client.submit(
                content={
                    "address": other.get_address(),
                    "time": time.time(),
                    "type": "t",
                    "content": {"text": "a\u0000b"},
                },
                message_type=MessageType.post,
                channel=ch,
                sync=True,
                raise_on_rejected=False,
            )
            assert status == MessageStatus.REJECTED
            assert (await client.get_message_error(message.item_hash))["error_code"] == 0
            with pytest.raises(MessageNotFoundError):
                await client.get_message("0" * 64)
            with pytest.raises(MessageNotFoundError):
                await client.get_message_status("0" * 64)

    run(go())


def test_delegation_through_the_security_aggregate(node):
    (owner, owner_address), (delegate, delegate_address) = (
        node.account("ETH", 4),
        node.account("SOL", 4),
    )
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(owner, api_server=node.url) as client:
            _, status = await client.create_aggregate(
                "security",
                {"authorizations": [{"address": delegate_address, "types": ["POST"]}]},
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
        async with AuthenticatedAlephHttpClient(delegate, api_server=node.url) as client:
            message, status = await client.create_post(
                {"on behalf": True},
                post_type="delegated",
                address=owner_address,
                channel=ch,
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
            posts = await client.get_posts(post_filter=PostFilter(addresses=[owner_address], channels=[ch]))
            assert [p.item_hash for p in posts.posts] == [message.item_hash]
            assert posts.posts[0].sender == owner_address
            # Not authorized for aggregates.
            message, status, _ = await client.submit(
                content={"address": owner_address, "time": time.time(), "key": "k", "content": {}},
                message_type=MessageType.aggregate,
                channel=ch,
                sync=True,
                raise_on_rejected=False,
            )
            assert status == MessageStatus.REJECTED
            assert (await client.get_message_error(message.item_hash))["error_code"] == 2

    run(go())


def test_iterators_and_cursor_pages(node):
    account, address = node.account("TEZOS", 2)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            hashes = []
            for i in range(7):
                m, _ = await client.create_post({"i": i}, post_type="it", channel=ch, sync=True)
                hashes.append(m.item_hash)
            f = MessageFilter(channels=[ch])
            seen = []
            cursor = ""
            while True:
                page = await client.get_messages_cursor(page_size=3, cursor=cursor, message_filter=f)
                seen += [m.item_hash for m in page.messages]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
            assert sorted(seen) == sorted(hashes) and len(seen) == 7
            assert [m.item_hash async for m in client.get_messages_iterator(message_filter=f)] == seen
            posts = [p async for p in client.get_posts_iterator(post_filter=PostFilter(channels=[ch]))]
            assert sorted(p.item_hash for p in posts) == sorted(hashes)
            page2 = await client.get_messages(page_size=3, page=3, message_filter=f)
            assert len(page2.messages) == 1 and page2.pagination_total == 7
            posts_page = await client.get_posts(page_size=5, page=2, post_filter=PostFilter(channels=[ch]))
            assert len(posts_page.posts) == 2
            # Address stats count these posts.
            stats = await client.get_address_stats(filter=AddressesFilter(address_contains=address[-12:]))
            assert stats.data[address].post >= 7

    run(go())


def test_watch_messages(node):
    account, _ = node.account("ETH", 0)
    ch = channel()

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            before, _ = await client.create_post({"n": 0}, post_type="ws", channel=ch, sync=True)
            received = []

            async def watch():
                async for m in client.watch_messages(MessageFilter(channels=[ch])):
                    received.append(m)
                    if len(received) == 2:
                        return

            task = asyncio.create_task(watch())
            await asyncio.sleep(0.5)
            after, _ = await client.create_post({"n": 1}, post_type="ws", channel=ch, sync=True)
            await asyncio.wait_for(task, timeout=10)
            assert [m.item_hash for m in received] == [before.item_hash, after.item_hash]
            assert received[1].content.content == {"n": 1}

    run(go())


def test_balances(node):
    account, address = node.account("ETH", 0)

    async def go():
        async with AlephHttpClient(api_server=node.url) as client:
            balance = await client.get_balances(address)
            assert balance.address == address
            assert balance.balance > 0
            assert balance.credit_balance > 0
            chains = await client.get_chain_balances(page_size=100)
            assert address in [b.address for b in chains.balances]
            history = await client.get_credit_history(address)
            assert history.address == address and len(history.credit_history) >= 1

    run(go())


def _program_payment():
    return Payment(chain=Chain.ETH, type=PaymentType.hold, receiver=None)


def test_create_program_and_instance(node):
    account, address = node.account("ETH", 1)

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            code, _ = await client.create_store(file_content=b"PK\x05\x06" + b"\0" * 18, sync=True)
            runtime, _ = await client.create_store(file_content=b"runtime squashfs", sync=True)
            program, status = await client.create_program(
                program_ref=code.item_hash,
                entrypoint="main:app",
                runtime=runtime.item_hash,
                payment=_program_payment(),
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
            got = await client.get_message(program.item_hash)
            assert got.type == MessageType.program
            rootfs, _ = await client.create_store(file_content=b"rootfs image", sync=True)
            instance, status = await client.create_instance(
                rootfs=rootfs.item_hash,
                rootfs_size=20480,
                payment=Payment(chain=Chain.ETH, type=PaymentType.credit, receiver=None),
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
            got = await client.get_message(instance.item_hash)
            assert got.type == MessageType.instance
            price = await client.get_program_price(program.item_hash)
            assert price.payment_type == "hold" and float(price.required_tokens) > 0
            estimate = await client.get_store_estimated_price(storage_size_mib=100)
            assert float(estimate.required_tokens) >= 0

    run(go())


PROGRAM_SOURCE = b"""
import json, os

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            event = await receive()
            await send({"type": event["type"] + ".complete"})
            if event["type"] == "lifespan.shutdown":
                return
    print("request", scope["path"], flush=True)
    await receive()
    await send({"type": "http.response.start", "status": 200,
                "headers": [[b"content-type", b"application/json"]]})
    body = json.dumps({"from": "the program", "kernel": os.uname().release})
    await send({"type": "http.response.body", "body": body.encode()})
"""


def _program_flow(node, in_vm):
    """The SDK's defaults (runtime, zip code) run on the node's CRN; its VmClient's signed
    operations read the logs and stop the program. The program reports its kernel: the host's
    in a sandbox, the guest's own in a micro-VM."""
    import io
    import platform
    import zipfile

    from aleph.sdk.client.vm_client import VmClient
    from aleph.sdk.conf import settings

    account, address = node.account("ETH", 2)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("main.py", PROGRAM_SOURCE)

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            code, _ = await client.create_store(file_content=archive.getvalue(), sync=True)
            program, status = await client.create_program(
                program_ref=code.item_hash,
                entrypoint="main:app",
                runtime=settings.DEFAULT_RUNTIME_ID,
                payment=_program_payment(),
                sync=True,
            )
            assert status == MessageStatus.PROCESSED
        url = f"{node.url}/vm/{program.item_hash}/hello"
        answer = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=50))
        with answer as resp:
            assert resp.status == 200
            body = json.loads(resp.read())
            assert body["from"] == "the program"
            if in_vm:
                assert body["kernel"] != platform.release(), body
            else:
                assert body["kernel"] == platform.release(), body
            assert resp.headers["Aleph-Program-ItemHash"] == program.item_hash
        async with VmClient(account, node.url) as vm:
            async with vm.operate(vm_id=program.item_hash, operation="logs", method="GET") as resp:
                assert resp.status == 200, await resp.text()
                logs = await resp.json()
            assert any(line["MESSAGE"] == "request /hello" for line in logs), logs
            status, text = await vm.stop_instance(program.item_hash)
            assert status == 200, text
        async with VmClient(node.account("ETH", 3)[0], node.url) as stranger:
            status, text = await stranger.reboot_instance(program.item_hash)
            assert status in (403, 404), text

    run(go())


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="the CRN needs bubblewrap")
def test_program_runs_on_the_crn_and_vm_client_operates_it(node):
    _program_flow(node, in_vm=False)


@pytest.mark.skipif(not VM_ASSETS, reason="set ALEPH_VM_ASSETS to the micro-VM guest assets (scripts/vm-assets)")
def test_program_runs_in_a_micro_vm_and_vm_client_operates_it(vm_node):
    _program_flow(vm_node, in_vm=True)


def test_estimated_price(node):
    account, _ = node.account("SOL", 3)

    async def go():
        async with AuthenticatedAlephHttpClient(account, api_server=node.url) as client:
            code, _ = await client.create_store(file_content=b"estimate code", sync=True)
            content = {
                "address": account.get_address(),
                "time": time.time(),
                "type": "vm-function",
                "allow_amend": False,
                "on": {"http": True, "persistent": False},
                "environment": {"reproducible": False, "internet": False, "aleph_api": False, "shared_cache": False},
                "resources": {"vcpus": 1, "memory": 2048, "seconds": 30},
                "runtime": {"ref": code.item_hash, "use_latest": True, "comment": ""},
                "volumes": [],
                "variables": {},
                "payment": {"chain": "ETH", "type": "hold"},
                "code": {"encoding": "zip", "entrypoint": "main:app", "ref": code.item_hash, "use_latest": True},
            }
            message = await client.generate_signed_message(MessageType.program, content, channel="X")
            price = await client.get_estimated_price(content=message.content)
            assert float(price.required_tokens) > 0

    run(go())


# ------------------------------------------------------------------------------- the aleph CLI

ALEPH_CLI = os.environ.get("ALEPH_CLI") or shutil.which("aleph")


def _cli(node, *args: str) -> subprocess.CompletedProcess:
    """Runs the CLI against the node (its settings read ALEPH_API_HOST), with a fresh home so no
    local configuration or key file is used."""
    home = tempfile.mkdtemp(prefix="aleph-cli-")
    env = {**os.environ, "ALEPH_API_HOST": node.url, "HOME": home, "NO_COLOR": "1"}
    return subprocess.run(
        [ALEPH_CLI, *args], env=env, capture_output=True, text=True, timeout=60
    )


needs_cli = pytest.mark.skipif(
    ALEPH_CLI is None,
    reason="the aleph CLI (aleph-client) is not installed: it pins an older aleph-sdk-python",
)


def _eth_entry(node, index):
    return [a for a in node.accounts if a["chain"] == "ETH"][index]


@needs_cli
def test_cli_post_aggregate_and_file(node):
    entry = _eth_entry(node, 2)
    hex_key, address = entry["private_key_hex"], entry["address"]
    ch = channel()
    home = Path(tempfile.mkdtemp(prefix="aleph-cli-files-"))
    content = home / "content.json"
    content.write_text(json.dumps({"from": "cli"}))
    out = _cli(node, "message", "post", "--path", str(content), "--type", "cli-test",
               "--channel", ch, "--private-key", hex_key)
    assert out.returncode == 0, out.stderr + out.stdout

    async def check_post():
        async with AlephHttpClient(api_server=node.url) as client:
            deadline = time.time() + 15
            while True:
                posts = await client.get_posts(post_filter=PostFilter(channels=[ch]))
                if posts.posts:
                    assert posts.posts[0].content == {"from": "cli"}
                    assert posts.posts[0].sender == address
                    return
                assert time.time() < deadline, out.stdout
                await asyncio.sleep(0.1)

    run(check_post())
    out = _cli(node, "aggregate", "post", "cli-key", json.dumps({"x": 1}),
               "--private-key", hex_key)
    assert out.returncode == 0, out.stderr + out.stdout

    async def check_aggregate():
        async with AlephHttpClient(api_server=node.url) as client:
            deadline = time.time() + 15
            while (agg := await client.get_aggregate(address, "cli-key")) is None:
                assert time.time() < deadline
                await asyncio.sleep(0.1)
            assert agg == {"x": 1}

    run(check_aggregate())
    data = home / "upload.bin"
    data.write_bytes(b"uploaded by the CLI\n")
    out = _cli(node, "file", "upload", str(data), "--private-key", hex_key)
    assert out.returncode == 0, out.stderr + out.stdout

    async def check_file():
        async with AlephHttpClient(api_server=node.url) as client:
            files = await client.get_account_files(address)
            hashes = [f.file_hash for f in files.files]
            assert hashlib.sha256(b"uploaded by the CLI\n").hexdigest() in hashes

    run(check_file())

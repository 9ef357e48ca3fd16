"""The extractor's JSON-RPC client against a real anvil node, through a real fault-injecting proxy.

The oracle is a clean run with the seeder's plain `requests` client (an independent implementation): every
fault script must end in exactly the same results.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from email.utils import formatdate
from typing import Any

import pytest
from fault_proxy import FAULTS, SECRET, FaultProxy

from devnet.jsonrpc import JsonRpc
from devnet.node import NodeInfo, stop_node
from devnet.seeder import seed_chain
from extract.rpc_client import RpcClient, RpcError, RpcStats, RpcUnavailable, redact_url

pytestmark = pytest.mark.timeout(120)

Calls = list[tuple[str, list]]
# Small timeouts and backoffs keep the file fast; the proxy stalls for longer than the client waits.
FAST: dict[str, Any] = {"timeout": 1.5, "backoff_base": 0.01, "backoff_max": 0.1, "concurrency": 4}
STALL = 2.5
# "lagging" is well-formed JSON-RPC from a node behind the head: the extractor handles it, not this client.
TRANSPORT_FAULTS = FAULTS - {"lagging"}


@pytest.fixture(scope="module")
def node(start_devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeInfo]:
    info = start_devnet(chain_id=31341)
    seed_chain(info.url, "tiny", 5, tmp_path_factory.mktemp("rpc-client-tiny"))
    yield info
    stop_node(info)


@pytest.fixture(scope="module")
def workload(node: NodeInfo) -> Calls:
    rpc = JsonRpc(node.url)
    head = int(rpc.call("eth_blockNumber"), 16)
    rpc.close()
    calls: Calls = []
    for n in range(head + 1):
        calls += [("eth_getBlockByNumber", [hex(n), True]), ("eth_getBlockReceipts", [hex(n)])]
    return calls


@pytest.fixture(scope="module")
def expected(node: NodeInfo, workload: Calls) -> list[Any]:
    rpc = JsonRpc(node.url)
    results = [r for i in range(0, len(workload), 100) for r in rpc.batch(workload[i : i + 100])]
    rpc.close()
    # The comparisons below mean something only if there is a real history to get wrong.
    assert sum(len(r["transactions"]) for r in results[0::2]) > 1000
    assert sum(len(r) for r in results[1::2]) > 1000
    return results


def fetch(url: str, calls: Sequence[tuple[str, list]], **options: Any) -> tuple[list[Any], RpcStats, float]:
    async def run() -> tuple[list[Any], RpcStats, float]:
        async with RpcClient(url, **{**FAST, **options}) as client:
            start = time.monotonic()
            results = await client.batch(calls)
            return results, client.stats, time.monotonic() - start

    return asyncio.run(run())


def test_redact_url_keeps_only_scheme_host_and_port() -> None:
    assert (
        redact_url("https://eth-mainnet.example.com/v2/SECRET?key=x") == "https://eth-mainnet.example.com/…"
    )
    assert redact_url("https://user:pass@node.example.com:8545/") == "https://node.example.com:8545"
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert redact_url("wss://[::1]:8546/ws#frag") == "wss://[::1]:8546/…"
    assert redact_url("http://node.example.com?apikey=SECRET") == "http://node.example.com/…"
    assert redact_url("not a url SECRET") == "<unparseable url>"


def test_clean_run_through_the_proxy_matches_and_respects_concurrency(
    node: NodeInfo, workload: Calls, expected: list[Any]
) -> None:
    with FaultProxy(node.url) as proxy:
        results, stats, _ = fetch(proxy.url, workload, max_batch=10, concurrency=3)
    assert results == expected
    assert stats.retries == 0 and stats.calls == len(workload)
    assert stats.requests == proxy.requests == -(-len(workload) // 10)
    assert 2 <= proxy.max_in_flight <= 3


@pytest.mark.parametrize("fault", sorted(TRANSPORT_FAULTS - {"pass"}))
def test_each_fault_is_survived_with_identical_results(
    node: NodeInfo, workload: Calls, expected: list[Any], fault: str
) -> None:
    with FaultProxy(node.url, [fault, fault], stall_seconds=STALL) as proxy:
        results, stats, _ = fetch(proxy.url, workload)
    assert proxy.log[:3] == [fault, fault, "pass"]
    assert results == expected
    if fault == "shuffle":
        # Answers in any order are valid: matched by id, never retried.
        assert stats.retries == 0 and stats.malformed == 0
        return
    assert stats.retries >= 2
    counter = {
        "429": "http_errors",
        "500": "http_errors",
        "503": "http_errors",
        "stall": "timeouts",
        "drop": "connection_errors",
        "truncate": "malformed",
        "garbage": "malformed",
        "wrong_ids": "malformed",
        "not_list": "malformed",
    }[fault]
    assert getattr(stats, counter) == 2
    # Every failure but a rate limit halves the batch size (once for one wave of concurrent failures).
    assert stats.min_batch_size_seen == (100 if fault == "429" else 50)


def test_single_calls_survive_faults_too(node: NodeInfo, expected: list[Any]) -> None:
    async def run(url: str) -> tuple[Any, RpcStats]:
        async with RpcClient(url, **FAST) as client:
            return await client.call("eth_getBlockByNumber", ["0x5", True]), client.stats

    with FaultProxy(node.url, ["wrong_ids", "garbage", "truncate"]) as proxy:
        block, stats = asyncio.run(run(proxy.url))
    assert block == expected[10]
    assert proxy.sizes[:4] == [1, 1, 1, 1]
    assert stats.malformed == 3 and stats.requests == 4


def test_mixed_script_of_every_fault(node: NodeInfo, workload: Calls, expected: list[Any]) -> None:
    script = [
        "shuffle",
        "429",
        "500",
        "drop",
        "503",
        "truncate",
        "garbage",
        "wrong_ids",
        "stall",
        "wrong_ids",
    ]
    script += ["pass", "shuffle", "drop", "not_list", "garbage"]
    with FaultProxy(node.url, script, stall_seconds=STALL) as proxy:
        results, stats, _ = fetch(proxy.url, workload)
    assert set(proxy.log[: len(script)]) == TRANSPORT_FAULTS
    assert results == expected
    assert stats.retries == len(script) - 3  # all but "pass" and the two "shuffle"
    assert stats.calls == len(workload)


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_retry_after_is_honoured(node: NodeInfo, workload: Calls, expected: list[Any], form: str) -> None:
    # With these backoffs a retry would come within 0.1 s; the header asks for at least 1 s.
    retry_after, at_least = (
        ("1", 1.0) if form == "seconds" else (formatdate(time.time() + 2.5, usegmt=True), 1.2)
    )
    with FaultProxy(node.url, ["429"], retry_after=retry_after) as proxy:
        results, stats, elapsed = fetch(proxy.url, workload[:50], concurrency=1)
    assert results == expected[:50]
    assert proxy.log == ["429", "pass"] and stats.http_errors == 1
    assert elapsed >= at_least


def test_batch_size_halves_on_failures_and_grows_back(
    node: NodeInfo, workload: Calls, expected: list[Any]
) -> None:
    with FaultProxy(node.url, ["500", "500"]) as proxy:
        results, stats, _ = fetch(proxy.url, workload, concurrency=1, max_batch=8)
    assert results == expected
    # The failed calls are re-split at the new size: 8, then 4, then 2 ...
    assert proxy.sizes[:3] == [8, 4, 2]
    # ... and 10 successes in a row grow it by 25% (at least 1) up to max_batch.
    assert proxy.sizes[2:13] == [2] * 10 + [3]
    assert stats.min_batch_size_seen == 2
    assert stats.batch_size_now == 8 and max(proxy.sizes) == 8


def test_node_restart_mid_run(node: NodeInfo, workload: Calls, expected: list[Any]) -> None:
    async def run(proxy: FaultProxy) -> tuple[list[Any], RpcStats, float, int]:
        options = {**FAST, "concurrency": 2, "max_batch": 20, "max_attempts": 30, "backoff_max": 0.5}
        async with RpcClient(proxy.url, **options) as client:
            task = asyncio.create_task(client.batch(workload))
            while proxy.requests < 5:
                await asyncio.sleep(0.002)
            assert not task.done()
            start = time.monotonic()
            await asyncio.to_thread(proxy.down, 2.0)
            answered_before = proxy.requests
            results = await task
            return results, client.stats, time.monotonic() - start, answered_before

    with FaultProxy(node.url) as proxy:
        results, stats, elapsed, answered_before = asyncio.run(run(proxy))
    assert results == expected
    assert stats.connection_errors >= 1 and stats.retries >= 1
    assert elapsed >= 2.0
    assert proxy.requests > answered_before  # the work finished on the restarted "node"


def test_unknown_method_raises_rpc_error_without_retrying(node: NodeInfo) -> None:
    async def run(url: str) -> tuple[RpcError, RpcError, str, RpcStats]:
        async with RpcClient(url, **FAST) as client:
            with pytest.raises(RpcError) as in_batch:
                await client.batch([("eth_blockNumber", []), ("eth_noSuchMethod", [1]), ("eth_chainId", [])])
            with pytest.raises(RpcError) as single:
                await client.call("eth_noSuchMethod", [])
            return in_batch.value, single.value, await client.call("eth_chainId", []), client.stats

    with FaultProxy(node.url) as proxy:
        in_batch, single, chain_id, stats = asyncio.run(run(proxy.url))
    for error in (in_batch, single):
        assert error.method == "eth_noSuchMethod" and error.code == -32601
        assert "eth_noSuchMethod" in str(error) and "-32601" in str(error)
    assert stats.retries == 0 and proxy.requests == 3
    assert int(chain_id, 16) == node.chain_id  # the client is still usable


def test_waiting_requests_go_out_by_priority(node: NodeInfo) -> None:
    """With one connection busy, a later request of lower priority number is sent before an earlier one."""

    async def run(url: str) -> list[str]:
        done: list[str] = []
        async with RpcClient(url, concurrency=1) as client:

            async def ask(name: str, priority: int) -> None:
                await client.batch([("eth_getBlockByNumber", ["0x1", True])], priority=priority)
                done.append(name)

            first = asyncio.create_task(ask("holds the connection", 5))
            await asyncio.sleep(0)  # it takes the only slot
            await asyncio.gather(first, ask("asked early, priority 9", 9), ask("asked late, priority 1", 1))
        return done

    assert asyncio.run(run(node.url)) == [
        "holds the connection",
        "asked late, priority 1",
        "asked early, priority 9",
    ]


def test_typed_results_that_do_not_fit_are_retried_as_malformed(node: NodeInfo) -> None:
    """A result missing a field the extractor needs is a malformed answer: asked again, never returned."""
    from extract.rpc_types import Block

    async def run(url: str) -> RpcUnavailable:
        async with RpcClient(url, max_attempts=2, backoff_base=0.01) as client:
            with pytest.raises(RpcUnavailable) as info:
                # eth_getBlockByNumber(n, false) lists transaction hashes, not transaction objects.
                await client.batch([("eth_getBlockByNumber", ["0x1", False])], Block)
            assert (await client.batch([("eth_getBlockByNumber", ["0x1", True])], Block))[0].number == "0x1"
            assert client.stats.malformed == 2
            return info.value

    error = asyncio.run(run(node.url))
    assert "expected shape" in str(error) and "transactions" in str(error)


def test_rpc_unavailable_after_max_attempts(node: NodeInfo, workload: Calls) -> None:
    with FaultProxy(node.url) as proxy:
        proxy.down(60)  # longer than the retries last
        with pytest.raises(RpcUnavailable) as info:
            fetch(proxy.url, workload[:10], max_attempts=4, backoff_base=0.01, backoff_max=0.05)
        assert proxy.requests == 0
    assert info.value.attempts == 4
    assert "eth_getBlockByNumber" in str(info.value) and "connection failed" in str(info.value)


def test_requests_per_second_limits_calls(node: NodeInfo, workload: Calls, expected: list[Any]) -> None:
    # 400 calls/s with a one-second burst: 600 calls need at least 0.5 s.
    results, _, elapsed = fetch(node.url, workload[:600], max_batch=50, requests_per_second=400)
    assert results == expected[:600]
    assert 0.5 <= elapsed < 5


def test_the_secret_in_the_url_never_leaks(
    node: NodeInfo, workload: Calls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []

    async def collect(url: str, calls: Calls, **options: Any) -> None:
        async with RpcClient(url, **{**FAST, **options}) as client:
            assert SECRET not in repr(client)
            try:
                await client.batch(calls)
            except (RpcError, RpcUnavailable) as error:
                raised.append(error)

    script = ["stall", "drop", "garbage", "truncate", "500", "wrong_ids", "503", "429", "not_list"]
    with FaultProxy(node.url, script, stall_seconds=STALL) as proxy:
        for fault in script:  # each one is the last problem of a call that gives up
            asyncio.run(collect(proxy.url, workload[:4], max_attempts=1, concurrency=1))
            assert proxy.log[-1] == fault
        asyncio.run(collect(proxy.url, [("eth_noSuchMethod", [])]))
        proxy.down(60)
        asyncio.run(collect(proxy.url, workload[:4], max_attempts=3))
        safe = f"127.0.0.1:{proxy.port}/…"

    assert len(raised) == len(script) + 2
    for error in raised:
        text = "".join(traceback.format_exception(error))  # includes any chained exception
        assert SECRET not in text and "/v3/" not in text
        assert error.__cause__ is None and error.__context__ is None
    assert any(safe in str(error) for error in raised)
    records = [logging.Formatter().format(record) for record in caplog.records]
    assert any(safe in line for line in records)  # the logs do name the node, redacted
    assert not [line for line in records if SECRET in line or "/v3/" in line]

"""devnet/jsonrpc.py, the seeder's client for our own anvil, against real nodes: answers in call order, node
errors raised with the method's name, and a node restarted on the same port answering the next call (the
kept-alive connection to the old node is dead; the client opens a new one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from devnet.jsonrpc import JsonRpc, RpcError
from devnet.node import start_node, stop_node


def test_batches_errors_and_a_node_restarted_on_the_same_port(tmp_path: Path) -> None:
    first = start_node(chain_id=31337, log_path=tmp_path / "first.log", die_with_parent=True)
    second = None
    rpc = JsonRpc(first.url)
    try:
        assert rpc.batch([("eth_blockNumber", []), ("eth_chainId", [])]) == ["0x0", hex(31337)]
        assert rpc.call("evm_mine", []) == "0x0"
        assert rpc.call("eth_blockNumber") == "0x1"
        with pytest.raises(RpcError, match="^eth_getBalance: "):
            rpc.call("eth_getBalance", ["not an address", "latest"])
        stop_node(first)
        with pytest.raises(ConnectionError):  # nothing listens: refused, not a hang or a half answer
            rpc.call("eth_chainId")
        second = start_node(
            chain_id=1337, port=first.port, log_path=tmp_path / "second.log", die_with_parent=True
        )
        assert rpc.call("eth_chainId") == hex(1337)
        stop_node(second)
        second = start_node(
            chain_id=7, port=first.port, log_path=tmp_path / "third.log", die_with_parent=True
        )
        assert rpc.call("eth_chainId") == hex(7)  # the connection kept alive to the old node was dead
    finally:
        rpc.close()
        stop_node(first)
        if second is not None:
            stop_node(second)

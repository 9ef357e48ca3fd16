"""devnet/jsonrpc.py, the seeder's client for our own anvil, against a real node: answers in call order, node
errors raised with the method's name, a refused call once the node is gone, and, through a real proxy that
hangs up after each answer (as a node or balancer closes an idle kept-alive connection), every call
answered on a new connection."""

from __future__ import annotations

import http.client
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from devnet.jsonrpc import JsonRpc, RpcError
from devnet.node import NodeInfo, stop_node

StartNode = Callable[..., NodeInfo]  # the start_devnet fixture of conftest.py


class _AnswerThenHangUp(socketserver.StreamRequestHandler):
    """Relays one HTTP request to the node and its answer back, without `Connection: close`, then closes."""

    def handle(self) -> None:
        length = 0
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        upstream = http.client.HTTPConnection("127.0.0.1", self.server.node_port, timeout=30)  # type: ignore[attr-defined]
        try:
            upstream.request("POST", "/", self.rfile.read(length), {"Content-Type": "application/json"})
            answer = upstream.getresponse().read()
        finally:
            upstream.close()
        self.server.connections += 1  # type: ignore[attr-defined]
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
            + answer
        )


@pytest.fixture
def hang_up_proxy(start_devnet: StartNode) -> Iterator[socketserver.TCPServer]:
    node = start_devnet()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _AnswerThenHangUp)
    server.node_port = node.port  # type: ignore[attr-defined]
    server.connections = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    stop_node(node)


def test_answers_in_order_errors_by_method_and_a_refused_call(start_devnet: StartNode) -> None:
    node = start_devnet()
    rpc = JsonRpc(node.url)
    try:
        assert rpc.batch([("eth_blockNumber", []), ("eth_chainId", [])]) == ["0x0", hex(31337)]
        assert rpc.call("evm_mine", []) == "0x0"
        assert rpc.call("eth_blockNumber") == "0x1"
        with pytest.raises(RpcError, match="^eth_getBalance: "):
            rpc.call("eth_getBalance", ["not an address", "latest"])
        stop_node(node)
        with pytest.raises(ConnectionError):  # nothing listens: refused, not a hang or a half answer
            rpc.call("eth_chainId")
    finally:
        rpc.close()


def test_a_connection_the_node_closed_is_opened_again(hang_up_proxy: socketserver.TCPServer) -> None:
    host, port = hang_up_proxy.server_address[:2]
    rpc = JsonRpc(f"http://{host}:{port}")
    try:
        assert [rpc.call("eth_chainId") for _ in range(3)] == [hex(31337)] * 3
    finally:
        rpc.close()
    assert hang_up_proxy.connections == 3  # type: ignore[attr-defined]

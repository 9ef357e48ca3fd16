"""A real HTTP proxy on 127.0.0.1 that forwards JSON-RPC POSTs to a node and injects scripted faults.

It runs an aiohttp.web server on its own event loop in a background thread, so the code under test talks
to it over real sockets exactly as it would to a hosted provider. The URL carries a fake API key in its
path, so tests can check that the key never leaks into messages or logs.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson
from aiohttp import web

HOST = "127.0.0.1"  # never 0.0.0.0
SECRET = "SECRETKEY123"  # a fake API key in the proxy's URL path
FAULTS = frozenset(
    {
        "pass",
        "429",
        "500",
        "503",
        "stall",
        "truncate",
        "shuffle",
        "garbage",
        "drop",
        "wrong_ids",
        "not_list",
        "lagging",
    }
)
# What geth sends for a batch over its limit: one error object with a null id, not a list.
BATCH_TOO_LARGE = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"batch too large"}}'
UNKNOWN_ID = 10**12  # an id no client has asked for


class FaultProxy:
    """Applies faults[i] to the i-th request it receives, then "pass" to every later one."""

    def __init__(
        self,
        upstream: str,
        faults: Sequence[str] = (),
        port: int = 0,
        *,
        stall_seconds: float = 5.0,
        retry_after: str = "1",
        seed: int = 0,
        hide_methods: Sequence[str] = (),
    ) -> None:
        unknown = sorted(set(faults) - FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {sorted(FAULTS)}")
        self.upstream = upstream
        self.port = port
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after  # the 429's Retry-After header: seconds or an HTTP date
        self.requests = 0
        self.log: list[str] = []  # the fault applied to each request, in arrival order
        self.sizes: list[int] = []  # JSON-RPC calls in each request (1 for a single object, 0 if unreadable)
        self.in_flight = 0
        self.max_in_flight = 0
        self._script = list(faults)
        # Methods answered with "method not found", as by nodes that lack them (e.g. eth_getBlockReceipts).
        self.hide_methods = frozenset(hide_methods)
        self.hidden_calls = 0
        self._rng = random.Random(seed)
        self._wrong_ids = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._upstream: aiohttp.ClientSession | None = None
        self._reopen: asyncio.TimerHandle | None = None
        self._reopened: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v3/{SECRET}"

    def start(self) -> FaultProxy:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._run(self._open())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def down(self, seconds: float) -> None:
        """Close the listening socket and every connection now; listen again on the same port later.

        Returns once connections are refused; stands in for a node killed and restarted.
        """
        self._run(self._down(seconds))

    def _run(self, coroutine: Any) -> Any:
        assert self._loop is not None, "start the proxy first"
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    async def _open(self) -> None:
        if self._upstream is None:
            self._upstream = aiohttp.ClientSession()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        self.port = sock.getsockname()[1]
        app = web.Application(client_max_size=256 * 1024**2)
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        # A tiny shutdown timeout: down() must cut in-flight requests as a dying node would.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.01)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self._runner = runner

    async def _close(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _down(self, seconds: float) -> None:
        await self._close()
        loop = asyncio.get_running_loop()

        def reopen() -> None:
            self._reopened = loop.create_task(self._open())  # kept: the loop holds tasks only weakly

        self._reopen = loop.call_later(seconds, reopen)

    async def _shutdown(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
        await self._close()
        if self._upstream is not None:
            await self._upstream.close()
        # Handlers still stalling for clients that gave up long ago.
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        index = self.requests
        self.requests += 1
        fault = self._script[index] if index < len(self._script) else "pass"
        self.log.append(fault)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            body = await request.read()
            self.sizes.append(_count_calls(body))
            return await self._apply(fault, request, body)
        finally:
            self.in_flight -= 1

    async def _apply(self, fault: str, request: web.Request, body: bytes) -> web.StreamResponse:
        if fault == "429":
            return web.Response(status=429, headers={"Retry-After": self.retry_after}, text="slow down")
        if fault in ("500", "503"):
            return web.Response(status=int(fault), text="upstream trouble")
        if fault == "garbage":
            return web.Response(status=200, text="<html><body>502 Bad Gateway</body></html>")
        if fault == "not_list":
            return web.Response(status=200, body=BATCH_TOO_LARGE, content_type="application/json")
        if fault in ("stall", "drop"):
            if fault == "stall":
                await asyncio.sleep(self.stall_seconds)
            # Close the connection without a single byte of answer.
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        if self.hide_methods:
            hidden = self._without_hidden_methods(body)
            if hidden is not None:
                return hidden
        assert self._upstream is not None
        async with self._upstream.post(
            self.upstream, data=body, headers={"Content-Type": "application/json"}
        ) as upstream:
            status, answer = upstream.status, await upstream.read()
        if fault == "truncate":
            answer = answer[: len(answer) // 2]  # with a Content-Length that matches: only the JSON is cut
        elif fault == "shuffle":
            answer = self._shuffle(answer)
        elif fault == "wrong_ids":
            answer = self._alter_id(answer)
        elif fault == "lagging":
            answer = self._lagging(answer)
        return web.Response(status=status, body=answer, content_type="application/json")

    def _without_hidden_methods(self, body: bytes) -> web.Response | None:
        """Answer hidden methods with -32601 here and forward the rest; None if nothing is hidden."""
        calls = orjson.loads(body)
        single = isinstance(calls, dict)
        items = [calls] if single else calls
        hidden = [c for c in items if c.get("method") in self.hide_methods]
        if not hidden:
            return None
        self.hidden_calls += len(hidden)
        answers = [
            {
                "jsonrpc": "2.0",
                "id": c["id"],
                "error": {"code": -32601, "message": "the method does not exist"},
            }
            for c in hidden
        ]
        kept = [c for c in items if c.get("method") not in self.hide_methods]
        if kept:
            import requests  # a blocking call is fine in a test proxy answering one client

            answers += requests.post(self.upstream, data=orjson.dumps(kept), timeout=30).json()
        payload = answers[0] if single else answers
        return web.Response(status=200, body=orjson.dumps(payload), content_type="application/json")

    def _shuffle(self, answer: bytes) -> bytes:
        items = orjson.loads(answer)
        if not isinstance(items, list) or len(items) < 2:
            return answer
        shuffled = items[:]
        self._rng.shuffle(shuffled)
        if shuffled == items:
            shuffled = items[1:] + items[:1]
        return orjson.dumps(shuffled)

    def _alter_id(self, answer: bytes) -> bytes:
        """Alternately an id nobody asked for, and a duplicate (so another id goes missing)."""
        data = orjson.loads(answer)
        items = data if isinstance(data, list) else [data]
        duplicate = self._wrong_ids % 2 == 1 and len(items) >= 2
        self._wrong_ids += 1
        items[0]["id"] = items[-1]["id"] if duplicate else UNKNOWN_ID
        return orjson.dumps(data)

    def _lagging(self, answer: bytes) -> bytes:
        """Well-formed JSON-RPC, but from a node a few blocks behind: the last result is null, as a
        load-balanced provider answers for a block its backend does not have yet."""
        data = orjson.loads(answer)
        items = data if isinstance(data, list) else [data]
        if items and "result" in items[-1]:
            items[-1]["result"] = None
        return orjson.dumps(data)


def _count_calls(body: bytes) -> int:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return 0
    return len(data) if isinstance(data, list) else 1

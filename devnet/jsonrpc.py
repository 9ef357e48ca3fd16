"""A minimal JSON-RPC client for driving the local anvil node (seeding, status, tests).

Only for a node we started ourselves on loopback: no retries, no secrets. Extraction from real nodes has
its own hardened client in `extract/`.
"""

from __future__ import annotations

import http.client
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson


class RpcError(RuntimeError):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error


class JsonRpc:
    """Blocking calls over one kept-alive HTTP connection. http.client rather than requests: seeding makes
    four calls per block, and requests' own work per call was half of the seeder's CPU time."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self.timeout = timeout
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._connection: http.client.HTTPConnection | None = None
        self._next_id = 0

    def call(self, method: str, params: Sequence[Any] = ()) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Send calls in one HTTP request; results come back in call order (matched by id)."""
        if not calls:
            return []
        first = self._next_id
        self._next_id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        answer = orjson.loads(self._post(orjson.dumps(payload)))
        if not isinstance(answer, list):  # e.g. a node's "batch too large" error object
            raise RpcError(calls[0][0], answer.get("error", answer) if isinstance(answer, dict) else {})
        by_id = {item["id"]: item for item in answer}
        results = []
        for i, (method, _) in enumerate(calls):
            item = by_id[first + i]
            if "error" in item:
                raise RpcError(method, item["error"])
            results.append(item["result"])
        return results

    def _post(self, body: bytes) -> bytes:
        while True:
            fresh = self._connection is None
            if self._connection is None:
                kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._connection = kind(self._host, self._port, timeout=self.timeout)
            try:
                self._connection.request("POST", self._path, body, {"Content-Type": "application/json"})
                response = self._connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if fresh:
                    raise
                continue  # the node closed the kept-alive connection while idle: once more on a new one
            except BaseException:
                self.close()  # a half-read answer would be taken for the next call's
                raise
            if response.will_close:
                self.close()
            if response.status != 200:
                raise RpcError("HTTP", {"message": f"{response.status} {response.reason}: {data[:200]!r}"})
            return data

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

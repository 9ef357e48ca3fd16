"""A minimal JSON-RPC client for driving the local anvil node (seeding, status, tests).

Only for a node we started ourselves on loopback: no retries, no secrets. Extraction from real nodes has
its own hardened client in `extract/`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests


class RpcError(RuntimeError):
    def __init__(self, method: str, error: dict[str, Any]) -> None:
        super().__init__(f"{method}: {error.get('message', error)}")
        self.method = method
        self.error = error


class JsonRpc:
    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self.timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # loopback only: skip the per-request proxy lookup in the environment
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
        response = self._session.post(self.url, json=payload, timeout=self.timeout)
        response.raise_for_status()
        answer = response.json()
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

    def close(self) -> None:
        self._session.close()

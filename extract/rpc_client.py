"""The extractor's JSON-RPC client: batched, concurrent, retrying, and careful with the node URL.

Node URLs of hosted providers carry the API key in the path, query or userinfo, so the URL itself never
reaches an exception message, a log line or a repr: only `redact_url(url)` does.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec
import orjson

from extract.http_post import HttpCutOff, HttpFailed, HttpPost
from extract.rpc_types import Envelope

log = logging.getLogger("chainseg.rpc")

# JSON-RPC error codes that mean "busy, ask again later" rather than "this request is wrong", mapped to the
# message fragments (lower case) that must appear for the code to count; () means any message.
#  -32005: EIP-1474 "limit exceeded" (Infura, Alchemy and others when rate limited or over a quota);
#  -32603: "internal error" is retryable only when the node says it timed out or was rate limited (geth,
#          Erigon and Nethermind under load); otherwise it is a real failure of that call;
#     429: providers that copy the HTTP status into the error object of each call in a batch.
RETRYABLE_RPC_ERRORS: dict[int, tuple[str, ...]] = {
    -32005: (),
    -32603: ("timeout", "timed out", "rate"),
    429: (),
}
RETRY_HTTP_STATUSES = frozenset({408, 429, 500, 502, 503, 504})  # plus any other 5xx
GROW_AFTER = 10  # consecutive successful requests before the batch size grows by 25%
_PENDING: Any = object()  # marks a result slot not answered yet (None is a valid result)


class RpcError(Exception):
    """The node answered a call with a JSON-RPC error object that retrying will not fix."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"{method} failed with JSON-RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message


class RpcUnavailable(Exception):
    """No valid answer after all attempts (or an HTTP status that retrying will not fix)."""

    def __init__(self, method: str, attempts: int, problem: str) -> None:
        super().__init__(f"{method}: no valid answer after {attempts} attempt(s); last problem: {problem}")
        self.method = method
        self.attempts = attempts
        self.problem = problem


def redact_url(url: str) -> str:
    """Scheme, host and port only: path, query, fragment and userinfo may hold an API key."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "<unparseable url>"
    if not parts.scheme or not host:
        return "<unparseable url>"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port is not None else host
    dropped = parts.path not in ("", "/") or parts.query or parts.fragment
    return f"{parts.scheme}://{netloc}/…" if dropped else f"{parts.scheme}://{netloc}"


@dataclass
class RpcStats:
    requests: int = 0  # HTTP requests sent, retries included
    calls: int = 0  # JSON-RPC calls answered and returned to the caller
    retries: int = 0  # failed requests (or failed calls within an answer) that were retried
    timeouts: int = 0
    http_errors: int = 0  # answers with a status other than 2xx
    malformed: int = 0  # answers that were not a valid JSON-RPC answer to what was asked
    connection_errors: int = 0  # refused, reset, or closed without an answer
    batch_size_now: int = 0
    min_batch_size_seen: int = 0


@dataclass
class _Failure:
    """Why an attempt did not answer every call; `positions` are what must be asked again."""

    positions: Sequence[int]
    problem: str
    shrink: bool = True  # a failure that a smaller batch may avoid
    retry_after: float | None = None
    malformed: bool = False
    final: bool = False  # retrying cannot help (a wrong key or URL)


class _TokenBucket:
    """Calls per second with a one-second burst; a take larger than the bucket waits off its debt."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._capacity = max(1.0, rate)
        self._tokens = self._capacity
        self._stamp = time.monotonic()

    async def take(self, n: int) -> None:
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        # Deducted before sleeping, so callers arriving meanwhile queue behind this debt.
        self._tokens -= n
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self._rate)


class _Slots:
    """At most `n` requests in flight; waiting ones are let in by priority (lower first), then in order.

    The extractor fetches several chunks at once and gives each chunk's requests the chunk's first block
    as priority, so the oldest chunk completes first and is written while the next ones are fetched,
    instead of all of them finishing together at the end."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # the slot was handed over just before the cancellation: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, future = heapq.heappop(self._waiting)
            if not future.done():  # a cancelled waiter is skipped
                future.set_result(None)
                return
        self._free += 1


class RpcClient:
    """Use as `async with RpcClient(url) as rpc:`; one client (one connection pool, one adaptive batch
    size, one concurrency limit) per node, shared by every coroutine that talks to that node."""

    def __init__(
        self,
        url: str,
        *,
        max_batch: int = 100,
        concurrency: int = 8,
        timeout: float = 30.0,
        max_attempts: int = 10,
        backoff_base: float = 0.2,
        backoff_max: float = 20.0,
        requests_per_second: float | None = None,
    ) -> None:
        self._safe_url = redact_url(url)
        if self._safe_url == "<unparseable url>" or urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"node URL must be http:// or https://, got {self._safe_url}")
        if max_batch < 1 or concurrency < 1 or max_attempts < 1 or timeout <= 0:
            raise ValueError("max_batch, concurrency and max_attempts must be >= 1 and timeout > 0")
        if requests_per_second is not None and requests_per_second <= 0:
            raise ValueError("requests_per_second must be > 0 (or None for no limit)")
        self._url = url
        self.max_batch = max_batch
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        # Counted per JSON-RPC call, not per HTTP request: providers bill and throttle each call of a batch.
        self._bucket = _TokenBucket(requests_per_second) if requests_per_second else None
        self.stats = RpcStats(batch_size_now=max_batch, min_batch_size_seen=max_batch)
        self._batch_size = max_batch
        self._size_epoch = 0  # bumped on every size change; one wave of failures halves the size once
        self._ok_streak = 0
        self._resume_at = 0.0  # monotonic time before which no request is sent (a Retry-After)
        self._next_id = 1
        self._http: HttpPost | None = None
        self._slots: _Slots | None = None

    def __repr__(self) -> str:
        return f"RpcClient({self._safe_url!r}, batch_size={self._batch_size})"

    async def __aenter__(self) -> RpcClient:
        self._http = HttpPost(self._url, timeout=self.timeout, keep=self.concurrency)
        self._slots = _Slots(self.concurrency)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def call(self, method: str, params: list, result_type: Any = Any) -> Any:
        """One call, sent as a single JSON-RPC object (not a batch of one)."""
        return (await self._run([(method, params)], single=True, result_type=result_type))[0]

    async def batch(
        self, calls: Sequence[tuple[str, list]], result_type: Any = Any, priority: int = 0
    ) -> list[Any]:
        """Results in the order of `calls`; raises RpcError or RpcUnavailable if any call fails.

        `result_type` (e.g. `Block | None` from extract.rpc_types) decodes every result into that shape; an
        answer that does not fit it is malformed and asked again. The default gives plain JSON values.
        Requests waiting for a free connection go out lowest `priority` first."""
        if not calls:
            return []
        return await self._run(calls, single=False, result_type=result_type, priority=priority)

    async def _run(
        self, calls: Sequence[tuple[str, list]], single: bool, result_type: Any, priority: int = 0
    ) -> list[Any]:
        if self._http is None:
            raise RuntimeError("use the client as `async with RpcClient(url) as client:`")
        out = [_PENDING] * len(calls)
        # Work is taken from the front at the batch size current when a request is sent, so a size change
        # applies at once; each entry is (positions, attempts already spent on them).
        work: deque[tuple[Sequence[int], int]] = deque([(range(len(calls)), 0)])
        decoder = _decoder(result_type, single)
        workers = min(self.concurrency, -(-len(calls) // self._batch_size))
        if workers == 1:
            await self._worker(calls, out, work, single, decoder, priority)
        else:
            await _all_or_cancel(
                [self._worker(calls, out, work, single, decoder, priority) for _ in range(workers)]
            )
        self.stats.calls += len(calls)
        return out

    async def _worker(
        self,
        calls: Sequence[tuple[str, list]],
        out: list[Any],
        work: deque,
        single: bool,
        decoder: msgspec.json.Decoder,
        priority: int,
    ) -> None:
        while work:
            positions, attempts = work.popleft()
            size = self._batch_size
            if len(positions) > size:
                work.appendleft((positions[size:], attempts))
                positions = positions[:size]
            failure = await self._attempt(calls, positions, out, single, decoder, priority)
            if failure is None:
                continue
            attempts += 1
            method = _describe(calls, failure.positions)
            if attempts >= self.max_attempts or failure.final:
                raise RpcUnavailable(method, attempts, f"{failure.problem} ({self._safe_url})")
            delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** (attempts - 1)))
            if failure.retry_after is not None:
                delay = max(delay, failure.retry_after)
                self._resume_at = max(self._resume_at, time.monotonic() + failure.retry_after)
            self.stats.retries += 1
            log.log(
                logging.WARNING if attempts >= 3 or failure.retry_after else logging.DEBUG,
                "%s at %s: %s; attempt %d/%d, retrying in %.2fs (batch size %d)",
                method,
                self._safe_url,
                failure.problem,
                attempts,
                self.max_attempts,
                delay,
                self._batch_size,
            )
            await asyncio.sleep(delay)
            # At the front, so retried calls are not starved by fresh work.
            work.appendleft((failure.positions, attempts))

    async def _attempt(
        self,
        calls: Sequence[tuple[str, list]],
        positions: Sequence[int],
        out: list[Any],
        single: bool,
        decoder: msgspec.json.Decoder,
        priority: int,
    ) -> _Failure | None:
        """One HTTP request for `positions`: fills `out`, or says what to ask again; raises RpcError."""
        assert self._http is not None and self._slots is not None
        epoch = self._size_epoch  # the size these positions were cut at
        n = len(positions)
        first = self._next_id
        self._next_id += n
        if single:
            method, params = calls[positions[0]]
            body = orjson.dumps({"jsonrpc": "2.0", "id": first, "method": method, "params": params})
        else:
            body = orjson.dumps(
                [
                    {"jsonrpc": "2.0", "id": first + k, "method": calls[i][0], "params": calls[i][1]}
                    for k, i in enumerate(positions)
                ]
            )
        if self._bucket is not None:
            await self._bucket.take(n)
        status = 0
        answer = b""
        retry_after_header: str | None = None
        problem: str | None = None
        await self._slots.acquire(priority)
        try:
            pause = self._resume_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            self.stats.requests += 1
            try:
                answered = await self._http.post(body)
                status = answered.status
                retry_after_header = answered.headers.get("retry-after")
                answer = answered.body
            except TimeoutError:
                self.stats.timeouts += 1
                problem = f"no complete answer within {self.timeout:g}s"
            except HttpCutOff as exc:
                self.stats.connection_errors += 1
                problem = f"answer cut off ({exc})"
            except HttpFailed as exc:
                self.stats.connection_errors += 1
                problem = f"connection failed ({exc})"
        finally:
            self._slots.release()
        if problem is not None:
            return self._failed(epoch, _Failure(positions, problem))
        if not 200 <= status < 300:
            self.stats.http_errors += 1
            if status in RETRY_HTTP_STATUSES or status >= 500 or status == 413:
                # A rate limit is not cured by smaller batches (that only means more requests).
                failure = _Failure(positions, f"HTTP {status}", shrink=status != 429)
                if status in (429, 503) and retry_after_header:
                    failure.retry_after = _retry_after_seconds(retry_after_header)
                return self._failed(epoch, failure)
        failure = self._take_answer(calls, positions, out, first, answer, decoder)
        if failure is None:
            self._succeeded()
            return None
        if failure.malformed and not 200 <= status < 300:
            # 401, 403, 404...: a wrong key or URL. (A JSON-RPC answer sent with a 4xx, as some nodes do,
            # has been used above.)
            return self._failed(epoch, _Failure(positions, f"HTTP {status}", final=True))
        if failure.malformed:
            self.stats.malformed += 1
        return self._failed(epoch, failure)

    def _take_answer(
        self,
        calls: Sequence[tuple[str, list]],
        positions: Sequence[int],
        out: list[Any],
        first: int,
        answer: bytes,
        decoder: msgspec.json.Decoder,
    ) -> _Failure | None:
        """Store a valid answer's results; a whole answer is validated before any of it is stored."""
        n = len(positions)
        try:
            data = decoder.decode(answer)
        except msgspec.ValidationError as exc:
            return _Failure(positions, f"answer does not have the expected shape: {exc}", malformed=True)
        except msgspec.DecodeError:
            return _Failure(positions, f"answer is not JSON ({len(answer)} bytes)", malformed=True)
        items: list[Envelope[Any]] = [data] if type(data) is Envelope else data
        if len(items) != n:
            return _Failure(positions, f"answer has {len(items)} item(s) for {n} call(s)", malformed=True)
        by_pos: list[Any] = [None] * n
        for item in items:
            key = item.id
            pos = key - first if type(key) is int else -1
            if not 0 <= pos < n:
                return _Failure(positions, "answer has an id that was not asked", malformed=True)
            if by_pos[pos] is not None:
                return _Failure(positions, "answer has a duplicated id", malformed=True)
            if item.result is msgspec.UNSET and item.error is None:
                return _Failure(positions, "answer item has neither result nor error", malformed=True)
            by_pos[pos] = item
        # n distinct ids each within the n asked: every id is present.
        busy: list[int] = []
        busy_text = ""
        for pos, item in enumerate(by_pos):
            error = item.error
            i = positions[pos]
            if error is None:
                out[i] = item.result
                continue
            code, message = _error_fields(error)
            if not _is_retryable(code, message):
                raise RpcError(calls[i][0], code, message)
            busy.append(i)
            busy_text = busy_text or f"node busy: {calls[i][0]} JSON-RPC error {code}: {message}"
        if busy:
            # The answered calls are kept; only the busy ones are asked again.
            return _Failure(busy, busy_text + (f" (and {len(busy) - 1} more)" if len(busy) > 1 else ""))
        return None

    def _failed(self, epoch: int, failure: _Failure) -> _Failure:
        self._ok_streak = 0
        # Only the first failure of requests sent at the current size halves it: eight concurrent requests
        # refused by a restarting node are one signal, not eight.
        if failure.shrink and epoch == self._size_epoch and self._batch_size > 1:
            self._set_batch_size(max(1, self._batch_size // 2))
        return failure

    def _succeeded(self) -> None:
        self._ok_streak += 1
        if self._ok_streak >= GROW_AFTER and self._batch_size < self.max_batch:
            size = self._batch_size
            self._set_batch_size(min(self.max_batch, max(size + 1, size * 5 // 4)))

    def _set_batch_size(self, size: int) -> None:
        log.debug("batch size %d -> %d (%s)", self._batch_size, size, self._safe_url)
        self._batch_size = size
        self._size_epoch += 1
        self._ok_streak = 0
        self.stats.batch_size_now = size
        self.stats.min_batch_size_seen = min(self.stats.min_batch_size_seen, size)


async def _all_or_cancel(coroutines: list) -> None:
    """Run all; the first exception cancels the rest (no half-finished batch keeps sending) and is raised."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    errors = [t.exception() for t in tasks if not t.cancelled() and t.exception() is not None]
    if errors:
        raise errors[0]


_DECODERS: dict[tuple[Any, bool], msgspec.json.Decoder] = {}


def _decoder(result_type: Any, single: bool) -> msgspec.json.Decoder:
    key = (result_type, single)
    if key not in _DECODERS:
        envelope = Envelope[result_type]  # type: ignore[valid-type]
        _DECODERS[key] = msgspec.json.Decoder(envelope if single else list[envelope])  # type: ignore[valid-type]
    return _DECODERS[key]


def _describe(calls: Sequence[tuple[str, list]], positions: Sequence[int]) -> str:
    methods = sorted({calls[i][0] for i in positions})
    shown = ", ".join(methods[:3]) + (", …" if len(methods) > 3 else "")
    return shown if len(positions) == 1 else f"{shown} ({len(positions)} calls)"


def _error_fields(error: Any) -> tuple[int | None, str]:
    if type(error) is dict:
        code = error.get("code")
        return (code if type(code) is int else None), str(error.get("message", ""))[:300]
    return None, str(error)[:300]


def _is_retryable(code: int | None, message: str) -> bool:
    hints = RETRYABLE_RPC_ERRORS.get(code) if code is not None else None
    if hints is None:
        return False
    lowered = message.lower()
    return not hints or any(hint in lowered for hint in hints)


def _retry_after_seconds(value: str) -> float | None:
    """Retry-After is either delta-seconds or an HTTP date."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())

"""HTTP/1.1 POST to one URL over a pool of keep-alive connections, on asyncio streams.

Why not aiohttp: extraction only ever POSTs JSON to one URL, and aiohttp cost twice the CPU per answer
(0.20 s against 0.09 s for the demo chain's 75 MB) plus 0.11 s of import (it builds SSL contexts when
imported). This speaks the small part of HTTP/1.1 a JSON-RPC node or provider uses: a Content-Length or
chunked answer, gzip or deflate content coding, keep-alive, Basic auth from the URL's userinfo, TLS for
https. No redirects (a JSON-RPC endpoint does not move; following one could send the key elsewhere) and no
proxies.

Errors never carry the URL: the caller's messages name the node only through `redact_url`.
"""

from __future__ import annotations

import asyncio
import base64
import zlib
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl

_MAX_HEADER_LINES = 100


class HttpFailed(Exception):
    """No answer: the connection failed or the answer was not HTTP. The text names no URL."""


class HttpCutOff(HttpFailed):
    """The connection ended before the whole answer arrived."""


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]  # names lowercased; a repeated header keeps its last value
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


class HttpPost:
    """`await post(body)` sends one POST; connections are reused, at most `keep` kept idle."""

    def __init__(self, url: str, *, timeout: float, keep: int) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the URL must be http:// or https:// with a host")
        self._host = parts.hostname
        self._tls = parts.scheme == "https"
        self._port = parts.port or (443 if self._tls else 80)
        self._timeout = timeout
        self._keep = keep
        self._idle: deque[_Connection] = deque()
        self._ssl_context: ssl.SSLContext | None = None
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = f"[{self._host}]" if ":" in self._host else self._host
        default_port = self._port == (443 if self._tls else 80)
        lines = [
            f"POST {target} HTTP/1.1",
            f"Host: {host if default_port else f'{host}:{self._port}'}",
            "Content-Type: application/json",
            "Accept-Encoding: gzip, deflate",
            "User-Agent: chainseg",
        ]
        if parts.username is not None:
            user_password = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("Authorization: Basic " + base64.b64encode(user_password.encode()).decode())
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")

    async def post(self, body: bytes) -> HttpAnswer:
        """One exchange within the timeout (TimeoutError), else HttpFailed / HttpCutOff."""
        async with asyncio.timeout(self._timeout):
            # The newest idle connection: the least likely to have been closed by the server meanwhile.
            # One that was is a failed request like any other (the caller retries); aiohttp did the same.
            connection = self._idle.pop() if self._idle else await self._open()
            return await self._exchange(connection, body)

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _open(self) -> _Connection:
        context = None
        if self._tls:
            if self._ssl_context is None:
                import ssl  # only https pays for it

                self._ssl_context = ssl.create_default_context()
            context = self._ssl_context
        try:
            reader, writer = await asyncio.open_connection(self._host, self._port, ssl=context, limit=2**20)
        except OSError as exc:
            raise HttpFailed(f"{type(exc).__name__} while connecting") from None
        return _Connection(reader, writer)

    async def _exchange(self, connection: _Connection, body: bytes) -> HttpAnswer:
        reuse = False
        try:
            try:
                connection.writer.write(self._head + b"%d\r\n\r\n" % len(body) + body)
                await connection.writer.drain()
                status, headers, keep_alive = await _read_head(connection.reader)
            except OSError as exc:
                raise HttpCutOff(f"{type(exc).__name__} before an answer") from None
            payload, complete = (
                (b"", True) if status in (204, 304) else await _read_body(connection.reader, headers)
            )
            reuse = keep_alive and complete
            return HttpAnswer(status, headers, _decode(payload, headers.get("content-encoding")))
        finally:
            if reuse and len(self._idle) < self._keep:
                self._idle.append(connection)
            else:
                connection.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bool]:
    while True:
        try:
            line = await reader.readline()  # (connection errors: _exchange)
        except ValueError:  # longer than the reader's limit
            raise HttpFailed("the answer is not HTTP/1.x") from None
        if not line:
            raise HttpCutOff("the connection closed before an answer")
        status, keep_alive = _status(line)
        headers = await _read_headers(reader)
        if 100 <= status < 200:
            continue  # an interim answer (100 Continue): the real one follows
        connection = headers.get("connection", "").lower()
        return status, headers, keep_alive and "close" not in connection


def _status(line: bytes) -> tuple[int, bool]:
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise HttpFailed("the answer is not HTTP/1.x")
    return int(parts[1]), parts[0] != b"HTTP/1.0"


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADER_LINES):
        line = await _line(reader)
        if line in (b"\r\n", b"\n"):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise HttpFailed("the answer has a malformed header line")
        headers[name.strip().lower()] = value.strip()
    raise HttpFailed("the answer has too many header lines")


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body and whether the connection can carry another exchange."""
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size_line = await _line(reader)
                try:
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise HttpFailed("the answer has a malformed chunk size") from None
                if size == 0:
                    while await _line(reader) not in (b"\r\n", b"\n"):
                        pass  # trailer fields
                    return b"".join(chunks), True
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
        if "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HttpFailed("the answer has a malformed Content-Length") from None
            return await reader.readexactly(length), True
        return await reader.read(), False  # the body ends with the connection
    except asyncio.IncompleteReadError:
        raise HttpCutOff("the connection closed mid-answer") from None
    except OSError as exc:
        raise HttpCutOff(f"{type(exc).__name__} mid-answer") from None


async def _line(reader: asyncio.StreamReader) -> bytes:
    try:
        line = await reader.readline()
    except ValueError:  # longer than the reader's limit
        raise HttpFailed("the answer has a line too long") from None
    except OSError as exc:
        raise HttpCutOff(f"{type(exc).__name__} mid-answer") from None
    if not line.endswith(b"\n"):
        raise HttpCutOff("the connection closed mid-answer")
    return line


def _decode(payload: bytes, coding: str | None) -> bytes:
    if not coding or coding.lower() == "identity":
        return payload
    try:
        if coding.lower() == "gzip":
            return zlib.decompress(payload, 16 + zlib.MAX_WBITS)
        if coding.lower() == "deflate":
            return zlib.decompress(payload)
    except zlib.error:
        raise HttpCutOff("the compressed answer is incomplete or corrupt") from None
    raise HttpFailed(f"the answer uses an unsupported content coding: {coding[:40]}")

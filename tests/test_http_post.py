"""The extractor's HTTP/1.1 client against a real server on loopback that answers the ways nodes and
providers do: chunked, gzip-compressed, keep-alive or not, cut off, or not at all. (anvil and the fault
proxy answer with a Content-Length and no compression; tests/test_rpc_client.py covers those paths.)"""

from __future__ import annotations

import asyncio
import base64
import gzip
from collections.abc import Awaitable, Callable

import pytest

from extract.http_post import HttpCutOff, HttpPost

Answer = Callable[[bytes, dict[str, str]], bytes]  # (request body, request headers) -> raw HTTP answer


async def _serve(answer: Answer, seen: list[dict[str, str]], connections: list[int]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                lines = request.decode("latin-1").split("\r\n")[1:]
                headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines if x)}
                body = await reader.readexactly(int(headers["content-length"]))
                seen.append(headers)
                raw = answer(body, headers)
                if not raw:
                    await asyncio.sleep(10)  # never answers
                writer.write(raw)
                await writer.drain()
                if b"Connection: close" in raw or b"HTTP/1.0" in raw[:8] or raw.endswith(b"<cut>"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _run(
    answer: Answer, client: Callable[[HttpPost], Awaitable[object]], userinfo: str = "", timeout: float = 5
):
    seen: list[dict[str, str]] = []
    connections: list[int] = []

    async def main() -> object:
        server = await _serve(answer, seen, connections)
        port = server.sockets[0].getsockname()[1]
        http = HttpPost(f"http://{userinfo}127.0.0.1:{port}/v3/secret?x=1", timeout=timeout, keep=2)
        try:
            return await client(http)
        finally:
            await http.close()
            server.close()

    return asyncio.run(main()), seen, len(connections)


def _chunked_gzip(body: bytes, headers: dict[str, str]) -> bytes:
    packed = gzip.compress(b'{"echo": ' + body + b"}")
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(packed[i : i + 7]), packed[i : i + 7]) for i in range(0, len(packed), 7)
    )
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
    return head + chunks + b"0\r\nX-Trailer: 1\r\n\r\n"


def test_chunked_gzip_answers_keep_alive_and_basic_auth() -> None:
    async def client(http: HttpPost) -> list[bytes]:
        return [(await http.post(b"%d" % n)).body for n in range(3)]

    bodies, seen, connections = _run(_chunked_gzip, client, userinfo="me:p%40ss@")
    assert bodies == [b'{"echo": 0}', b'{"echo": 1}', b'{"echo": 2}']
    assert connections == 1  # one connection carried all three
    assert seen[0]["authorization"] == "Basic " + base64.b64encode(b"me:p@ss").decode()
    assert seen[0]["host"].startswith("127.0.0.1:") and "gzip" in seen[0]["accept-encoding"]


def test_connection_close_and_http_1_0_open_a_new_connection_each_time() -> None:
    for version, header in ((b"HTTP/1.1", b"Connection: close\r\n"), (b"HTTP/1.0", b"")):

        def answer(
            body: bytes, headers: dict[str, str], version: bytes = version, header: bytes = header
        ) -> bytes:
            return version + b" 429 Too Many\r\nRetry-After: 3\r\n" + header + b"Content-Length: 2\r\n\r\nno"

        async def client(http: HttpPost) -> list[tuple[int, str | None, bytes]]:
            answers = [await http.post(b"{}") for _ in range(2)]
            return [(a.status, a.headers.get("retry-after"), a.body) for a in answers]

        results, _, connections = _run(answer, client)
        assert results == [(429, "3", b"no"), (429, "3", b"no")]
        assert connections == 2


def test_an_answer_cut_off_is_an_error_not_a_short_body() -> None:
    def answer(body: bytes, headers: dict[str, str]) -> bytes:
        return b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial": <cut>'

    async def client(http: HttpPost) -> object:
        return await http.post(b"{}")

    with pytest.raises(HttpCutOff):
        _run(answer, client)


def test_no_answer_times_out() -> None:
    async def client(http: HttpPost) -> object:
        return await http.post(b"{}")

    with pytest.raises(TimeoutError):
        _run(lambda body, headers: b"", client, timeout=0.3)

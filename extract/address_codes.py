"""Which addresses hold code (contracts) and which do not (wallets), asked while a chunk is still in flight.

Each chunk's writer needs the has-code flag of every address the chunk introduces. Asking the node at write
time would put one more round trip on the writer's critical path, so the question is asked as soon as a
chunk is fetched: its addresses minus those the warehouse already knows, minus those an earlier chunk of
this run has already asked about (that chunk's answer is shared). The writer then only awaits answers that
are usually in already. What is remembered is bounded by the chunks in flight: an address is forgotten
once the chunk that asked about it is committed, after which the warehouse knows it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from extract.rpc_client import RpcClient
from extract.warehouse import known_addresses


@dataclass
class PendingCodes:
    """The addresses new to the warehouse in one chunk, and the node answers that will cover them."""

    addresses: frozenset[str]
    answers: tuple[asyncio.Task[dict[str, bool]], ...]
    own: tuple[str, ...]  # the addresses this chunk asked about itself


class AddressCodes:
    def __init__(self, rpc: RpcClient, reader: duckdb.DuckDBPyConnection, chain_id: int) -> None:
        # `reader` is a cursor of its own: the writer's connection is busy in another thread.
        self._rpc = rpc
        self._reader = reader
        self._chain_id = chain_id
        self._asked: dict[str, asyncio.Task[dict[str, bool]]] = {}
        self._tasks: set[asyncio.Task[dict[str, bool]]] = set()
        self._read_lock = asyncio.Lock()  # one query at a time on the reader cursor

    async def ask(self, addresses: set[str], priority: int) -> PendingCodes:
        async with self._read_lock:
            known = await asyncio.to_thread(known_addresses, self._reader, self._chain_id, addresses)
        new = addresses - known
        answers = {self._asked[a] for a in new if a in self._asked}
        own = tuple(sorted(a for a in new if a not in self._asked))
        if own:
            task = asyncio.create_task(code_flags(self._rpc, own, priority))
            self._tasks.add(task)
            for address in own:
                self._asked[address] = task
            answers.add(task)
        return PendingCodes(frozenset(new), tuple(answers), own)

    async def flags(self, pending: PendingCodes) -> dict[str, bool]:
        """The has-code flag of every address in `pending`; raises what the node calls raised."""
        merged: dict[str, bool] = {}
        for answer in pending.answers:
            merged.update(await answer)
        return {address: merged[address] for address in pending.addresses}

    def committed(self, pending: PendingCodes) -> None:
        """The chunk is written: the warehouse now answers for its addresses."""
        for address in pending.own:
            task = self._asked.pop(address, None)
            if task is not None and task.done():
                self._tasks.discard(task)

    async def close(self) -> None:
        """Cancel the questions of chunks that will not be written (an error, a reorg)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self._asked.clear()


async def code_flags(rpc: RpcClient, addresses: Sequence[str], priority: int = 0) -> dict[str, bool]:
    # "latest", not the chunk's block: most nodes (and pruned devnets) keep no old state.
    codes = await rpc.batch(
        [("eth_getCode", [address, "latest"]) for address in addresses], priority=priority
    )
    return {address: code not in (None, "0x", "0x0") for address, code in zip(addresses, codes, strict=True)}

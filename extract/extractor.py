"""Extract a chain into the raw schema: block-range chunks, fetched ahead, written in order.

Each chunk is written in one DuckDB transaction together with the checkpoint, so a kill at any moment
leaves the warehouse at a chunk boundary and a rerun continues from there. Before anything else, every run
checks that the stored tip is still on the node's chain; if not it walks back to the fork point and
deletes everything above it (reorg). Only blocks up to the node's `finalized` block (or head minus the
configured confirmations, where the node has no such tag) are extracted.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time
from typing import TextIO

import duckdb

from chainseg.errors import UserError
from chainseg.extract_config import ChainConfig, ExtractConfig
from chainseg.progress import Progress
from extract.address_codes import AddressCodes, PendingCodes
from extract.normalize import ChunkTables, MalformedChunk, concat_tables, normalize_chunk
from extract.rpc_client import RpcClient, RpcError, RpcUnavailable, redact_url
from extract.rpc_types import Block, Receipt
from extract.unchecked_addresses import check_unchecked
from extract.warehouse import begin_chunk, checkpoint, commit_chunk, delete_above, fetch_one

log = logging.getLogger("chainseg.extract")
METHOD_NOT_FOUND = -32601
REORG_WALK_STEP = 64
CHUNK_ATTEMPTS = 5
PROBE_BLOCKS = 50


class ReorgDuringRun(Exception):
    """A chunk does not continue the stored chain: the node reorganised while we were extracting."""


@dataclass
class ExtractResult:
    chain_id: int
    first_block: int | None
    last_block: int | None
    blocks: int = 0
    transactions: int = 0
    logs: int = 0
    reorged_from: int | None = None  # the fork point, when a reorg was repaired
    addresses_checked: int = 0  # imported addresses asked about (extract/unchecked_addresses.py)


@dataclass
class _Fetched:
    first: int
    last: int
    tables: ChunkTables
    parent_hash: str
    codes: PendingCodes | None = None


async def finalized_block(rpc: RpcClient, chain: ChainConfig) -> int:
    """The highest block we may extract: the node's finalized block, else head minus confirmations."""
    if chain.use_finalized:
        try:
            block = await rpc.call("eth_getBlockByNumber", ["finalized", False])
        except RpcError:
            block = None  # the node has no 'finalized' tag (older clients, some L2s)
        if block:
            return int(block["number"], 16)
    head = int(await rpc.call("eth_blockNumber", []), 16)
    return head - chain.confirmations


async def _fork_point(rpc: RpcClient, con: duckdb.DuckDBPyConnection, chain_id: int, tip: int) -> int:
    """Highest block whose stored hash the node still has; -1 if none of them."""
    high = tip
    while high >= 0:
        low = max(0, high - REORG_WALK_STEP + 1)
        stored = dict(
            con.execute(
                "select block_number, block_hash from raw.blocks "
                "where chain_id = ? and block_number between ? and ?",
                [chain_id, low, high],
            ).fetchall()
        )
        answers = await rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(low, high + 1)])
        for number in range(high, low - 1, -1):
            block = answers[number - low]
            if block and stored.get(number) == block["hash"].lower():
                return number
        high = low - 1
    return -1


async def reconcile(
    rpc: RpcClient, con: duckdb.DuckDBPyConnection, chain_id: int
) -> tuple[int | None, int | None]:
    """Check the stored tip against the node; repair a reorg. Returns (next block to extract, fork point)."""
    stored = checkpoint(con, chain_id)
    if stored is None:
        return None, None
    tip, tip_hash = stored
    block = await rpc.call("eth_getBlockByNumber", [hex(tip), False])
    if block and block["hash"].lower() == tip_hash:
        return tip + 1, None
    fork = await _fork_point(rpc, con, chain_id, tip)
    if fork < 0:
        log.warning(
            "chain %s: none of the stored blocks (tip %s) is on the node's chain, not even block 0 (another "
            "chain with the same id?); removing them all and extracting from block 0",
            chain_id,
            tip,
        )
    else:
        log.warning(
            "chain %s: stored tip %s is no longer on the chain; removing blocks %s..%s (a reorg)",
            chain_id,
            tip,
            fork + 1,
            tip,
        )
    await asyncio.to_thread(delete_above, con, chain_id, fork)
    return fork + 1, fork


async def _fetch_chunk(rpc: RpcClient, first: int, last: int, receipts_mode: list[str]) -> _Fetched:
    """Fetch and normalize one chunk; an answer that does not hold together is fetched again, never
    written (load-balanced providers sometimes answer from a node that is a few blocks behind)."""
    for attempt in range(1, CHUNK_ATTEMPTS + 1):
        try:
            return await _fetch_chunk_once(rpc, first, last, receipts_mode)
        except MalformedChunk as exc:
            if attempt == CHUNK_ATTEMPTS:
                raise RuntimeError(f"blocks {first}..{last}: {exc} (after {attempt} attempts)") from None
            log.warning("blocks %s..%s: %s; fetching again", first, last, exc)
            await asyncio.sleep(min(10.0, 0.5 * 2**attempt))
    raise AssertionError("unreachable")


async def _fetch_chunk_once(rpc: RpcClient, first: int, last: int, receipts_mode: list[str]) -> _Fetched:
    # Asked for in pieces of one batch request each, every piece normalized as soon as it is in: the
    # normalizing overlaps the fetching of the rest instead of following it (the last chunk's would
    # otherwise all come after the node's last answer). The chunk's first block is every piece's priority:
    # the oldest chunk in flight is served first, its pieces in order.
    step = rpc.max_batch
    pieces = await asyncio.gather(
        *(
            _fetch_piece(rpc, start, min(start + step - 1, last), first, receipts_mode)
            for start in range(first, last + 1, step)
        ),
        return_exceptions=True,  # every piece ends before the chunk is retried: none keeps asking
    )
    for piece in pieces:
        if isinstance(piece, BaseException):
            raise piece
    blocks = [block for piece_blocks, _ in pieces for block in piece_blocks]  # type: ignore[union-attr]
    tables = concat_tables([tables for _, tables in pieces])  # type: ignore[misc]
    for number, block in zip(range(first, last + 1), blocks, strict=True):
        if int(block.number, 16) != number:
            raise MalformedChunk(f"asked for block {number}, got {block.number}")
    for previous, block in zip(blocks, blocks[1:], strict=False):
        if block.parentHash != previous.hash:
            raise ReorgDuringRun(f"block {block.number} does not build on the block before it")
    return _Fetched(first, last, tables, blocks[0].parentHash.lower())


async def _fetch_piece(
    rpc: RpcClient, first: int, last: int, priority: int, receipts_mode: list[str]
) -> tuple[list[Block], ChunkTables]:
    numbers = [hex(n) for n in range(first, last + 1)]
    # Blocks and block receipts only need the block numbers: ask for both at once.
    requests = [rpc.batch([("eth_getBlockByNumber", [n, True]) for n in numbers], Block | None, priority)]
    if receipts_mode[0] == "block":
        requests.append(
            rpc.batch([("eth_getBlockReceipts", [n]) for n in numbers], list[Receipt] | None, priority)
        )
    answers = await asyncio.gather(*requests, return_exceptions=True)
    no_block_receipts = (
        len(answers) == 2 and isinstance(answers[1], RpcError) and answers[1].code == METHOD_NOT_FOUND
    )
    for answer in answers[: 1 if no_block_receipts else 2]:
        if isinstance(answer, BaseException):
            raise answer
    blocks: list[Block] = answers[0]  # type: ignore[assignment]
    if any(block is None for block in blocks):
        raise MalformedChunk(f"the node has no block in {first}..{last} yet")
    if no_block_receipts and receipts_mode[0] == "block":
        log.info("the node has no eth_getBlockReceipts; falling back to eth_getTransactionReceipt")
        receipts_mode[0] = "transaction"
    if len(answers) == 2 and not no_block_receipts:
        receipts = [answer or [] for answer in answers[1]]  # type: ignore[union-attr]
    else:
        receipts = await _transaction_receipts(rpc, blocks, priority)
    return blocks, await asyncio.to_thread(normalize_chunk, blocks, receipts)


async def _transaction_receipts(
    rpc: RpcClient, blocks: list[Block], priority: int
) -> list[list[Receipt | None]]:
    """Receipts one call per transaction, for nodes without eth_getBlockReceipts."""
    hashes = [tx.hash for block in blocks for tx in block.transactions]
    flat = await rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes], Receipt | None, priority)
    out, position = [], 0
    for block in blocks:
        count = len(block.transactions)
        out.append(flat[position : position + count])
        position += count
    return out


async def extract_chain(
    url: str,
    chain_name: str,
    chain: ChainConfig,
    settings: ExtractConfig,
    con: duckdb.DuckDBPyConnection,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    stream: TextIO | None = None,
) -> ExtractResult:
    _check_range(from_block, to_block)
    try:
        with _fewer_gc_passes():
            return await _extract_chain(url, chain_name, chain, settings, con, from_block, to_block, stream)
    except RpcUnavailable as exc:
        # Committed chunks stay; a rerun resumes after them.
        raise UserError(
            f"the node at {redact_url(url)} stopped answering ({exc}); check that it is up and the URL is "
            "right, then run again: extraction resumes after the last committed chunk"
        ) from None


def _check_range(from_block: int | None, to_block: int | None) -> None:
    """Block numbers a node cannot answer, refused before anything is asked or written."""
    for flag, number in (("--from-block", from_block), ("--to-block", to_block)):
        if number is not None and number < 0:
            raise UserError(f"{flag} {number} is not a block number; give 0 or more")
    if from_block is not None and to_block is not None and from_block > to_block:
        raise UserError(f"--from-block {from_block} is above --to-block {to_block}; swap them")


@contextmanager
def _fewer_gc_passes() -> Iterator[None]:
    """Collect young objects every 50,000 allocations instead of every 700 while extracting.

    A chunk allocates hundreds of thousands of short-lived, acyclic containers that reference counting
    frees; the cycle collector's frequent passes over them found nothing and cost about 5% of the run."""
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 50_000), *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


async def _extract_chain(
    url: str,
    chain_name: str,
    chain: ChainConfig,
    settings: ExtractConfig,
    con: duckdb.DuckDBPyConnection,
    from_block: int | None,
    to_block: int | None,
    stream: TextIO | None,
) -> ExtractResult:
    async with RpcClient(
        url,
        max_batch=settings.max_batch,
        concurrency=settings.concurrency,
        timeout=settings.timeout,
        max_attempts=settings.max_attempts,
        requests_per_second=settings.requests_per_second,
    ) as rpc:
        node_chain_id = int(await rpc.call("eth_chainId", []), 16)
        if node_chain_id != chain.chain_id:
            raise UserError(
                f"the node at {redact_url(url)} reports chain id {node_chain_id}, but chain '{chain_name}' "
                f"is configured with chain id {chain.chain_id}; fix the URL or chains.{chain_name}.chain_id"
            )
        result = ExtractResult(chain.chain_id, None, None)
        for _ in range(10):  # each pass repairs at most one reorg that happened during the previous one
            try:
                await _extract_pass(rpc, chain, settings, con, result, from_block, to_block, stream)
                break
            except ReorgDuringRun as exc:
                log.warning("chain %s: %s; checking for a reorg and continuing", chain.chain_id, exc)
                from_block = None
        else:
            raise RuntimeError("the chain kept reorganising during extraction; try again later")
        # what imports named since the last run; one small query when nothing waits
        result.addresses_checked = await check_unchecked(rpc, con, chain.chain_id)
        return result


async def _extract_pass(
    rpc: RpcClient,
    chain: ChainConfig,
    settings: ExtractConfig,
    con: duckdb.DuckDBPyConnection,
    result: ExtractResult,
    from_block: int | None,
    to_block: int | None,
    stream: TextIO | None,
) -> None:
    chain_id = chain.chain_id
    resume, fork = await reconcile(rpc, con, chain_id)
    if fork is not None:
        result.reorged_from = fork
    target = await finalized_block(rpc, chain)
    if to_block is not None:
        if to_block > target:
            raise UserError(
                f"--to-block {to_block} is above the last final block {target}; lower it or wait for finality"
            )
        target = to_block
    start = resume if resume is not None else chain.start_block
    if from_block is not None:
        if from_block > start:
            raise UserError(
                f"--from-block {from_block} would leave a gap: blocks from {start} are not extracted yet; "
                f"start at {start} or lower"
            )
        start = from_block
    if start > target:
        log.info("chain %s: nothing new (next block %s, final block %s)", chain_id, start, target)
        return
    # Days other chains reach may be built already, past a nightly build's window (warehouse.begin_chunk)
    others = fetch_one(
        con, "select cast(max(timestamp) as date) from raw.blocks where chain_id <> ?", [chain_id]
    )
    late_before = datetime.combine(others[0], time()) if others and others[0] is not None else None
    progress = Progress(f"extract chain {chain_id}", target - start + 1, "blocks", stream=stream)
    reader = con.cursor()
    codes = AddressCodes(rpc, reader, chain_id)
    receipts_mode = ["block"]
    pending: deque[asyncio.Task[_Fetched]] = deque()
    next_start = start
    # Chunks are sized by transactions, not blocks: a devnet block holds a few, a mainnet block hundreds.
    # The first chunk probes the density; each later one aims at chunk_transactions (memory and commit
    # cost per chunk stay about the same on any chain), never above chunk_size blocks.
    size = min(settings.chunk_size, PROBE_BLOCKS)

    def schedule(in_flight: int) -> None:
        nonlocal next_start
        while len(pending) < in_flight and next_start <= target:
            last = min(next_start + size - 1, target)
            pending.append(asyncio.create_task(_fetch_and_ask(rpc, codes, next_start, last, receipts_mode)))
            next_start = last + 1

    try:
        schedule(1)  # the probe alone: every chunk costs a commit, so none is cut at the probe's size
        while pending:
            fetched = await pending.popleft()
            counts = fetched.tables.counts()
            per_block = max(counts["transactions"] / max(counts["blocks"], 1), 0.1)
            size = max(1, min(settings.chunk_size, int(settings.chunk_transactions / per_block)))
            schedule(settings.chunks_in_flight)  # fetch ahead while this chunk is written
            # the first chunk holds this run's oldest blocks: one rewrite from there covers the later ones
            await _write(con, chain_id, fetched, codes, late_before)
            late_before = None
            result.first_block = fetched.first if result.first_block is None else result.first_block
            result.last_block = fetched.last
            result.blocks += counts["blocks"]
            result.transactions += counts["transactions"]
            result.logs += counts["logs"]
            progress.advance(counts["blocks"], txs=counts["transactions"], logs=counts["logs"])
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await codes.close()
        reader.close()
    progress.finish()


async def _fetch_and_ask(
    rpc: RpcClient, codes: AddressCodes, first: int, last: int, receipts_mode: list[str]
) -> _Fetched:
    fetched = await _fetch_chunk(rpc, first, last, receipts_mode)
    fetched.codes = await codes.ask(fetched.tables.addresses, priority=first)
    return fetched


async def _write(
    con: duckdb.DuckDBPyConnection,
    chain_id: int,
    fetched: _Fetched,
    codes: AddressCodes,
    late_before: datetime | None,
) -> None:
    if fetched.first > 0:
        previous = fetch_one(
            con,
            "select block_hash from raw.blocks where chain_id = ? and block_number = ?",
            [chain_id, fetched.first - 1],
        )
        if previous is not None and previous[0] != fetched.parent_hash:
            raise ReorgDuringRun(
                f"block {fetched.first} does not build on the stored block {fetched.first - 1}"
            )
    assert fetched.codes is not None
    first, last = fetched.first, fetched.last
    await asyncio.to_thread(begin_chunk, con, chain_id, first, last, fetched.tables, late_before)
    try:
        # The node's has-code answers are often still on their way: they are awaited only now, while
        # the block tables are already written.
        flags = await codes.flags(fetched.codes)
    except BaseException:
        con.execute("rollback")  # also on cancellation: nothing of the chunk stays
        raise
    # Rolls back by itself on an error, in its own thread: a cancellation here must not touch the
    # connection while that thread still uses it.
    await asyncio.to_thread(commit_chunk, con, chain_id, first, last, flags)
    codes.committed(fetched.codes)

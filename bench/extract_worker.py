"""One measured run for bench/extract_speed.py: chainseg's extractor or the limit client, in its own process.

    python bench/extract_worker.py chainseg URL LAST DUCKDB_PATH RESULT_JSON
    python bench/extract_worker.py limit URL LAST DUCKDB_PATH RESULT_JSON SETTINGS_JSON

A script of its own, like the peers' drivers, so that a measured process imports only what the tool
needs (not the benchmark's own argparse, subprocess, tempfile...). Each imports before its clock starts
(imports are start-up, not work); the limit gets its settings from the command line, so it does not pay
for the configuration's imports either. Like the cryo driver, which must (cryo's runtime can abort in
interpreter finalization), it ends with os._exit once its output is closed and its result written: every
tool is measured up to the same point.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHAIN_ID = 31337


def main(tool: str, url: str, last: int, out: Path, result: Path, settings: str | None) -> None:
    if tool == "chainseg":
        from chainseg.extract_config import ExtractConfig
        from extract.extractor import extract_chain  # noqa: F401 - imported before the clock starts
        from extract.warehouse import connect  # noqa: F401

        config = ExtractConfig()
        started = time.perf_counter()
        counts = _chainseg(url, out, config)
    else:
        import extract.rpc_client  # noqa: F401

        started = time.perf_counter()
        counts = asyncio.run(_limit(url, last, json.loads(settings or "{}")))
    seconds = time.perf_counter() - started
    result.write_text(json.dumps({"seconds": seconds, **counts}))


def _chainseg(url: str, db_path: Path, settings: object) -> dict[str, int]:
    from chainseg.extract_config import ChainConfig
    from extract.extractor import extract_chain
    from extract.warehouse import connect

    con = connect(db_path)
    try:
        chain = ChainConfig(chain_id=CHAIN_ID, use_finalized=False, confirmations=0)
        extracted = asyncio.run(extract_chain(url, "bench", chain, settings, con))  # type: ignore[arg-type]
        counts = {"blocks": extracted.blocks, "transactions": extracted.transactions, "logs": extracted.logs}
        stored = {t: con.execute(f"select count(*) from raw.{t}").fetchall()[0][0] for t in counts}
        if stored != counts:
            raise RuntimeError(f"the extractor reported {counts} but the warehouse holds {stored}")
    finally:
        con.close()
    return counts


async def _limit(url: str, last: int, settings: dict) -> dict[str, int]:
    """Every block's eth_getBlockByNumber(n, true) and eth_getBlockReceipts(n), in batches of max_batch,
    `concurrency` requests in flight; the answers are parsed (by the client) and counted, nothing kept."""
    from extract.rpc_client import RpcClient

    size = settings["max_batch"]
    batches: deque[list[tuple[str, list]]] = deque()
    for first in range(0, last + 1, size):
        numbers = [hex(n) for n in range(first, min(first + size - 1, last) + 1)]
        batches.append([("eth_getBlockByNumber", [n, True]) for n in numbers])
        batches.append([("eth_getBlockReceipts", [n]) for n in numbers])
    counts = {"blocks": 0, "transactions": 0, "logs": 0}

    async def worker(rpc: RpcClient) -> None:
        while batches:
            batch = batches.popleft()
            answers = await rpc.batch(batch)  # parsed by the client; only counted here, then dropped
            if batch[0][0] == "eth_getBlockByNumber":
                counts["blocks"] += len(answers)
                counts["transactions"] += sum(len(block["transactions"]) for block in answers)
            else:
                counts["logs"] += sum(len(r["logs"]) for receipts in answers for r in receipts)

    async with RpcClient(url, **settings) as rpc:
        await asyncio.gather(*(worker(rpc) for _ in range(settings["concurrency"])))
    return counts


if __name__ == "__main__":
    tool, url, last, out, result, *rest = sys.argv[1:]
    if tool not in ("chainseg", "limit"):
        sys.exit(f"unknown tool {tool!r}; choose chainseg or limit")
    main(tool, url, int(last), Path(out), Path(result), rest[0] if rest else None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)

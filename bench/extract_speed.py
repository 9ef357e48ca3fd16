"""Extraction speed: chainseg against ethereum-etl, cryo and the node's limit, on one chain in one run.

One fresh anvil node is seeded with a scenario, then blocks 0..head are extracted by each tool in its own
process (so each one's peak memory is its own):

  chainseg      extract.extractor.extract_chain into a fresh DuckDB file, default ExtractConfig
  ethereum-etl  2.4.2 (own venv, Python 3.10): export_blocks_and_transactions, the transaction hashes,
                export_receipts_and_logs, in one process as its export_all does
  cryo          0.3.2 (own venv): cryo.freeze of blocks, transactions (with receipt fields), logs to parquet
  limit         a raw batched JSON-RPC client asking exactly what chainseg asks (eth_getBlockByNumber(n, true)
                and eth_getBlockReceipts(n) per block) at the same batch size and concurrency, parsing the
                answers and keeping nothing: the node + transport floor

The peers' venvs are created under .bench-venvs/ on first use. Prints wall seconds, blocks, transactions
and logs per second, peak RSS, and the targets: chainseg / fastest peer >= 1.0, chainseg / ethereum-etl
>= 3.0, chainseg / limit >= 0.5.

    .venv/bin/python bench/extract_speed.py [--scenario demo|tiny] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's modules are imported lazily: each worker takes only its own

from bench.process_measure import GNU_TIME, TOOL_TIMEOUT, kill_started, measure  # noqa: E402

VENVS = ROOT / ".bench-venvs"
CHAIN_ID = 31337
ETL_REQUIREMENT = ("ethereum-etl", "2.4.2")
CRYO_REQUIREMENT = ("cryo", "0.3.2")
ETL_PYTHONS = ["/root/.pyenv/versions/3.10.13/bin/python", "python3.10"]  # it does not import on 3.11
CRYO_PYTHONS = ["/root/.pyenv/versions/3.11.7/bin/python", "python3.11", getattr(sys, "_base_executable", "")]
PEERS = ("ethereum-etl", "cryo")
ORDER = ("chainseg", "ethereum-etl", "cryo", "limit")  # measured runs, always in this order

# Run inside the ethereum-etl venv: what its export_all does for blocks, transactions, receipts and logs.
ETL_DRIVER = """
import csv, json, os, sys, time
from ethereumetl.cli import cli
started = time.perf_counter()
url, last, workers, batch, out, result = sys.argv[1:7]
csv.field_size_limit(sys.maxsize)  # contract creations carry long input fields
common = ["--provider-uri", url, "--max-workers", workers, "--batch-size", batch]
cli.main(["export_blocks_and_transactions", "--start-block", "0", "--end-block", last, *common,
          "--blocks-output", out + "/blocks.csv", "--transactions-output", out + "/transactions.csv"],
         standalone_mode=False)
with open(out + "/transactions.csv", newline="") as src, open(out + "/transaction_hashes.txt", "w") as dst:
    for row in csv.DictReader(src):
        dst.write(row["hash"] + "\\n")
cli.main(["export_receipts_and_logs", "--transaction-hashes", out + "/transaction_hashes.txt", *common,
          "--receipts-output", out + "/receipts.csv", "--logs-output", out + "/logs.csv"],
         standalone_mode=False)
with open(result, "w") as f:
    json.dump({"seconds": time.perf_counter() - started}, f)
os._exit(0)  # as the other drivers: every tool is measured up to its output being closed
"""

# Run inside the cryo venv.
CRYO_DRIVER = """
import json, os, sys, time
import cryo
started = time.perf_counter()
url, end, out, result, options = sys.argv[1:6]
cryo.freeze(["blocks", "transactions", "logs"], rpc=url, start_block=0, end_block=int(end), output_dir=out,
            **json.loads(options))
with open(result, "w") as f:
    json.dump({"seconds": time.perf_counter() - started}, f)
os._exit(0)  # cryo 0.3.2's Rust runtime can abort in interpreter finalization (PyGILState_Release)
"""


@dataclass
class Run:
    tool: str
    wall: float  # the whole process, interpreter start-up and imports included
    work: float  # what the tool reported for its own work (after imports)
    peak_mb: float
    counts: dict[str, int]


@dataclass
class Tool:
    name: str
    settings: str
    argv: list[str]
    out_dir: Path
    count: Callable[[Path, dict], dict[str, int]]  # (output folder, result JSON) -> counts
    runs: list[Run] = field(default_factory=list)

    def best(self) -> Run:
        return min(self.runs, key=lambda run: run.wall)


# ---------------------------------------------------------------------------------------------- processes

# ---------------------------------------------------------------------------------------------- set-up


def find_python(candidates: list[str]) -> str | None:
    for candidate in candidates:
        found = shutil.which(candidate) if candidate and "/" not in candidate else candidate
        if found and Path(found).is_file() and os.access(found, os.X_OK):
            return found
    return None


def installed_version(python: Path, dist: str) -> str | None:
    probe = subprocess.run(
        [str(python), "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() if probe.returncode == 0 else None


def ensure_venv(name: str, pythons: list[str], requirement: tuple[str, str]) -> Path | None:
    """The venv's python with `requirement` installed (set up if missing); None if that is impossible."""
    dist, version = requirement
    venv = VENVS / name
    python = venv / "bin" / "python"
    if python.exists() and installed_version(python, dist) == version:
        print(f"setup: {dist}=={version} already installed in {venv.relative_to(ROOT)}")
        return python
    if not python.exists():
        base = find_python(pythons)
        if base is None:
            tried = ", ".join(p for p in pythons if p)
            print(f"setup: no Python for {name} (tried {tried}); skipping {name}")
            return None
        print(f"setup: creating {venv.relative_to(ROOT)} with {base}")
        subprocess.run([base, "-m", "venv", str(venv)], check=True, timeout=TOOL_TIMEOUT)
    print(f"setup: pip install {dist}=={version} into {venv.relative_to(ROOT)}")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    try:
        subprocess.run([*pip, f"{dist}=={version}"], check=True, timeout=TOOL_TIMEOUT)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        print(f"setup: installing {dist}=={version} failed ({exc}); skipping {name}")
        return None
    return python


# ---------------------------------------------------------------------------------------------- counting


def count_csv(path: Path) -> int:
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


def count_etl(out: Path, result: dict) -> dict[str, int]:
    names = {"blocks": "blocks.csv", "transactions": "transactions.csv", "logs": "logs.csv"}
    return {key: count_csv(out / name) for key, name in names.items()}


def count_cryo(out: Path, result: dict) -> dict[str, int]:
    import pyarrow.parquet as pq

    counts = {}
    for dataset in ("blocks", "transactions", "logs"):
        files = sorted(out.glob(f"*__{dataset}__*.parquet"))
        counts[dataset] = sum(pq.read_metadata(f).num_rows for f in files)
    return counts


def count_reported(out: Path, result: dict) -> dict[str, int]:
    return {key: int(result[key]) for key in ("blocks", "transactions", "logs")}


# ---------------------------------------------------------------------------------------------- the run


def build_tools(args: argparse.Namespace, url: str, last: int, tmp: Path) -> dict[str, Tool]:
    from chainseg.extract_config import ExtractConfig

    worker_script = [sys.executable, str(Path(__file__).resolve().parent / "extract_worker.py")]
    settings = ExtractConfig()
    client = {key: getattr(settings, key) for key in ("max_batch", "concurrency", "timeout", "max_attempts")}
    ours = (
        f"chunk {settings.chunk_size}, batch {settings.max_batch}, "
        f"{settings.concurrency} requests, {settings.chunks_in_flight} chunks ahead"
    )
    tools: dict[str, Tool] = {}
    wanted = set(args.tools.split(","))
    for name in ("chainseg", "limit"):  # the limit always: it also warms the node up
        if name in wanted or name == "limit":
            out = tmp / name
            worker = [*worker_script, name, url, str(last), str(out / "chainseg.duckdb")]
            worker.append(str(out / "result.json"))
            if name == "limit":
                worker.append(json.dumps(client))
            limit = f"batch {settings.max_batch}, {settings.concurrency} requests"
            tools[name] = Tool(name, ours if name == "chainseg" else limit, worker, out, count_reported)
    if "ethereum-etl" in wanted:
        python = ensure_venv("ethereum-etl", ETL_PYTHONS, ETL_REQUIREMENT)
        if python:
            out = tmp / "ethereum-etl"
            argv = [str(python), "-c", ETL_DRIVER, url, str(last), str(args.etl_workers), str(args.etl_batch)]
            argv += [str(out), str(out / "result.json")]
            settings_text = f"--max-workers {args.etl_workers} --batch-size {args.etl_batch}"
            tools["ethereum-etl"] = Tool("ethereum-etl", settings_text, argv, out, count_etl)
    if "cryo" in wanted:
        python = ensure_venv("cryo", CRYO_PYTHONS, CRYO_REQUIREMENT)
        if python:
            out = tmp / "cryo"
            options: dict[str, object] = {"no_verbose": True}
            if args.cryo_chunk_size:
                options["chunk_size"] = args.cryo_chunk_size
            argv = [str(python), "-c", CRYO_DRIVER, url, str(last + 1), str(out), str(out / "result.json")]
            argv.append(json.dumps(options))
            chunk = args.cryo_chunk_size or "default (1000)"
            settings_text = f"chunk_size {chunk}, default concurrency (4 chunks, requests unlimited)"
            tools["cryo"] = Tool("cryo", settings_text, argv, out, count_cryo)
    return tools


def run_once(tool: Tool, logs: Path) -> Run:
    shutil.rmtree(tool.out_dir, ignore_errors=True)
    tool.out_dir.mkdir(parents=True)
    wall, peak_mb = measure(tool.argv, logs / f"{tool.name}.log", cwd=tool.out_dir)
    result = json.loads((tool.out_dir / "result.json").read_text())
    counts = tool.count(tool.out_dir, result)
    return Run(tool.name, wall, float(result["seconds"]), peak_mb, counts)


def anvil_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ratio_line(label: str, ours: Run, other: Run | None, target: float) -> str:
    if other is None:
        return f"{label:<36} n/a (not run)"
    wall, work = other.wall / ours.wall, other.work / ours.work  # throughput ratio over the same blocks
    verdict = "met" if wall >= target else "NOT MET"
    return f"{label:<36}{wall:>6.2f}  (work only {work:.2f})   target >= {target:.1f}: {verdict}"


def report(
    tools: dict[str, Tool], label: str, last: int, seed_seconds: float, anvil_mb: float | None
) -> None:
    best = {name: tool.best() for name, tool in tools.items() if tool.runs}
    if not best:
        print("no tool completed a run")
        return
    reference = best.get("limit") or next(iter(best.values()))
    print()
    print(
        f"{label}: blocks 0..{last} ({reference.counts['blocks']:,} blocks, "
        f"{reference.counts['transactions']:,} transactions, {reference.counts['logs']:,} logs)"
        + (f"; seeded in {seed_seconds:.1f} s" if seed_seconds else "")
    )
    header = f"{'tool':<14}{'wall s':>8}{'work s':>8}{'blocks/s':>10}{'tx/s':>10}{'logs/s':>10}"
    header += f"{'peak RSS MB':>13}"
    print(header + "  settings")
    print("-" * (len(header) + 10))
    for name in ORDER:
        if name not in best:
            continue
        run = best[name]
        c = run.counts
        print(
            f"{name:<14}{run.wall:>8.2f}{run.work:>8.2f}{c['blocks'] / run.wall:>10,.0f}"
            f"{c['transactions'] / run.wall:>10,.0f}{c['logs'] / run.wall:>10,.0f}{run.peak_mb:>13,.0f}"
            f"  {tools[name].settings}"
        )
    print("wall s: the whole process (start-up and imports included), the basis of rates and ratios;")
    print("work s: the tool's own work after its imports. Best of the runs by wall time.")
    for name, run in best.items():
        if run.counts != reference.counts:
            print(f"WARNING: {name} extracted {run.counts}, the {reference.tool} run {reference.counts}")
    ours = best.get("chainseg")
    if ours is not None:
        peers = [best[p] for p in PEERS if p in best]
        fastest = min(peers, key=lambda run: run.wall) if peers else None
        print()
        print(ratio_line(f"chainseg / fastest peer ({fastest.tool if fastest else '-'})", ours, fastest, 1.0))
        print(ratio_line("chainseg / ethereum-etl", ours, best.get("ethereum-etl"), 3.0))
        print(ratio_line("chainseg / limit", ours, best.get("limit"), 0.5))
        print("(ratios of throughput over the same blocks: the other tool's seconds / chainseg's seconds)")
    how = "GNU time -v, the tool's process" if GNU_TIME else "/proc polled every 50 ms, process tree summed"
    anvil = (
        f"{anvil_mb:,.0f} MB" if anvil_mb is not None else "not measured (a node the benchmark did not start)"
    )
    print(f"peak RSS: {how}. anvil's peak RSS (VmHWM) over the whole run: {anvil}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=1, help="measured runs per tool; the best is shown")
    parser.add_argument("--tools", default=",".join(ORDER), help="a comma-separated subset of the default")
    parser.add_argument("--etl-workers", type=int, default=8, help="ethereum-etl --max-workers")
    parser.add_argument("--etl-batch", type=int, default=100, help="ethereum-etl --batch-size")
    parser.add_argument("--cryo-chunk-size", type=int, default=0, help="cryo chunk_size (0: its default)")
    parser.add_argument(
        "--node",
        metavar="URL",
        help="measure on this already seeded local node (chain id 31337) instead of starting and seeding "
        "one (`chainseg devnet up --chain-id 31337`, then `chainseg devnet seed --scenario large`): to "
        "measure a big chain more than once without seeding it each time",
    )
    args = parser.parse_args()
    unknown = set(args.tools.split(",")) - set(ORDER)
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if unknown:
        parser.error(f"unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(ORDER)}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up below runs
    try:
        bench(args)
    finally:
        kill_started()


def bench(args: argparse.Namespace) -> None:
    from chainseg.config import DevnetConfig
    from devnet.jsonrpc import JsonRpc
    from devnet.node import NodeInfo, start_node, stop_node
    from devnet.seeder import seed_chain

    VENVS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="extract_speed_") as tmp_dir:
        tmp = Path(tmp_dir)
        logs = tmp / "logs"
        logs.mkdir()
        node: NodeInfo | None = None
        if args.node:
            url, label, seed_seconds = args.node, "an already seeded node", 0.0
            chain_id = int(JsonRpc(url).call("eth_chainId", []), 16)
            if chain_id != CHAIN_ID:
                sys.exit(
                    f"the node reports chain id {chain_id}; the benchmark needs a devnet with {CHAIN_ID}"
                )
        else:
            node = start_node(
                chain_id=CHAIN_ID,
                log_path=logs / "anvil.log",
                genesis_timestamp=DevnetConfig().genesis_timestamp,
                die_with_parent=True,
            )
            url, label = node.url, f"scenario {args.scenario}"
        try:
            if node is not None:
                print(f"seeding scenario {args.scenario} on {node.url} ...", flush=True)
                started = time.perf_counter()
                seed_chain(node.url, args.scenario, args.seed, tmp / "state")
                seed_seconds = time.perf_counter() - started
            last = int(JsonRpc(url).call("eth_blockNumber", []), 16)
            tools = build_tools(args, url, last, tmp)
            if "limit" in tools:
                print("warm-up: one limit run (discarded)", flush=True)
                with contextlib.suppress(RuntimeError):  # a failing limit is reported by its measured runs
                    run_once(tools["limit"], logs)
            measured = [name for name in ORDER if name in tools and name in args.tools.split(",")]
            for round_ in range(args.repeat):
                for name in measured:
                    step = f"run {round_ + 1}/{args.repeat} {name}"
                    try:
                        run = run_once(tools[name], logs)
                    except (RuntimeError, OSError, ValueError, KeyError) as exc:
                        print(f"{step} FAILED: {exc}", flush=True)  # the other tools still run
                        continue
                    tools[name].runs.append(run)
                    print(f"{step}: {run.wall:.2f} s, {run.peak_mb:,.0f} MB", flush=True)
            anvil_mb = anvil_peak_mb(node.pid) if node is not None else None
        finally:
            if node is not None:
                stop_node(node)
        report(tools, label, last, seed_seconds, anvil_mb)


if __name__ == "__main__":
    main()

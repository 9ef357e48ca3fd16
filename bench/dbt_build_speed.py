"""dbt build speed on a synthetic warehouse of 10 million transfers and 1 million wallets.

In one run, on one generated warehouse (bench/synthetic_warehouse.py), each step in its own process:

1. `chainseg build --full-refresh` as of the last generated day: every model, data test and unit test;
2. the limit: the same models' SQL, compiled by step 1, run directly in DuckDB without dbt (each model
   `create or replace table/view ... as <its compiled SQL>`, in dependency order, on a fresh copy of the
   raw tables; ml_training_snapshots' queries for each cutoff step 1 stored, as its post-hook runs
   them), so the ratio shows what dbt and its tests cost over the SQL itself;
3. one new day moved into `raw` (what a nightly extraction adds), then `chainseg build` as of that day:
   the incremental path;
4. the same as 3 without unit tests (`--exclude-resource-type unit_test`), what a production night needs:
   unit tests check the SQL, not the data, and run in the test suite.

Prints wall seconds, peak RSS and the ratios against the targets (full build under 3 minutes and within
1.5x of the direct SQL; one-day incremental build under 20 seconds).

    .venv/bin/python bench/dbt_build_speed.py [--transfers 10000000] [--wallets 1000000] [--days 365]

The generated warehouse is kept under .bench/dbt/ (git-ignored) and reused by later runs with the same
arguments; `--regenerate` makes it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.process_measure import GNU_TIME, kill_started, measure  # noqa: E402
from bench.synthetic_warehouse import collection_address, generate, release_held  # noqa: E402
from extract.schema import create_raw_schema  # noqa: E402

WORKDIR = ROOT / ".bench" / "dbt"
FULL_BUILD_TARGET_S = 180.0
DIRECT_RATIO_TARGET = 1.5
INCREMENTAL_TARGET_S = 20.0
# Free disk the run needs, in sizes of the generated warehouse: the full build's copy and the direct step's
# copy, side by side during step 2, each grow to about 7.5 times the generated file (2 GB -> 14-15 GB).
DISK_NEEDED_FACTOR = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=10_000_000)
    parser.add_argument("--wallets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--regenerate", action="store_true", help="generate the warehouse again")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument(
        "--timeout-minutes", type=float, default=60, help="stop a step after this long (default 60)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the built warehouse (WORKDIR/dbt) after the run"
    )
    parser.add_argument("--direct-sql", type=Path, help=argparse.SUPPRESS)  # the worker of step 2
    args = parser.parse_args()
    if args.direct_sql:
        run_direct_sql(args.direct_sql)
        return
    try:
        benchmark(args)
    finally:
        kill_started()


def benchmark(args: argparse.Namespace) -> None:
    work: Path = args.workdir
    limit = args.timeout_minutes * 60
    pristine = work / "pristine" / "chainseg.duckdb"
    last_day = ensure_generated(pristine, args)
    check_free_disk(work, pristine)
    logs = work / "logs"
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    rows: list[tuple[str, float, float]] = []

    dbt_dir = fresh_copy(pristine, work / "dbt")
    config = write_config(dbt_dir)
    chainseg = [str(Path(sys.executable).with_name("chainseg")), "--config", str(config), "build"]
    print(f"1. chainseg build --full-refresh as of {last_day} ...", flush=True)
    manifest = dbt_dir / "state" / "dbt" / "target" / "manifest.json"
    try:
        wall, peak = measure(
            [*chainseg, "--full-refresh", "--as-of", last_day.isoformat()], logs / "full.log", dbt_dir, limit
        )
    except RuntimeError as failure:
        print(f"the full build FAILED, so no target is met: {failure}")
        print_slowest(manifest.with_name("run_results.json"))
        raise SystemExit(1) from None
    rows.append(("dbt full build (models + data tests + unit tests)", wall, peak))
    full_wall = wall
    full_results = Path(shutil.copy(manifest.with_name("run_results.json"), logs / "full_run_results.json"))
    breakdown = node_time_breakdown(full_results)

    direct_dir = fresh_copy(pristine, work / "direct")
    shutil.copy(manifest, direct_dir / "manifest.json")
    write_snapshot_queries(config, last_day, dbt_dir / "warehouse" / pristine.name, direct_dir)
    print("2. the same models' SQL directly in DuckDB ...", flush=True)
    worker = [sys.executable, str(Path(__file__).resolve()), "--direct-sql", str(direct_dir)]
    direct_wall, peak = measure(worker, logs / "direct.log", direct_dir, limit)
    rows.append(("direct SQL in DuckDB, models only (the limit)", direct_wall, peak))
    shutil.rmtree(direct_dir)

    moved = release_held(dbt_dir / "warehouse" / "chainseg.duckdb")
    next_day = last_day + timedelta(days=1)
    print(f"3. one new day ({moved:,} transfers), chainseg build as of {next_day} ...", flush=True)
    wall, peak = measure(
        [*chainseg, "--as-of", next_day.isoformat()], logs / "incremental.log", dbt_dir, limit
    )
    rows.append(("dbt one-day incremental build (everything)", wall, peak))
    incremental_all = wall
    print("4. the same night again without unit tests ...", flush=True)
    wall, peak = measure(
        [*chainseg, "--as-of", next_day.isoformat(), "--no-unit-tests"],
        logs / "incremental_nightly.log",
        dbt_dir,
        limit,
    )
    rows.append(("dbt one-day incremental build, no unit tests", wall, peak))
    incremental_nightly = wall
    if args.keep:
        print(f"kept the built warehouse in {dbt_dir}")
    else:
        shutil.rmtree(dbt_dir)

    print()
    print(f"{'step':<52} {'wall s':>8} {'peak RSS MB':>12}")
    for name, seconds, mb in rows:
        print(f"{name:<52} {seconds:>8.1f} {mb:>12.0f}")
    print(f"(peak RSS: {'GNU time -v' if GNU_TIME else '/proc polled every 50 ms'}; logs in {logs})")
    print()
    print("dbt node time, summed over nodes (side by side when profiles.yml has threads > 1):")
    for kind, (count, seconds) in breakdown.items():
        print(f"  {kind:<10} {count:>4} nodes {seconds:>8.1f} s")
    print_slowest(full_results)
    ratio = full_wall / direct_wall
    models_ratio = breakdown.get("model", (0, 0.0))[1] / direct_wall
    print()
    verdicts = [
        (
            "full build wall time",
            f"{full_wall:.1f} s",
            f"< {FULL_BUILD_TARGET_S:.0f} s",
            full_wall < FULL_BUILD_TARGET_S,
        ),
        (
            "full build / direct SQL",
            f"{ratio:.2f}x",
            f"<= {DIRECT_RATIO_TARGET}x",
            ratio <= DIRECT_RATIO_TARGET,
        ),
        ("dbt model time / direct SQL", f"{models_ratio:.2f}x", "(information)", None),
        (
            "one-day incremental (no unit tests)",
            f"{incremental_nightly:.1f} s",
            f"< {INCREMENTAL_TARGET_S:.0f} s",
            incremental_nightly < INCREMENTAL_TARGET_S,
        ),
        ("one-day incremental (everything)", f"{incremental_all:.1f} s", "(information)", None),
    ]
    for name, value, target, met in verdicts:
        verdict = "" if met is None else ("met" if met else "NOT MET")
        print(f"{name:<40} {value:>10}  target {target:<14} {verdict}")


def ensure_generated(pristine: Path, args: argparse.Namespace) -> date:
    """Generate the raw warehouse unless one made by the same generator and arguments exists."""
    source = (ROOT / "bench" / "synthetic_warehouse.py").read_bytes()
    key = {
        "transfers": args.transfers,
        "wallets": args.wallets,
        "days": args.days,
        "generator": hashlib.sha256(source).hexdigest(),
    }
    meta_path = pristine.with_name("generated.json")
    if not args.regenerate and pristine.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta["key"] == key:
            print(f"reusing {pristine} ({meta['summary']})", flush=True)
            return date.fromisoformat(meta["last_raw_day"])
    print(f"generating {args.transfers:,} transfers for {args.wallets:,} wallets over {args.days} days ...")
    made = generate(pristine, transfers=args.transfers, wallets=args.wallets, days=args.days)
    summary = (
        f"{made.transfers:,} transfers, {made.sales:,} sales, {made.transactions:,} transactions, "
        f"{made.blocks:,} blocks, {made.wallets:,} wallets; {made.held_transfers:,} transfers held back "
        f"for the incremental day"
    )
    print(f"generated in {made.seconds:.0f} s: {summary}", flush=True)
    meta = {"key": key, "summary": summary, "last_raw_day": made.last_raw_day.isoformat()}
    meta_path.write_text(json.dumps(meta))
    return made.last_raw_day


def check_free_disk(work: Path, pristine: Path) -> None:
    """Stop before step 1 if the run's copies would fill the disk (a full disk fails DuckDB mid-build)."""
    for stale in ("dbt", "direct"):  # copies an interrupted or --keep run left behind are replaced anyway
        shutil.rmtree(work / stale, ignore_errors=True)
    needed = DISK_NEEDED_FACTOR * pristine.stat().st_size
    free = shutil.disk_usage(work).free
    if free < needed:
        raise SystemExit(
            f"not enough free disk under {work}: {free / 1e9:.0f} GB free, the run needs about "
            f"{needed / 1e9:.0f} GB; free some space or pass --workdir on a larger disk"
        )


def fresh_copy(pristine: Path, folder: Path) -> Path:
    """A copy of the generated warehouse under folder/warehouse/, under the same file name: compiled SQL
    names the database after the file."""
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "warehouse").mkdir(parents=True)
    shutil.copy(pristine, folder / "warehouse" / pristine.name)
    return folder


def write_config(folder: Path) -> Path:
    """The project's chainseg.yml with its state under `folder` and the example cohorts pointed at a
    collection that exists in the synthetic data."""
    text = (ROOT / "chainseg.yml").read_text()
    text = text.replace("state_dir: .chainseg", "state_dir: state")
    text = text.replace("0x350335f4027b7cfc04362225bf960b9877925b94", collection_address(0))
    path = folder / "chainseg.yml"
    path.write_text(text)
    return path


def node_time_breakdown(run_results: Path) -> dict[str, tuple[int, float]]:
    results = json.loads(run_results.read_text())["results"]
    out: dict[str, tuple[int, float]] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        count, seconds = out.get(kind, (0, 0.0))
        out[kind] = (count + 1, seconds + result["execution_time"])
    return out


def print_slowest(run_results: Path, count: int = 15) -> None:
    """The nodes that took longest in the last dbt run: where to look first."""
    if not run_results.exists():
        return
    results = json.loads(run_results.read_text())["results"]
    print(f"slowest {count} nodes of the full build:")
    for result in sorted(results, key=lambda r: -r["execution_time"])[:count]:
        print(f"  {result['execution_time']:>7.1f} s  {result['status']:<7} {result['unique_id']}")


def write_snapshot_queries(config_path: Path, as_of: date, warehouse: Path, folder: Path) -> None:
    """What the direct step needs to do ml_training_snapshots' work as dbt did: the cutoffs the full build
    stored, newest first (the model's select computes the newest, its post-hook inserts the others, one
    query each), and the post-hook's queries as dbt compiles them: the balance spans it makes first when
    it inserts many cutoffs (macros/segments_snapshots.sql) and one older cutoff's query."""
    import duckdb

    from chainseg.config import load_config
    from flows.dbt_build import compile_inline

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select distinct cast(cutoff_date as varchar) from marts.ml_training_snapshots order by 1 desc"
        ).fetchall()
    cutoffs = [cutoff for (cutoff,) in rows]
    config = load_config(config_path)
    older = cutoffs[1:]
    spans = None
    fewest = int(compile_inline(config, "{{ ml_snapshot_spans_min_cutoffs() }}", as_of=as_of))
    if older and len(older) >= fewest:
        spans_of = f"{{{{ ml_snapshot_holding_spans_select('{max(older)}') }}}}"
        spans = compile_inline(config, spans_of, as_of=as_of)
    holdings = "'ml_snapshot_holding_spans'" if spans else "none"
    older_query = None
    if older:
        older_query = compile_inline(
            config, f"{{{{ ml_snapshot_select('{older[0]}', holding_spans={holdings}) }}}}", as_of=as_of
        )
    queries = {"cutoffs": cutoffs, "holding_spans": spans, "older_cutoff": older_query}
    (folder / "snapshot_queries.json").write_text(json.dumps(queries))


def run_direct_sql(folder: Path) -> None:
    """Step 2's worker: every model of the manifest, in dependency order, as plain DuckDB statements."""
    import duckdb

    manifest = json.loads((folder / "manifest.json").read_text())
    models = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"}
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in models:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(uid)

    for uid in sorted(models):
        visit(uid)
    con = duckdb.connect(str(folder / "warehouse" / "chainseg.duckdb"))
    create_raw_schema(con)  # as `chainseg build` does: raw columns added since the warehouse was generated
    started = time.perf_counter()
    for uid in ordered:
        node = models[uid]
        kind = "view" if node["config"]["materialized"] == "view" else "table"
        relation = node["relation_name"]
        con.execute(f'create schema if not exists "{node["schema"]}"')
        con.execute(f"create or replace {kind} {relation} as (\n{node['compiled_code']}\n)")
        if node["name"] == "ml_training_snapshots":
            # the compiled select is the newest cutoff's query; the post-hook's for each older cutoff
            queries = json.loads((folder / "snapshot_queries.json").read_text())
            older = queries["cutoffs"][1:]
            if queries["holding_spans"]:
                con.execute(f"create temporary table ml_snapshot_holding_spans as {queries['holding_spans']}")
            for cutoff in older:
                con.execute(f"insert into {relation} {queries['older_cutoff'].replace(older[0], cutoff)}")
            if queries["holding_spans"]:
                con.execute("drop table ml_snapshot_holding_spans")
    con.close()
    print(f"{len(ordered)} models in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

"""The `chainseg` command line.

Exit codes: 0 success, 2 a problem the user can fix (one line on stderr saying what to do), 1 anything
else (a bug: the traceback is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from chainseg.config import Config, DevnetConfig, load_config
from chainseg.errors import UserError
from devnet.node import NodeInfo, node_chain_id, start_node, stop_node
from devnet.state import clear_state, read_state, write_state
from flows.chain_source import chain_url

if TYPE_CHECKING:
    import duckdb

DEFAULT_SEED = 42


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; give it as YYYY-MM-DD") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainseg", description="Wallet segments from on-chain history.")
    parser.add_argument("--config", type=Path, help="configuration file (default: ./chainseg.yml if present)")
    parser.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (overrides the configuration)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="the nightly pipeline on the configured source (default: local devnet)"
    )
    run.add_argument("--scenario", default="demo", help="scenario seeded into a fresh devnet (default: demo)")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed of the simulated history")
    run.add_argument(
        "--chain", help="a chain named under 'chains:' in the configuration (default: default_chain)"
    )

    extract = commands.add_parser("extract", help="pull blocks, transactions, receipts and logs into raw.*")
    extract.add_argument(
        "--chain", help="a chain named under 'chains:' in the configuration (default: default_chain)"
    )
    extract.add_argument(
        "--from-block", type=int, help="re-extract from this block (replaces what is stored)"
    )
    extract.add_argument("--to-block", type=int, help="stop at this block (default: the last final block)")

    build = commands.add_parser("build", help="dbt: staging, intermediate and mart models, with their tests")
    build.add_argument("--as-of", type=_day, help="run date YYYY-MM-DD (default: newest block's day)")
    build.add_argument("--select", help="dbt node selection, e.g. +wallet_activity_daily")
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    build.add_argument("--docs", action="store_true", help="also run `dbt docs generate`")
    build.add_argument(
        "--no-unit-tests", action="store_true", help="skip dbt's unit tests (they check SQL, not data)"
    )
    build.add_argument(
        "--test-whole-tables",
        action="store_true",
        help="test every table whole; by default the tests of a model built incrementally look at the days "
        "it rewrote",
    )

    imports = commands.add_parser("import", help="load exported files (ethereum-etl, cryo, Dune nft.trades)")
    imports.add_argument("kind", choices=["ethereum-etl", "cryo", "dune-trades"], help="what made the files")
    imports.add_argument("paths", nargs="+", type=Path, help="files or folders (all files of one export)")
    imports.add_argument("--chain", help="the chain the files belong to (default: default_chain)")

    devnet = commands.add_parser("devnet", help="the local anvil chain with a simulated NFT marketplace")
    actions = devnet.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the local node (no-op if it already runs)")
    up.add_argument("--chain-id", type=int, help="chain id (default: devnet.chain_id in the configuration)")
    up.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    actions.add_parser("down", help="stop the local node")
    actions.add_parser("status", help="print the node's URL, chain id and head block")
    seed = actions.add_parser("seed", help="write a simulated marketplace history onto the fresh local node")
    seed.add_argument(
        "--scenario", default="demo", help="demo (about 1,000 wallets, 120 days), large, or tiny"
    )
    seed.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="random seed; the same seed gives the same chain"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = {"warehouse": args.warehouse} if args.warehouse else {}
        config = load_config(args.config, overrides)
        handler = {"run": _run, "extract": _extract, "import": _import, "build": _build}.get(
            args.command
        ) or _DEVNET[args.action]
        handler(config, args)
    except UserError as exc:
        print(f"chainseg: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chainseg: interrupted", file=sys.stderr)
        return 130
    return 0


def _devnet_up(config: Config, args: argparse.Namespace) -> NodeInfo:
    # Flags go through the same validation as the configuration file.
    flags = {
        key: value for key, value in (("chain_id", args.chain_id), ("port", args.port)) if value is not None
    }
    try:
        settings = DevnetConfig.model_validate({**config.devnet.model_dump(), **flags})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise UserError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
    running = read_state(config.state_path)
    if running:
        if running.chain_id != settings.chain_id or (settings.port and running.port != settings.port):
            raise UserError(
                f"a devnet with chain id {running.chain_id} already runs on port {running.port}; "
                "run `chainseg devnet down` first"
            )
        print(f"devnet already running: {running.url} (chain id {running.chain_id}, pid {running.pid})")
        return running
    info = start_node(
        chain_id=settings.chain_id,
        port=settings.port,
        anvil=config.path(settings.anvil) if settings.anvil else None,
        genesis_timestamp=settings.genesis_timestamp,
        block_gas_limit=settings.block_gas_limit,
        log_path=config.state_path / "devnet.log",
    )
    write_state(config.state_path, info)
    print(f"devnet up: {info.url} (chain id {info.chain_id}, pid {info.pid})")
    return info


def _devnet_down(config: Config, args: argparse.Namespace) -> None:
    running = read_state(config.state_path)
    if running is None:
        clear_state(config.state_path)
        print("devnet: not running")
        return
    stop_node(running)
    clear_state(config.state_path)
    print(f"devnet stopped (pid {running.pid})")


def _devnet_status(config: Config, args: argparse.Namespace) -> None:
    running = read_state(config.state_path)
    if running is None:
        print("devnet: not running (start it with `chainseg devnet up`)")
        return
    answering = node_chain_id(running.url) is not None
    print(f"devnet: running, {running.url}, chain id {running.chain_id}, pid {running.pid}")
    if answering:
        from devnet.jsonrpc import JsonRpc

        head = int(JsonRpc(running.url).call("eth_blockNumber"), 16)
        print(f"head block: {head}")
    else:
        print("the process runs but does not answer JSON-RPC; see " + running.log_path)


def _require_devnet(config: Config) -> NodeInfo:
    running = read_state(config.state_path)
    if running is None:
        raise UserError("no devnet is running; start one with `chainseg devnet up`")
    return running


def _devnet_seed(config: Config, args: argparse.Namespace) -> None:
    from devnet.seeder import seed_chain
    from devnet.summary import summarize

    node = _require_devnet(config)
    result = seed_chain(node.url, args.scenario, args.seed, config.state_path)
    print(f"seeded scenario '{result.scenario}' (seed {result.seed}); answer key: {result.answer_key}")
    print("\n".join(summarize(node.url).lines()))


def _run(config: Config, args: argparse.Namespace) -> None:
    """The nightly pipeline (a Prefect flow). On the embedded default it first brings up the local devnet
    and seeds it once; so far the flow extracts, and later stages join it as they land."""
    from devnet.jsonrpc import JsonRpc
    from devnet.seeder import seed_chain
    from devnet.summary import summarize

    name, chain = config.chain(args.chain)
    if chain.rpc_url_env is None:
        node = read_state(config.state_path) or _devnet_up(
            config, argparse.Namespace(chain_id=None, port=None)
        )
        if int(JsonRpc(node.url).call("eth_blockNumber"), 16) == 0:
            result = seed_chain(node.url, args.scenario, args.seed, config.state_path)
            print(
                f"seeded scenario '{result.scenario}' (seed {result.seed}); answer key: {result.answer_key}"
            )
        else:
            print(f"devnet at {node.url} already holds a history; not seeding again")
        print("\n".join(summarize(node.url).lines()))
    # Prefect keeps its run history under the project's state folder unless the user points it elsewhere.
    # It does not create that folder's parents: with a node of the user's (no devnet state written yet)
    # its server's database could not be opened and the run failed after two minutes of retries.
    prefect_home = Path(os.environ.setdefault("PREFECT_HOME", str(config.state_path / "prefect")))
    prefect_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no phoning home from a batch job
    # Prefect gives its ephemeral API server 20 s to start (imports, database migrations); on a busy
    # 2-core machine that start took longer and the run failed before any work.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.nightly import nightly

    results = nightly(config, [name])
    built = results.pop("build")
    for chain_name, result in results.items():
        if result["last_block"] is None:
            print(f"chain {chain_name}: warehouse already up to date")
        else:
            print(
                f"chain {chain_name}: extracted blocks {result['first_block']}..{result['last_block']} "
                f"({result['transactions']:,} transactions, {result['logs']:,} logs) "
                f"into {config.warehouse_path}"
            )
    print(f"dbt build as of {built['as_of']}: {built['nodes']} models and tests passed")
    if chain.rpc_url_env is None:
        print("the devnet keeps running; stop it with `chainseg devnet down`")


def _extract(config: Config, args: argparse.Namespace) -> None:
    import asyncio

    from extract.extractor import extract_chain
    from extract.warehouse import connect

    name, chain = config.chain(args.chain)
    url = chain_url(config, name, chain.rpc_url_env)
    con = connect(config.warehouse_path)
    try:
        result = asyncio.run(
            extract_chain(
                url, name, chain, config.extract, con, from_block=args.from_block, to_block=args.to_block
            )
        )
    finally:
        con.close()
    if result.reorged_from is not None:
        print(f"chain {name}: reorg repaired, rewound to block {result.reorged_from}")
    if result.addresses_checked:
        print(f"chain {name}: {result.addresses_checked:,} imported addresses checked for code")
    if result.last_block is None:
        print(f"chain {name} (id {chain.chain_id}): up to date, nothing new to extract")
    else:
        print(
            f"chain {name} (id {chain.chain_id}): extracted blocks {result.first_block}..{result.last_block} "
            f"({result.blocks:,} blocks, {result.transactions:,} transactions, {result.logs:,} logs) "
            f"into {config.warehouse_path}"
        )


def _build(config: Config, args: argparse.Namespace) -> None:
    from flows.dbt_build import build, generate_docs

    result = build(
        config,
        select=args.select,
        full_refresh=args.full_refresh,
        as_of=args.as_of,
        unit_tests=not args.no_unit_tests,
        test_whole_tables=args.test_whole_tables,
    )
    print(
        f"dbt build as of {result.as_of}: {result.nodes} models and tests passed "
        f"in {result.elapsed_seconds:.1f} s into {config.warehouse_path}"
    )
    for warning in result.warnings:
        print(f"warning: {warning}")
    if args.docs:
        print(f"dbt docs: {generate_docs(config, as_of=result.as_of)}")


def _import(config: Config, args: argparse.Namespace) -> None:
    from extract.importers import import_files
    from extract.unchecked_addresses import unchecked_count
    from extract.warehouse import connect

    missing = [str(path) for path in args.paths if not path.exists()]
    if missing:
        raise UserError(f"not found: {', '.join(missing)}; check the paths")
    name, chain = config.chain(args.chain)
    con = connect(config.warehouse_path)
    try:
        result = import_files(con, chain.chain_id, list(args.paths), args.kind)
        unchecked = unchecked_count(con, chain.chain_id)
        built_through = _models_built_through(con)
        first_day = con.execute(
            "select cast(first_timestamp as date) from raw.rewrites order by rewrite_id desc limit 1"
        ).fetchall()
    finally:
        con.close()
    written = (
        ", ".join(f"{table} {rows:,}" for table, rows in result.tables.items())
        or "no rows (the files hold none)"
    )
    print(f"imported {args.kind} into chain {name} (id {chain.chain_id}): {written}")
    for path in result.skipped:
        print(f"skipped {path}: token metadata, which the warehouse does not keep")
    if unchecked:
        print(
            f"{unchecked:,} addresses named by imported rows are not known yet as wallets or contracts: "
            f"the next `chainseg extract --chain {name}` asks the node which hold code (until then the "
            "models count them as wallets)"
        )
    if built_through is not None and first_day and first_day[0][0] <= built_through:
        # raw.rewrites holds the import's first block: incremental builds rebuild from its day.
        print(
            f"the models were built through {built_through}; the next `chainseg build` rebuilds them from "
            f"{first_day[0][0]}, the first day these files reach"
        )


def _models_built_through(con: duckdb.DuckDBPyConnection) -> date | None:
    """The newest day of marts.wallet_activity_daily, or None when the models were never built."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'wallet_activity_daily'"
    ).fetchall()[0][0]
    if not exists:
        return None
    return con.execute("select max(day) from marts.wallet_activity_daily").fetchall()[0][0]


_DEVNET = {"up": _devnet_up, "down": _devnet_down, "status": _devnet_status, "seed": _devnet_seed}


if __name__ == "__main__":
    sys.exit(main())

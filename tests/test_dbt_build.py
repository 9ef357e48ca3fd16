"""The dbt project against a real warehouse: the tiny scenario seeded on anvil, plus a reverted transaction,
a native self-send and an NFT self-transfer on a day of their own, extracted in two steps.

- build() passes: every model, data test and unit test;
- the nightly path (build, extract more, build incrementally) and a full refresh give identical marts;
- wallet_activity_daily equals, row by row and column by column, the same measures computed here in Python
  from the raw tables alone;
- a rerun for the same as_of gives identical rows; `dbt docs generate` documents every mart column;
- a failing test surfaces as a one-line UserError naming it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml
from eth_utils import keccak

from chainseg.config import ChainConfig, Config, ExtractConfig
from chainseg.errors import UserError
from devnet.jsonrpc import JsonRpc
from devnet.seeder import SeedResult, seed_chain
from extract.extractor import extract_chain
from extract.importers import import_files
from extract.warehouse import connect
from flows.dbt_build import BuildResult, build, dbt_paths, default_as_of, generate_docs

ZERO = "0x" + "00" * 20
ALL_BLOCKS = ChainConfig(chain_id=31337, use_finalized=False, confirmations=0)
MEASURES = (
    "buys", "sells", "units_bought", "units_sold", "buy_volume_wei", "sell_volume_wei",
    "royalties_paid_wei", "fees_paid_wei", "mints", "units_minted", "transfers_in", "transfers_out", "burns",
    "native_value_spent_wei", "native_value_received_wei", "transactions_sent", "failed_transactions",
    "gas_paid_wei", "gas_unknown_transactions",
)  # fmt: skip
INDEX = {name: i for i, name in enumerate(MEASURES)}
IMPORTS_CSV = Path(__file__).parent / "fixtures" / "imports" / "ethereum_etl_csv"
IMPORTS_DUNE = Path(__file__).parent / "fixtures" / "imports" / "dune_trades"
ACTOR = "0x00000000000000000000000000000000c0ffee01"
# the nightly margin of days rebuilt before as_of (the newest built day is as_of here, so it is the window)
LOOKBACK_DAYS = yaml.safe_load((Path(__file__).parents[1] / "dbt_project.yml").read_text())["vars"][
    "lookback_days"
]


@dataclass(frozen=True)
class Extras:
    day: date  # the day the extra transactions were mined on
    actor: str  # sent the reverted transaction and the native self-send
    holder: str  # sent an ERC-721 token to themself


@dataclass(frozen=True)
class Built:
    config: Config
    seeded: SeedResult
    extras: Extras
    first: BuildResult  # built on the first part of the chain, with every unit test
    first_results: list[dict]  # its run_results.json's results
    second: BuildResult  # then incrementally on all of it
    second_sql: str  # the mart's SQL as compiled for the second, incremental run


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def _word(value: int | str) -> str:
    return (value[2:] if isinstance(value, str) else f"{value:x}").rjust(64, "0")


def _add_extras(url: str, seeded: SeedResult) -> Extras:
    """On a new day after the seeded history: a transaction sending 1 ETH that reverts (WETH's withdraw is
    not payable), a native self-send of 5 wei, and an ERC-721 transfer from its holder to themself."""
    rpc = JsonRpc(url)
    last = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    day = datetime.fromtimestamp(last, UTC).date() + timedelta(days=1)
    at = int(datetime(day.year, day.month, day.day, 10, tzinfo=UTC).timestamp())
    owner_call = {"to": seeded.contracts.blue, "data": _selector("ownerOf(uint256)") + _word(1)}
    holder = "0x" + rpc.call("eth_call", [owner_call, "latest"])[-40:]
    rpc.call("anvil_setBalance", [ACTOR, hex(10**20)])
    rpc.call("anvil_autoImpersonateAccount", [True])
    self_transfer = (
        _selector("transferFrom(address,address,uint256)") + _word(holder) + _word(holder) + _word(1)
    )
    try:
        sends = [
            {"from": ACTOR, "to": seeded.contracts.weth, "value": hex(10**18), "gas": hex(100_000),
             "data": _selector("withdraw(uint256)") + _word(10**30)},
            {"from": ACTOR, "to": ACTOR, "value": hex(5), "gas": hex(21_000)},
            {"from": holder, "to": seeded.contracts.blue, "gas": hex(200_000),
             "data": self_transfer},
        ]  # fmt: skip
        for offset, tx in enumerate(sends):
            rpc.call("evm_setNextBlockTimestamp", [hex(at + 60 * offset)])
            rpc.call("eth_sendTransaction", [tx])  # automine: one block each
    finally:
        rpc.call("anvil_autoImpersonateAccount", [False])
    return Extras(day, ACTOR, holder)


def _extract(url: str, db: Path, to_block: int | None = None, chain: ChainConfig = ALL_BLOCKS) -> None:
    con = connect(db)
    try:
        asyncio.run(extract_chain(url, "devnet", chain, ExtractConfig(), con, to_block=to_block))
    finally:
        con.close()


def _altered_copy(built: Built, tmp_path: Path, name: str, *statements: str) -> tuple[Path, Config]:
    """A copy of the built warehouse named `name`, with `statements` run on it, and its configuration."""
    copy = tmp_path / name
    shutil.copyfile(built.config.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        for statement in statements:
            con.execute(statement)
    return copy, built.config.model_copy(update={"warehouse": copy})


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


# The incrementally built models (with what they read, and the tables that add to kept sums):
# _incremental_tables' tables.
INCREMENTAL_MODELS = (
    "int_wrapped_native_tokens int_nft_sales_deduplicated int_wallet_trades"
    " int_wallet_token_movements wallet_activity_daily"
    " int_wallet_days_summarized int_wallet_event_days_summed int_wallet_token_days_netted"
    " int_token_mints_priced int_wallet_transactions_ranked int_holding_events_unioned"
    " token_holding_periods ml_training_snapshots int_wallet_token_balances int_wallet_collections_held"
    " int_wallet_days_settled wallet_rfv int_wallet_event_days_settled int_wallet_features_as_of"
)


def _threads_used(config: Config) -> object:
    """The dbt threads of the last dbt invocation with this configuration (its --threads)."""
    run_results = json.loads((dbt_paths(config)[0] / "run_results.json").read_text())
    return run_results["args"].get("threads")


def _mart(db: Path) -> list[tuple]:
    return _rows(db, "select * from marts.wallet_activity_daily order by chain_id, wallet, day")


def _incremental_tables(db: Path) -> list[list[tuple]]:
    """Every incrementally built table, rows in key order."""
    movements = _rows(
        db,
        "select * from intermediate.int_wallet_token_movements "
        "order by chain_id, block_number, log_index, batch_index, direction",
    )
    wrapped = _rows(db, "select * from intermediate.int_wrapped_native_tokens order by all")
    others = [
        _rows(db, f"select * from {table} order by all")
        for table in (
            "intermediate.int_wallet_days_summarized", "intermediate.int_wallet_event_days_summed",
            "intermediate.int_token_mints_priced", "intermediate.int_wallet_transactions_ranked",
            "marts.token_holding_periods", "intermediate.int_holding_events_unioned",
            "intermediate.int_wallet_token_days_netted", "marts.ml_training_snapshots",
            "intermediate.int_nft_sales_deduplicated", "intermediate.int_wallet_trades",
            "intermediate.int_wallet_token_balances", "intermediate.int_wallet_collections_held",
            "intermediate.int_wallet_days_settled", "marts.wallet_rfv",
            "intermediate.int_wallet_event_days_settled", "intermediate.int_wallet_features_as_of",
        )
    ]  # fmt: skip
    return [wrapped, movements, _mart(db), *others]


@pytest.fixture(scope="module")
def built(start_devnet, tmp_path_factory: pytest.TempPathFactory) -> Built:  # noqa: ANN001
    node = start_devnet(chain_id=31337)
    root = tmp_path_factory.mktemp("dbt-build")
    seeded = seed_chain(node.url, "tiny", 7, root / "seed-state")
    extras = _add_extras(node.url, seeded)
    config = Config(state_dir=root / "state", warehouse=root / "warehouse" / "chainseg.duckdb")
    head = int(JsonRpc(node.url).call("eth_blockNumber"), 16)
    # The nightly path: a first part of the chain (cut inside a day), built; then the rest, built again.
    _extract(node.url, config.warehouse_path, to_block=head * 4 // 5)
    # The project's unit tests check SQL on hand-written rows, whatever the warehouse: this build runs every
    # one of them, and the suite's other builds leave them out.
    first = build(config)
    first_results = json.loads((dbt_paths(config)[0] / "run_results.json").read_text())["results"]
    _extract(node.url, config.warehouse_path)
    second = build(config, unit_tests=False)
    compiled = next(dbt_paths(config)[0].glob("compiled/**/intermediate/int_wallet_days_summarized.sql"))
    return Built(config, seeded, extras, first, first_results, second, compiled.read_text())


def test_build_runs_every_model_and_test(built: Built) -> None:
    for result in (built.first, built.second):
        assert result.nodes > 150 and not result.warnings
    (newest,) = _rows(built.config.warehouse_path, "select cast(max(timestamp) as date) from raw.blocks")[0]
    assert built.second.as_of == newest == built.extras.day  # as_of defaults to the newest block's date
    assert built.first.as_of < built.second.as_of
    target, _ = dbt_paths(built.config)
    results = json.loads((target / "run_results.json").read_text())["results"]
    manifest = json.loads((target / "manifest.json").read_text())
    for ran in (built.first_results, results):
        assert all(
            r["status"] in ("success", "pass") for r in ran if not r["unique_id"].startswith("exposure.")
        )
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "test", "exposure"} <= kinds and "unit_test" not in kinds
    # every unit test of the project ran in the first build (and passed, above)
    unit_tests = {r["unique_id"] for r in built.first_results if r["unique_id"].startswith("unit_test.")}
    assert unit_tests == set(manifest["unit_tests"]) and len(unit_tests) > 30
    # The second run was incremental: it rebuilt from the earlier of (as_of - lookback_days) and the newest
    # day the first run stored, not the whole history.
    start = min(built.second.as_of - timedelta(days=LOOKBACK_DAYS), built.first.as_of)
    assert f"block_timestamp >= cast('{start.isoformat()} 00:00:00'" in built.second_sql


def activity_from_raw(db: Path, as_of: date) -> dict[tuple[str, date], list[int]]:
    """wallet_activity_daily's measures computed from raw tables only, with Python integers."""
    with duckdb.connect(str(db), read_only=True) as con:
        contracts = {a for (a,) in con.execute("select address from raw.addresses where has_code").fetchall()}
        sales = con.execute(
            "select transaction_hash, collection_address, token_id, seller_address, buyer_address, amount, "
            "price, fee, royalty, block_timestamp from raw.nft_sales order by block_number, log_index"
        ).fetchall()
        transfers = con.execute(
            "select transaction_hash, contract_address, token_id, from_address, to_address, amount, "
            "block_timestamp from raw.token_transfers where token_standard in ('erc721', 'erc1155') "
            "order by block_number, log_index, batch_index"
        ).fetchall()
        txs = con.execute(
            "select from_address, to_address, value, gas_used, effective_gas_price, success, block_timestamp "
            "from raw.transactions"
        ).fetchall()
    out: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0] * len(MEASURES))

    def add(wallet: str | None, at: datetime, measure: str, amount: int = 1) -> None:
        if wallet and wallet != ZERO and wallet not in contracts and at.date() <= as_of:
            out[(wallet, at.date())][INDEX[measure]] += amount

    legs: dict[tuple, int] = defaultdict(int)  # sales per (tx, collection, token, seller, buyer)
    for tx, collection, token, seller, buyer, amount, price, fee, royalty, at in sales:
        legs[(tx, collection, token, seller, buyer)] += 1
        add(buyer, at, "buys")
        add(buyer, at, "units_bought", int(amount))
        add(buyer, at, "buy_volume_wei", int(price))
        add(seller, at, "sells")
        add(seller, at, "units_sold", int(amount))
        add(seller, at, "sell_volume_wei", int(price))
        add(seller, at, "royalties_paid_wei", int(royalty))
        add(seller, at, "fees_paid_wei", int(fee))
    for tx, collection, token, sender, receiver, amount, at in transfers:
        key = (tx, collection, token, sender, receiver)
        if legs[key] > 0:  # the token leg of a sale, counted as the buy and the sell
            legs[key] -= 1
            continue
        if sender == ZERO:
            add(receiver, at, "mints")
            add(receiver, at, "units_minted", int(amount))
        elif receiver == ZERO:
            add(sender, at, "burns")
        else:
            add(sender, at, "transfers_out")
            add(receiver, at, "transfers_in")
    for sender, receiver, value, gas_used, price, success, at in txs:
        add(sender, at, "transactions_sent")
        if gas_used is None:  # no receipt: gas unknown
            add(sender, at, "gas_unknown_transactions")
        else:
            add(sender, at, "gas_paid_wei", gas_used * price)
        if success is False:
            add(sender, at, "failed_transactions")
        elif value > 0:
            add(sender, at, "native_value_spent_wei", value)
            add(receiver, at, "native_value_received_wei", value)
    return out


def test_wallet_activity_daily_equals_raw(built: Built) -> None:
    db = built.config.warehouse_path
    currencies = {c for (c,) in _rows(db, "select distinct currency_address from raw.nft_sales")}
    assert currencies <= {ZERO, built.seeded.contracts.weth}  # every sale is valued in wei
    expected = activity_from_raw(db, built.second.as_of)
    actual = {(wallet, day): list(measures) for _, wallet, day, *measures in _mart(db)}
    assert actual.keys() == expected.keys()
    for key, measures in expected.items():
        assert actual[key] == measures, key
    totals = [sum(m[i] for m in actual.values()) for i in range(len(MEASURES))]
    for name in ("buys", "sells", "mints", "transfers_in", "gas_paid_wei", "native_value_spent_wei"):
        assert totals[INDEX[name]] > 0, name
    # The extra day: the reverted transaction pays gas but moves no value; self-sends count both ways.
    actor = dict(zip(MEASURES, actual[(built.extras.actor, built.extras.day)], strict=True))
    assert actor["transactions_sent"] == 2 and actor["failed_transactions"] == 1 and actor["gas_paid_wei"] > 0
    assert actor["native_value_spent_wei"] == actor["native_value_received_wei"] == 5
    holder = dict(zip(MEASURES, actual[(built.extras.holder, built.extras.day)], strict=True))
    assert holder["transfers_in"] == holder["transfers_out"] == 1


def test_full_refresh_equals_incremental_and_reruns_agree(built: Built, tmp_path: Path) -> None:
    incremental = _incremental_tables(built.config.warehouse_path)
    assert len(incremental[0]) == 1 and all(len(rows) > 100 for rows in incremental[1:])
    copy, full = _altered_copy(built, tmp_path, "full-refresh.duckdb")
    build(full, select=INCREMENTAL_MODELS, full_refresh=True, as_of=built.second.as_of, unit_tests=False)
    assert _incremental_tables(copy) == incremental
    build(built.config, select=INCREMENTAL_MODELS, as_of=built.second.as_of, unit_tests=False)
    assert _incremental_tables(built.config.warehouse_path) == incremental


def test_a_build_for_an_earlier_date_equals_a_full_refresh_for_it(built: Built, tmp_path: Path) -> None:
    """A warehouse built as of a day, built again as of an earlier day (an analyst rerunning a past date),
    holds what a full refresh as of that day holds: nothing of the later days is left behind. The earlier
    day is the eve of the newest token's first event: that token's holding periods once stayed (no event
    of it is left to recompute), and so did the later deposits of the wrapped native token. A build for
    the newest day again then gives back the tables the nights before had built."""
    first_days = (
        "select min(block_timestamp)::date as first_day, contract_address, token_id from raw.token_transfers "
        "where token_standard <> 'erc20' group by all"
    )
    (newest_token_day,) = _rows(built.config.warehouse_path, f"select max(first_day) from ({first_days})")[0]
    earlier = newest_token_day - timedelta(days=1)
    back, back_config = _altered_copy(built, tmp_path, "back.duckdb")
    build(back_config, as_of=earlier, unit_tests=False)  # everything: the marts read one another
    full, full_config = _altered_copy(built, tmp_path, "full.duckdb")
    build(full_config, full_refresh=True, as_of=earlier, unit_tests=False)
    later_tokens = (
        f"select count(*) from marts.token_holding_periods join ({first_days}) as tokens using "
        f"(contract_address, token_id) where first_day > '{earlier}'"
    )
    assert _rows(built.config.warehouse_path, later_tokens)[0][0] > 0 and _rows(full, later_tokens) == [(0,)]
    assert _incremental_tables(back) == _incremental_tables(full)
    # and the next night, as of the newest day again, builds back what the nights before had built
    build(back_config, as_of=built.second.as_of, unit_tests=False)
    assert _incremental_tables(back) == _incremental_tables(built.config.warehouse_path)


def test_a_night_recomputes_an_ml_cutoff_only_if_its_days_changed(built: Built, tmp_path: Path) -> None:
    """A stored cutoff of ml_training_snapshots whose last days a night rebuilds is kept when the rebuilt
    rows are the same (fingerprints in dbt_meta.ml_snapshot_inputs), and recomputed, equal to a full
    refresh, when one of those days changed (here a re-extracted transaction's gas price)."""
    copy, config = _altered_copy(built, tmp_path, "ml-cutoffs.duckdb")
    as_of = built.second.as_of
    # the newest cutoff (Mondays on the default calendar) and its last day, which this night rebuilds
    cutoff_day = as_of + timedelta(days=1) - timedelta(days=(as_of + timedelta(days=1)).weekday())
    changed_day = cutoff_day - timedelta(days=1)
    assert changed_day <= as_of
    cutoff = f"cast('{cutoff_day.isoformat()}' as date)"

    def cutoffs_written() -> str:
        (rewritten,) = _rows(
            copy,
            "select rewritten_rows from dbt_meta.incremental_windows "
            "where relation_name = 'marts.ml_training_snapshots'",
        )[0]
        return rewritten

    build(config, select=INCREMENTAL_MODELS, as_of=as_of, unit_tests=False)
    assert cutoff not in cutoffs_written()  # its days were rebuilt with the same rows: kept
    with duckdb.connect(str(copy)) as con:  # what a re-extraction of that transaction writes
        tx = (
            "(select min(transaction_hash) from raw.transactions"
            f" where cast(block_timestamp as date) = date '{changed_day}')"
        )
        con.execute(
            "update raw.transactions set effective_gas_price = effective_gas_price + 1 "
            f"where transaction_hash = {tx}"
        )
        con.execute(
            "insert into raw.rewrites select (select coalesce(max(rewrite_id), 0) + 1 from raw.rewrites), "
            "chain_id, block_number, block_timestamp, 're-extraction', now() from raw.transactions "
            f"where transaction_hash = {tx}"
        )
    build(config, select=INCREMENTAL_MODELS, as_of=as_of, unit_tests=False)
    assert cutoff in cutoffs_written()
    # a --select build leaves the rewrite pending: the next builds rebuild from its day too
    assert _rows(copy, "select count(*) from dbt_meta.rewrites_rebuilt where rewrite_id > 0") == [(0,)]
    snapshots = "select * from marts.ml_training_snapshots order by all"
    incremental = _rows(copy, snapshots)
    refreshed = tmp_path / "ml-cutoffs-full.duckdb"
    shutil.copyfile(copy, refreshed)
    refresh = config.model_copy(update={"warehouse": refreshed})
    build(refresh, select=INCREMENTAL_MODELS, as_of=as_of, full_refresh=True, unit_tests=False)
    assert _rows(refreshed, snapshots) == incremental


def test_a_rewrite_older_than_the_lookback_is_rebuilt_by_the_next_whole_build(
    built: Built, tmp_path: Path
) -> None:
    """A re-extraction, a reorg or an import logs the earliest stored block it replaced (raw.rewrites):
    the next build rebuilds every incremental model from that block's day, however far behind the
    lookback, and gives what a full refresh gives; the whole build then marks the rewrite rebuilt (a
    --select build does not: test_a_night_recomputes_an_ml_cutoff_only_if_its_days_changed)."""
    as_of = built.second.as_of
    db = built.config.warehouse_path
    tx = "(select min_by(transaction_hash, block_number) from raw.transactions where gas_used > 0)"
    (day, sender, gas_used) = _rows(
        db,
        "select cast(block_timestamp as date), from_address, gas_used from raw.transactions "
        f"where transaction_hash = {tx}",
    )[0]
    assert day < as_of - timedelta(days=LOOKBACK_DAYS)
    # what a re-extraction of the chain's first transaction at another gas price writes
    changed = (
        "update raw.transactions set effective_gas_price = effective_gas_price + 1 "
        f"where transaction_hash = {tx}"
    )
    logged = (
        "insert into raw.rewrites select 1, 31337, block_number, block_timestamp, 're-extraction', now() "
        f"from raw.transactions where transaction_hash = {tx}"
    )
    copy, config = _altered_copy(built, tmp_path, "rewritten.duckdb", changed, logged)
    refreshed, refresh = _altered_copy(built, tmp_path, "rewritten-full.duckdb", changed)
    build(config, as_of=as_of, unit_tests=False)
    assert _rows(copy, "select max(rewrite_id) from dbt_meta.rewrites_rebuilt") == [(1,)]
    build(refresh, as_of=as_of, full_refresh=True, unit_tests=False)  # all: the gas window's tables too
    assert _incremental_tables(copy) == _incremental_tables(refreshed)
    # the sender paid 1 wei more per gas on that day, which the lookback alone would have left as it was
    gas = (
        "select gas_paid_wei from marts.wallet_activity_daily "
        f"where day = date '{day}' and wallet = '{sender}'"
    )
    (before,) = _rows(db, gas)[0]
    assert _rows(copy, gas) == [(before + gas_used,)]


def test_sums_kept_night_after_night_equal_a_full_refresh(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int_wallet_days_settled and int_wallet_event_days_settled carried from night to night (days becoming
    final added, days leaving each window taken out, a skipped night included) hold what a full refresh
    computes, and so do wallet_rfv and int_wallet_features_as_of, which add the last days to them. A new
    date each night does not make dbt parse the project again."""
    monkeypatch.setenv("DBT_INDIRECT_SELECTION", "cautious")  # only the selected models' tests
    copy, config = _altered_copy(built, tmp_path, "rfv-nights.duckdb")
    last = built.second.as_of
    nights = [last - timedelta(days=days) for days in (6, 5, 4, 1, 0)]  # two nights skipped before the 4th
    selected = "+wallet_rfv +int_wallet_features_as_of"
    build(config, select=selected, as_of=nights[0], full_refresh=True, unit_tests=False)
    compiled_rfv = next(dbt_paths(config)[0].glob("compiled/**/wallet_rfv.sql"))
    assert f"'{nights[0].isoformat()}'" in compiled_rfv.read_text()  # the date reached the SQL
    assert _threads_used(config) == 1  # a full refresh: one model at a time (flows/dbt_build.py, _threads)
    parsed = dbt_paths(config)[0] / "partial_parse.msgpack"
    parsed_at = parsed.stat().st_mtime_ns
    for night in nights[1:]:
        build(config, select=selected, as_of=night, unit_tests=False)
        assert _threads_used(config) == 2  # a night: two nodes at a time
    # A new date each night did not make dbt parse the project again (macros/as_of_date.sql): dbt rewrites
    # its partial-parse state whenever it parses anything.
    assert parsed.stat().st_mtime_ns == parsed_at
    for state in ("int_wallet_days_settled", "int_wallet_event_days_settled"):
        compiled = next(dbt_paths(config)[0].glob(f"compiled/**/{state}.sql")).read_text()
        assert state in compiled.split("kept as", 1)[1]  # the last night advanced the kept rows
    tables = (
        "intermediate.int_wallet_days_settled", "marts.wallet_rfv",
        "intermediate.int_wallet_event_days_settled", "intermediate.int_wallet_features_as_of",
    )  # fmt: skip
    kept = [_rows(copy, f"select * from {table} order by all") for table in tables]
    refreshed = tmp_path / "rfv-refreshed.duckdb"
    shutil.copyfile(copy, refreshed)
    refresh = config.model_copy(update={"warehouse": refreshed})
    build(refresh, select=selected, as_of=last, full_refresh=True, unit_tests=False)
    assert [_rows(refreshed, f"select * from {table} order by all") for table in tables] == kept
    assert all(len(rows) > 50 for rows in kept)


def test_a_chain_added_to_a_built_warehouse_is_built_whole(
    built: Built, start_devnet, tmp_path: Path
) -> None:  # noqa: ANN001
    """A second chain extracted into a warehouse whose models are built (its days all older than the
    window of a nightly build): the next nightly build holds its whole history, as a full refresh does, and
    leaves the first chain's rows as they were (no model mixes the chains)."""
    node = start_devnet(chain_id=1337)
    seed_chain(node.url, "tiny", 99, tmp_path / "seed-b")
    copy, config = _altered_copy(built, tmp_path, "two-chains.duckdb")
    _extract(node.url, copy, chain=ChainConfig(chain_id=1337, use_finalized=False, confirmations=0))
    days_b = _rows(
        copy, "select count(distinct cast(timestamp as date)) from raw.blocks where chain_id = 1337"
    )
    assert days_b[0][0] > LOOKBACK_DAYS + 2  # older days than a nightly window reaches
    build(config, as_of=built.second.as_of, unit_tests=False)
    incremental = _incremental_tables(copy)
    assert {row[0] for row in _mart(copy)} == {31337, 1337}
    refreshed, refresh = _altered_copy(built, tmp_path, "two-chains-full.duckdb")
    shutil.copyfile(copy, refreshed)
    build(refresh, as_of=built.second.as_of, full_refresh=True, unit_tests=False)
    assert _incremental_tables(refreshed) == incremental
    for mart in ("wallet_activity_daily", "wallet_rfv", "token_holding_periods", "wallet_holding_summary",
                 "wallet_gas_sensitivity", "wallet_abc_class", "abc_cuts", "rule_segments",
                 "ml_training_snapshots"):  # fmt: skip
        first_chain = f"select * from marts.{mart} where chain_id = 31337 order by all"
        assert _rows(copy, first_chain) == _rows(built.config.warehouse_path, first_chain), mart


def test_incremental_run_drops_activity_that_vanished(built: Built, tmp_path: Path) -> None:
    """A re-extraction (or a reorg) that removes a wallet's only activity of a day inside the window:
    the nightly run must delete that (wallet, day), not leave the old row behind."""
    before = _mart(built.config.warehouse_path)
    copy = tmp_path / "reextracted.duckdb"
    shutil.copyfile(built.config.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from raw.transactions where from_address = ?", [built.extras.actor])
    changed = built.config.model_copy(update={"warehouse": copy})
    # wallet_rfv too: dbt runs its relationship test to the wallet-days whenever those are rebuilt (eager
    # indirect selection), and the actor has no wallet-day left
    build(
        changed,
        unit_tests=False,
        select="int_wallet_token_movements int_wallet_days_summarized wallet_activity_daily wallet_rfv",
        as_of=built.second.as_of,
    )
    gone = [row for row in before if row[1] == built.extras.actor]
    assert len(gone) == 1 and gone[0][2] == built.extras.day
    assert _mart(copy) == [row for row in before if row[1] != built.extras.actor]


def test_the_mart_built_alone_over_stale_wallet_days_fails(built: Built, tmp_path: Path) -> None:
    """wallet_activity_daily is a view of int_wallet_days_summarized: selected alone (`--select
    wallet_activity_daily`) over a table that misses the newest day, the build fails naming the test
    that says so, instead of showing the old days as current."""
    copy, config = _altered_copy(
        built,
        tmp_path,
        "stale-days.duckdb",
        "delete from intermediate.int_wallet_days_summarized"
        " where day = (select max(day) from intermediate.int_wallet_days_summarized)",
    )
    with pytest.raises(UserError) as caught:
        build(config, select="wallet_activity_daily", as_of=built.second.as_of, unit_tests=False)
    assert "test assert_rfv_days_are_current" in str(caught.value)
    assert str(caught.value).endswith(
        "a model of `--select wallet_activity_daily` reads a table this build did not bring up to date: "
        "select the model with what it reads, `--select +MODEL`"
    )
    # selected with what it reads, it is current again
    build(config, select="+wallet_activity_daily", as_of=built.second.as_of, unit_tests=False)
    assert _mart(copy) == _mart(built.config.warehouse_path)


def test_the_mart_built_alone_over_a_pending_rewrite_says_what_to_select(
    built: Built, tmp_path: Path
) -> None:
    """A re-extraction changed an old transaction's gas (logged in raw.rewrites): the mart selected alone
    reads wallet-days built before it, the reconciliation test fails, and the error says which rewrite and
    what to select; selected with what it reads, the build passes."""
    tx = "(select min_by(transaction_hash, block_number) from raw.transactions where gas_used > 0)"
    copy, config = _altered_copy(
        built,
        tmp_path,
        "pending-rewrite.duckdb",
        "update raw.transactions set effective_gas_price = effective_gas_price + 1 "
        f"where transaction_hash = {tx}",
        "insert into raw.rewrites select 1, 31337, block_number, block_timestamp, 're-extraction', now() "
        f"from raw.transactions where transaction_hash = {tx}",
    )
    (day,) = _rows(copy, "select cast(first_timestamp as date) from raw.rewrites")[0]
    with pytest.raises(UserError) as caught:
        build(config, select="wallet_activity_daily", as_of=built.second.as_of, unit_tests=False)
    message = str(caught.value)
    assert "test assert_wallet_activity_daily_reconciles" in message
    assert f"stored blocks from {day} on were rewritten and are not rebuilt yet" in message
    assert message.endswith("select the model with what it reads, `--select +MODEL`")
    build(config, select="+wallet_activity_daily", as_of=built.second.as_of, unit_tests=False)


def test_nightly_tests_look_at_the_rewritten_days_only(built: Built, tmp_path: Path) -> None:
    """After an incremental build a model's data tests read the days it rewrote (the older ones were tested
    when written); --test-whole-tables reads everything. A duplicate planted in an old day shows which."""
    copy = tmp_path / "old-duplicate.duckdb"
    shutil.copyfile(built.config.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop schema dbt_meta cascade")  # as in a warehouse built before the window log existed
        (oldest,) = con.execute("select min(day) from intermediate.int_wallet_days_summarized").fetchall()[0]
        assert oldest < built.second.as_of - timedelta(days=LOOKBACK_DAYS)  # outside the nightly window
        con.execute(
            "insert into intermediate.int_wallet_days_summarized"
            " select * from intermediate.int_wallet_days_summarized where day = ? limit 1",
            [oldest],
        )
    config = built.config.model_copy(update={"warehouse": copy})
    days = "int_wallet_days_summarized wallet_activity_daily"
    build(config, select=days, as_of=built.second.as_of, unit_tests=False)  # passes: day not rewritten
    window = (built.second.as_of - timedelta(days=LOOKBACK_DAYS)).isoformat()
    # the table's tests read the days it rewrote; the mart, a view of it, the same days of raw
    assert f"day >= cast('{window}' as date)" in _unique_test_sql(config, "int_wallet_days_summarized")
    assert f"\"day\" >= cast('{window} 00:00:00'" in _unique_test_sql(config, "wallet_activity_daily")
    with pytest.raises(UserError) as caught:
        build(config, select=days, as_of=built.second.as_of, test_whole_tables=True, unit_tests=False)
    assert "unique_combination_of_columns_int_wallet_days_summarized" in str(caught.value)
    # A full refresh rebuilds and tests everything: the planted row is gone and nothing is filtered.
    build(config, select=days, as_of=built.second.as_of, full_refresh=True, unit_tests=False)
    assert _mart(copy) == _mart(built.config.warehouse_path)
    assert "dbt_subquery" not in _unique_test_sql(config, "int_wallet_days_summarized")
    assert "dbt_subquery" not in _unique_test_sql(config, "wallet_activity_daily")
    # token_holding_periods is incremental by token: its reconciliation tests take the tokens it recomputed.
    build(config, select="token_holding_periods", as_of=built.second.as_of, unit_tests=False)
    assert "changed_tokens" in _test_sql(config, "test.chainseg.assert_holdings_match_token_balances")
    # its generic tests read those tokens' rows and the open positions it re-aged; those reading no as_of
    # column (the key, the links to movements: meta tests_rows: written) read the recomputed tokens only
    assert "is_open or exists" in _test_sql(config, "test.chainseg.column_checks_token_holding_periods")
    for written_only in (
        _unique_test_sql(config, "token_holding_periods"),
        _test_sql(config, "test.chainseg.composite_relationships_token_holding_periods_chain_id__acquired_"),
    ):
        assert "exists (" in written_only and "is_open or" not in written_only
    with duckdb.connect(str(copy), read_only=True) as con:
        (changed,) = con.execute("select count(*) from dbt_meta.holdings_changed_tokens").fetchall()[0]
        (tokens,) = con.execute(
            "select count(distinct (contract_address, token_id)) from marts.token_holding_periods"
        ).fetchall()[0]
    assert 0 < changed < tokens
    build(
        config, select="token_holding_periods", as_of=built.second.as_of, full_refresh=True, unit_tests=False
    )
    assert "changed_tokens" not in _test_sql(config, "test.chainseg.assert_holdings_match_token_balances")
    assert "dbt_subquery" not in _unique_test_sql(config, "token_holding_periods")


def test_nightly_source_tests_look_at_the_raw_window_only(built: Built, tmp_path: Path) -> None:
    """Sources and the views over them have no rewritten rows of their own: on a nightly build their tests
    read the night's raw window (from the earlier of as_of - lookback and the newest built day); a full
    refresh or --test-whole-tables reads everything. A duplicate block planted far back shows which."""
    copy, config = _altered_copy(
        built,
        tmp_path,
        "old-duplicate-block.duckdb",
        "insert into raw.blocks select * from raw.blocks order by block_number limit 1",
    )
    build(
        config, select="source:raw.blocks", as_of=built.second.as_of, unit_tests=False
    )  # passes: the block is old
    window = (built.second.as_of - timedelta(days=LOOKBACK_DAYS)).isoformat()
    sql = _test_sql(config, "test.chainseg.source_unique_combination_of_columns_raw_blocks_")
    assert f"\"timestamp\" >= cast('{window} 00:00:00' as timestamp)" in sql
    for whole in ({"test_whole_tables": True}, {"full_refresh": True}):
        with pytest.raises(UserError) as caught:
            build(config, select="source:raw.blocks", as_of=built.second.as_of, **whole, unit_tests=False)
        assert "source_unique_combination_of_columns_raw_blocks" in str(caught.value)


def _unique_test_sql(config: Config, model: str) -> str:
    """The SQL the last build ran for `model`'s unique_combination_of_columns test."""
    return _test_sql(config, f"test.chainseg.unique_combination_of_columns_{model}_")


def _test_sql(config: Config, prefix: str) -> str:
    """The SQL the last build ran for the one test whose unique id starts with `prefix`."""
    results = json.loads((dbt_paths(config)[0] / "run_results.json").read_text())["results"]
    (sql,) = [r["compiled_code"] for r in results if r["unique_id"].startswith(prefix)]
    return sql


def test_docs_describe_every_mart_column(built: Built) -> None:
    target = generate_docs(built.config)
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    marts = {
        uid
        for uid, node in manifest["nodes"].items()
        if uid.startswith("model.") and node["schema"] == "marts"
    }
    assert len(marts) >= 9
    for node in sorted(marts):
        columns = set(catalog["nodes"][node]["columns"])
        described = {name for name, col in manifest["nodes"][node]["columns"].items() if col["description"]}
        assert columns == described, node
    assert set(catalog["nodes"]["model.chainseg.wallet_activity_daily"]["columns"]) == {
        "chain_id", "wallet", "day", *MEASURES
    }  # fmt: skip
    # The BI exports are declared, and every mart they read is built.
    exposed = {
        parent for exposure in manifest["exposures"].values() for parent in exposure["depends_on"]["nodes"]
    }
    assert "model.chainseg.wallet_abc_class" in exposed and exposed <= marts
    assert (target / "index.html").exists()


def test_docs_of_a_warehouse_never_built(built: Built, tmp_path: Path) -> None:
    """`dbt docs generate` (and `dbt compile`) before the first build: rule_segments checks its rules'
    collections against int_wallet_token_movements only once that table exists."""
    raw_only = tmp_path / "raw-only.duckdb"
    with duckdb.connect(str(raw_only)) as con:
        con.execute(f"attach '{built.config.warehouse_path}' as built (read_only)")
        con.execute("create schema raw")
        tables = con.execute(
            "select table_name from information_schema.tables"
            " where table_catalog = 'built' and table_schema = 'raw'"
        ).fetchall()
        for (table,) in tables:
            con.execute(f"create table raw.{table} as select * from built.raw.{table}")
    config = built.config.model_copy(update={"warehouse": raw_only, "state_dir": tmp_path / "state"})
    target = generate_docs(config)
    manifest = json.loads((target / "manifest.json").read_text())
    assert "model.chainseg.rule_segments" in manifest["nodes"]
    with duckdb.connect(str(raw_only), read_only=True) as con:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("marts",) not in schemas  # documented, nothing built


def test_command_line_build(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built.config.warehouse_path, copy)
    config = tmp_path / "chainseg.yml"
    config.write_text(f"state_dir: {tmp_path / 'state'}\nwarehouse: {copy}\n")
    chainseg = [str(Path(sys.executable).with_name("chainseg")), "--config", str(config), "build"]
    done = subprocess.run(
        [*chainseg, "--select", "stg_raw__transactions", "--no-unit-tests"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"dbt build as of {built.second.as_of}: " in done.stdout
    results = json.loads((tmp_path / "state" / "dbt" / "target" / "run_results.json").read_text())["results"]
    kinds = {result["unique_id"].split(".")[0] for result in results}
    assert kinds == {"model", "test", "operation"}  # the unit test is left out; operation: on-run-start
    with duckdb.connect(str(copy)) as con:
        # the newest transaction: a nightly build tests the raw window (macros/tests_window.sql)
        con.execute(
            "insert into raw.transactions select * from raw.transactions order by block_number desc limit 1"
        )
    done = subprocess.run([*chainseg, "--select", "stg_raw__transactions"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("chainseg: error: dbt build failed: 1 of ") and done.stderr.count("\n") == 1
    # A misspelt model is an error naming the model meant, not "0 models and tests passed".
    done = subprocess.run([*chainseg, "--select", "+wallet_rvf"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("chainseg: error: --select +wallet_rvf matches no model or test")
    assert done.stderr.endswith("did you mean wallet_rfv?\n")
    done = subprocess.run([*chainseg, "--as-of", "2025-13-01"], capture_output=True, text=True)
    assert done.returncode == 2 and "'2025-13-01' is not a date; give it as YYYY-MM-DD" in done.stderr
    (first,) = _rows(copy, "select cast(min(timestamp) as date) from raw.blocks")[0]
    done = subprocess.run([*chainseg, "--as-of", "2015-01-01"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr == (
        f"chainseg: error: --as-of 2015-01-01 is before the first block or trade stored ({first}): every "
        f"mart would be empty; give a date from {first} on\n"
    )


def test_a_failing_test_names_itself(built: Built, tmp_path: Path) -> None:
    _, config = _altered_copy(  # the newest block: a nightly build tests the raw window
        built,
        tmp_path,
        "broken.duckdb",
        "insert into raw.blocks select * from raw.blocks order by block_number desc limit 1",
    )
    with pytest.raises(UserError) as caught:
        build(config, select="source:raw.blocks", unit_tests=False)
    message = str(caught.value)
    assert message.startswith("dbt build failed: 1 of ")
    assert "test source_unique_combination_of_columns_raw_blocks_chain_id__block_number" in message
    assert str(dbt_paths(config)[1] / "dbt.log") in message and "\n" not in message


def test_column_checks_name_each_broken_column_and_check(built: Built, tmp_path: Path) -> None:
    """A model's not-null, range and accepted-value checks run as one test; a failure returns one row per
    broken check, with how many rows break it, and the checks that hold (the not-null ones here) return
    nothing."""
    broken, config = _altered_copy(  # the two newest transactions: a night tests the raw window
        built,
        tmp_path,
        "bad-columns.duckdb",
        "update raw.transactions set transaction_type = 9, gas_used = -1 where transaction_hash in "
        "(select transaction_hash from raw.transactions "
        "order by block_number desc, transaction_index desc limit 2)",
    )
    with pytest.raises(UserError) as caught:
        build(config, select="stg_raw__transactions", as_of=built.second.as_of, unit_tests=False)
    assert "test column_checks_stg_raw__transactions" in str(caught.value)
    checks = _test_sql(config, "test.chainseg.column_checks_stg_raw__transactions")
    found = _rows(broken, checks + " order by 1")
    assert found == [  # gas_fee_wei is gas_used x the price paid
        ("gas_fee_wei", ">= 0", 2),
        ("gas_used", ">= 0", 2),
        ("transaction_type", "one of 0, 1, 2, 3, 4", 2),
    ]


def test_a_table_an_upgrade_changed_names_the_command_that_rebuilds_it(built: Built, tmp_path: Path) -> None:
    """An incremental table stored with other columns than its model now makes (an upgrade added one) stops
    the build with the command that fixes it; that command rebuilds the table alone (the tables that keep
    history by date, downstream, keep it), and the next build gives the rows a build from scratch gives."""
    upgraded, config = _altered_copy(  # as if the model had gained priced_mints in this version
        built,
        tmp_path,
        "upgraded.duckdb",
        "alter table intermediate.int_wallet_days_summarized drop column priced_mints",
    )
    with pytest.raises(UserError) as caught:
        build(config, as_of=built.second.as_of, unit_tests=False)
    message = str(caught.value)
    assert "int_wallet_days_summarized has other columns" in message and "\n" not in message
    command = message.split("`")[1]
    assert command == "chainseg build --full-refresh --select int_wallet_days_summarized"
    build(config, as_of=built.second.as_of, select=command.split()[-1], full_refresh=True, unit_tests=False)
    build(config, as_of=built.second.as_of, unit_tests=False)
    for table in ("intermediate.int_wallet_days_summarized", "marts.wallet_rfv", "marts.rule_segments"):
        query = f"select * from {table} order by all"
        assert _rows(upgraded, query) == _rows(built.config.warehouse_path, query)


def test_a_mart_day_that_does_not_add_up_fails_the_reconciliation(built: Built, tmp_path: Path) -> None:
    """assert_wallet_activity_daily_reconciles compares the mart's sums with the events it summarises: one
    buy too many on one wallet-day fails it."""
    copy = tmp_path / "miscounted.duckdb"
    shutil.copyfile(built.config.warehouse_path, copy)
    config = built.config.model_copy(update={"warehouse": copy})
    reconcile = "assert_wallet_activity_daily_reconciles"
    build(config, select=reconcile, as_of=built.second.as_of, unit_tests=False)  # as built: it adds up
    with duckdb.connect(str(copy)) as con:
        stored = "intermediate.int_wallet_days_summarized"  # the table the mart is a view of
        wallet, day = con.execute(f"select wallet, day from {stored} order by all").fetchone()
        con.execute(f"update {stored} set buys = buys + 1 where wallet = ? and day = ?", [wallet, day])
    with pytest.raises(UserError) as caught:
        build(config, select=reconcile, as_of=built.second.as_of, unit_tests=False)
    assert f"test {reconcile}" in str(caught.value)


def test_a_row_outside_its_transactions_block_is_an_orphan(built: Built, tmp_path: Path) -> None:
    """The relationship tests from raw rows to their transaction match the block too, and read the parent
    only over the child rows' block range: a sale copied into the block before its transaction's is
    caught, and the narrowing shows in the SQL."""
    _, config = _altered_copy(  # the newest sale (a nightly build tests the raw window), one block early
        built,
        tmp_path,
        "sale-in-wrong-block.duckdb",
        "insert into raw.nft_sales select * replace (block_number - 1 as block_number, "
        "log_index + 100000 as log_index) from raw.nft_sales order by block_number desc limit 1",
    )
    with pytest.raises(UserError) as caught:
        build(config, select="stg_raw__nft_sales", as_of=built.second.as_of, unit_tests=False)
    assert "composite_relationships_stg_raw__nft_sales_chain_id__transaction_hash__block_number" in str(
        caught.value
    )
    sql = _test_sql(config, "test.chainseg.composite_relationships_stg_raw__nft_sales_")
    assert "parent.block_number >= (select min(block_number) from child)" in sql


def test_nothing_to_build_is_a_user_error(tmp_path: Path) -> None:
    config = Config(state_dir=tmp_path / "state", warehouse=tmp_path / "missing.duckdb")
    with pytest.raises(UserError, match="does not exist; run `chainseg extract` first"):
        build(config)
    connect(tmp_path / "empty.duckdb").close()  # the raw schema, no blocks yet
    with pytest.raises(UserError, match="holds no blocks and no trades; .* --as-of YYYY-MM-DD"):
        default_as_of(tmp_path / "empty.duckdb")


def _imported_warehouse(tmp_path: Path, files: list[Path], kind: str) -> Config:
    """A new warehouse under tmp_path holding `files` imported as chain 1, and its configuration."""
    config = Config(state_dir=tmp_path / "state", warehouse=tmp_path / "warehouse" / "chainseg.duckdb")
    con = connect(config.warehouse_path)
    try:
        import_files(con, 1, files, kind)
    finally:
        con.close()
    return config


def test_gas_of_transactions_imported_without_receipts_is_unknown_not_zero(tmp_path: Path) -> None:
    """Real mainnet rows (tests/fixtures/imports/ethereum_etl_csv, see its SOURCE.txt): the transactions of
    blocks 47218-47219 come without receipts, those of block 483920 with theirs. The whole project builds
    and passes its tests on them (int_wallet_gas_paid's test once required a gas amount); the daily mart
    counts the former as sent with their gas unknown (gas_unknown_transactions), not as 0 gas paid, and
    sums the gas of the latter exactly."""
    config = _imported_warehouse(tmp_path, sorted(IMPORTS_CSV.rglob("*.csv")), "ethereum-etl")
    result = build(config, as_of=date(2015, 11, 3), unit_tests=False)  # raises if a model or test fails
    results = json.loads((dbt_paths(config)[0] / "run_results.json").read_text())["results"]
    ran = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert ran["assert_wallet_activity_daily_reconciles"] == "pass"
    assert result.nodes > 150 and not result.warnings
    # what the raw rows say, per sender and day (every sender here is an address without known code)
    expected = _rows(
        config.warehouse_path,
        "select from_address, cast(block_timestamp as date), count(*), "
        "coalesce(sum(cast(gas_used as hugeint) * effective_gas_price), 0), "
        "count(*) filter (where gas_used is null) "
        "from raw.transactions where chain_id = 1 group by all order by all",
    )
    mart = _rows(
        config.warehouse_path,
        "select wallet, day, transactions_sent, gas_paid_wei, gas_unknown_transactions "
        "from marts.wallet_activity_daily where transactions_sent > 0 order by all",
    )
    assert mart == expected
    unknown = [row for row in mart if row[4] > 0]
    known = [row for row in mart if row[4] == 0]
    assert unknown and all(row[3] == 0 and row[4] == row[2] for row in unknown)
    assert known and all(row[3] > 0 for row in known)


def test_a_warehouse_of_imported_trades_only_builds_as_of_its_newest_trade(tmp_path: Path) -> None:
    """Dune-shaped trades imported into an empty warehouse (no blocks: nothing extracted): `chainseg build`
    without a date builds as of the newest trade's day, and every buyer's purchases reach wallet_rfv.
    Before that, a first build of only the RFV (`--select +wallet_rfv`) passes: the tests reading models it
    leaves out, never built, do not run (dbt's default would run them, and they fail on missing tables)."""
    config = _imported_warehouse(tmp_path, sorted(IMPORTS_DUNE.glob("nft_trades*")), "dune-trades")
    newest = _rows(config.warehouse_path, "select max(cast(block_timestamp as date)) from raw.nft_sales")[0][
        0
    ]
    assert _rows(config.warehouse_path, "select count(*) from raw.blocks") == [(0,)]
    build(config, select="+wallet_rfv", unit_tests=False)
    marts = "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    assert _rows(config.warehouse_path, marts) == [("wallet_rfv",)]
    ran = json.loads((dbt_paths(config)[0] / "run_results.json").read_text())["results"]
    assert not [r for r in ran if "token_holding_periods" in r["unique_id"]]
    result = build(config, unit_tests=False)
    assert result.as_of == newest and result.nodes > 150
    bought = _rows(
        config.warehouse_path, "select buyer_address, count(*) from raw.nft_sales group by 1 order by 1"
    )
    assert len(bought) > 3
    assert (
        _rows(
            config.warehouse_path,
            "select wallet, buys_total from marts.wallet_rfv where buys_total > 0 order by 1",
        )
        == bought
    )

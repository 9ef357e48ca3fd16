"""wallet_rfv, token_holding_periods and wallet_holding_summary on a real warehouse: the demo chain (seeded
once per session, shared with test_simulator), extracted in two steps and built the nightly way.

- build() passes: the holdings/RFV models, everything upstream and their data tests (their unit tests, which
  test_dbt_build.py runs, exist);
- the nightly path (build, extract the rest, build incrementally) and a full refresh give identical rows;
- wallet_rfv's buys, spend, sells and proceeds (in total and per window) and its lifetimes columns equal
  the same numbers computed here from raw.nft_sales; its wallets are those of wallet_activity_daily;
- holding rows equal a first-in-first-out replay of raw.token_transfers, tile each ERC-721 token's
  ownership timeline (no overlap, no gap) and give the ERC-1155 balances of raw.token_transfers;
- imported trades without transfers end a position as left_unobserved;
- per the simulator's answer key (evaluation only), flippers hold for a much shorter time than collectors
  and flip a larger share of their positions.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import statistics
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from chainseg.config import ChainConfig, Config, ExtractConfig
from devnet.jsonrpc import JsonRpc
from extract.extractor import extract_chain
from extract.warehouse import connect
from flows.dbt_build import BuildResult, build, dbt_paths

ZERO = "0x" + "00" * 20
ALL_BLOCKS = ChainConfig(chain_id=31337, use_finalized=False, confirmations=0)
# These marts, everything upstream, and wallet_activity_daily to compare with. Tests are selected
# "cautiously" (all their parents selected): dbt's default would also run the tests of other marts that
# merely read one of these models, against tables this selection never builds.
SELECT = "+wallet_rfv +wallet_holding_summary wallet_activity_daily"
MARTS = ("wallet_rfv", "token_holding_periods", "wallet_holding_summary")
WINDOWS = (30, 90, 365)  # the default marts.rfv_windows_days
FLIP_DAYS = 7
INCREMENTAL = ("intermediate.int_wallet_days_summarized", "marts.wallet_rfv", "marts.token_holding_periods")
Position = tuple[int, int, int]  # block_number, log_index, batch_index


@dataclass(frozen=True)
class Built:
    config: Config
    answer_key: Path
    first: BuildResult  # built on the first part of the chain
    second: BuildResult  # then incrementally on all of it

    @property
    def db(self) -> Path:
        return self.config.warehouse_path


def _extract(url: str, db: Path, to_block: int | None = None) -> None:
    con = connect(db)
    try:
        asyncio.run(extract_chain(url, "devnet", ALL_BLOCKS, ExtractConfig(), con, to_block=to_block))
    finally:
        con.close()


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _table(db: Path, name: str) -> list[tuple]:
    return _rows(db, f"select * from {name} order by all")


def _build(config: Config, select: str, **options: object) -> BuildResult:
    # unit tests: test_dbt_build.py runs every one of them once
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_INDIRECT_SELECTION", "cautious")
        return build(config, select=select, unit_tests=False, **options)


@pytest.fixture(scope="module")
def built(demo_chain, tmp_path_factory: pytest.TempPathFactory) -> Built:  # noqa: ANN001
    root = tmp_path_factory.mktemp("holdings-rfv")
    config = Config(state_dir=root / "state", warehouse=root / "warehouse" / "chainseg.duckdb")
    url = demo_chain.node.url
    head = int(JsonRpc(url).call("eth_blockNumber"), 16)
    # The nightly path: a first part of the chain (cut inside a day), built; then the rest, built again.
    _extract(url, config.warehouse_path, to_block=head * 4 // 5)
    first = _build(config, SELECT)
    _extract(url, config.warehouse_path)
    second = _build(config, SELECT)
    return Built(config, demo_chain.result.answer_key, first, second)


def test_build_runs_the_marts_and_their_tests(built: Built) -> None:
    assert built.first.as_of < built.second.as_of and not built.second.warnings
    names = {name for _, _, name in _results(built)}
    target, _ = dbt_paths(built.config)
    manifest = json.loads((target / "manifest.json").read_text())
    unit_tests = {unique_id.split(".")[-1] for unique_id in manifest["unit_tests"]}  # run in test_dbt_build
    for unit_test in (
        "wallet_rfv_windows_at_their_edges",
        "wallet_rfv_lifetimes_columns",
        "token_holding_periods_erc1155_fifo_partial_sells",
        "token_holding_periods_erc721_lifecycle",
        "token_holding_periods_left_unobserved_from_trades_only",
        "wallet_holding_summary_by_hand",
        "int_token_mints_priced_splits_the_value_exactly",
        "int_holding_events_unioned_observed_and_trades_only",
        "int_wallet_days_summarized_by_hand",
    ):
        assert unit_test in unit_tests
    assert {"assert_holdings_lots_and_sales_add_up", "assert_holdings_match_token_balances"} <= names
    for table in INCREMENTAL:
        assert len(_table(built.db, table)) > 500, table
    # every mart column is described
    for mart in MARTS:
        columns = {name for (name,) in _rows(built.db, f"select column_name from (describe marts.{mart})")}
        node = manifest["nodes"][f"model.chainseg.{mart}"]
        assert columns == {name for name, column in node["columns"].items() if column["description"]}, mart


def _results(built: Built) -> list[tuple[str, str, str]]:
    target, _ = dbt_paths(built.config)
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert all(r["status"] in ("success", "pass") for r in results)
    return [(r["status"], r["unique_id"].split(".")[0], r["unique_id"].split(".")[-1]) for r in results]


def test_full_refresh_equals_the_nightly_path(built: Built, tmp_path: Path) -> None:
    nightly = [_table(built.db, name) for name in INCREMENTAL]
    copy = tmp_path / "full-refresh.duckdb"
    shutil.copyfile(built.db, copy)
    full = built.config.model_copy(update={"warehouse": copy})
    _build(full, "int_wallet_days_summarized wallet_rfv", full_refresh=True, as_of=built.second.as_of)
    assert [_table(copy, name) for name in INCREMENTAL] == nightly


# ------------------------------------------------------------------------------------------------ RFV


def rfv_from_raw(db: Path, as_of: date) -> dict[str, dict[str, object]]:
    """wallet_rfv's sale-based columns for every wallet that bought or sold, from raw.nft_sales alone."""
    contracts = {a for (a,) in _rows(db, "select address from raw.addresses where has_code")}
    sales = _rows(
        db,
        "select buyer_address, seller_address, price, fee, royalty, block_timestamp from raw.nft_sales "
        "where cast(block_timestamp as date) <= ?",
        [as_of],
    )
    buys: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    sells: dict[str, list[int]] = defaultdict(list)
    for buyer, seller, price, fee, royalty, at in sales:
        buys[buyer].append((at, int(price)))
        sells[seller].append(int(price) - int(fee) - int(royalty))
    out: dict[str, dict[str, object]] = {}
    for wallet in (set(buys) | set(sells)) - contracts - {ZERO}:
        mine = sorted(buys[wallet])
        row: dict[str, object] = {
            "buys_total": len(mine),
            "spend_wei_total": sum(price for _, price in mine),
            "sells_total": len(sells[wallet]),
            "proceeds_wei_total": sum(sells[wallet]),
        }
        for days in WINDOWS:
            inside = [price for at, price in mine if at.date() > as_of - timedelta(days=days)]
            row[f"buys_{days}d"], row[f"spend_wei_{days}d"] = len(inside), sum(inside)
        if mine:
            by_day: dict[date, int] = defaultdict(int)
            for at, price in mine:
                by_day[at.date()] += price
            first_day, last_day = min(by_day), max(by_day)
            frequency = len(by_day) - 1
            repeat_spend = row["spend_wei_total"] - by_day[first_day]
            row |= {
                "last_buy_at": mine[-1][0],
                "recency_days": (as_of - last_day).days,
                "frequency": frequency,
                "recency": (last_day - first_day).days,
                "T": (as_of - first_day).days,
                "monetary_value": repeat_spend / frequency if frequency else 0,
                "mean_days_between_buys": (
                    (mine[-1][0] - mine[0][0]).total_seconds() / 86_400 / (len(mine) - 1)
                    if len(mine) > 1
                    else None
                ),
            }
        out[wallet] = row
    return out


def test_wallet_rfv_equals_raw_sales(built: Built) -> None:
    db, as_of = built.db, built.second.as_of
    currencies = {c for (c,) in _rows(db, "select distinct currency_address from raw.nft_sales")}
    assert len(currencies) == 2 and ZERO in currencies  # ETH and WETH: every sale is valued in wei
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("select * from marts.wallet_rfv")
        columns = [d[0] for d in cursor.description]
        mart = {row[1]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}
        activity = con.execute(
            "select wallet, min(day), max(day), sum(mints) from marts.wallet_activity_daily group by wallet"
        ).fetchall()
    assert {f"buys_{days}d" for days in WINDOWS} <= set(columns)
    # the wallets of wallet_activity_daily, first and last seen on its first and last day
    assert mart.keys() == {wallet for wallet, *_ in activity}
    for wallet, first_day, last_day, mints in activity:
        row = mart[wallet]
        assert (row["first_seen_at"].date(), row["last_seen_at"].date()) == (first_day, last_day)
        assert row["tenure_days"] == (as_of - first_day).days and row["mints_total"] == mints
    expected = rfv_from_raw(db, as_of)
    assert len(expected) > 500 and expected.keys() <= mart.keys()
    for wallet, row in mart.items():
        want = expected.get(wallet, {"buys_total": 0, "spend_wei_total": 0, "sells_total": 0})
        for column, value in want.items():
            if isinstance(value, float):
                assert row[column] == pytest.approx(value, rel=1e-12), (wallet, column)
            else:
                assert row[column] == value, (wallet, column)
        if not want["buys_total"]:
            assert row["frequency"] is row["T"] is row["monetary_value"] is row["last_buy_at"] is None
    assert sum(row["buys_30d"] for row in mart.values()) > 0
    assert sum(1 for row in mart.values() if row["frequency"] and row["frequency"] > 2) > 100


# ------------------------------------------------------------------------------------------- holdings


def holdings_from_raw(db: Path, as_of: date) -> Counter[tuple]:
    """Holding rows replayed from raw.token_transfers: lots matched to disposals first-in-first-out per
    (wallet, contract, token id), self-transfers skipped. (wallet, contract, token_id, acquired position,
    disposed position or None, units) -> count."""
    transfers = _rows(
        db,
        "select block_number, log_index, batch_index, contract_address, token_id, from_address, to_address, "
        "amount from raw.token_transfers where token_standard in ('erc721', 'erc1155') "
        "and cast(block_timestamp as date) <= ? order by block_number, log_index, batch_index",
        [as_of],
    )
    lots: dict[tuple[str, str, str], deque[list]] = defaultdict(deque)
    rows: Counter[tuple] = Counter()
    for block, log, batch, contract, token, sender, receiver, amount in transfers:
        units, position = int(amount), (block, log, batch)
        if sender == receiver or units == 0:
            continue
        if sender != ZERO:
            queue, left = lots[(sender, contract, token)], units
            while left and queue:
                acquired, held = queue[0]
                taken = min(left, held)
                rows[(sender, contract, token, acquired, position, taken)] += 1
                left -= taken
                queue[0][1] -= taken
                if queue[0][1] == 0:
                    queue.popleft()
            assert left == 0, "a wallet sold units it never received"
        if receiver != ZERO:
            lots[(receiver, contract, token)].append([position, units])
    for (wallet, contract, token), queue in lots.items():
        for acquired, held in queue:
            rows[(wallet, contract, token, acquired, None, held)] += 1
    return rows


def _holdings(db: Path) -> list[dict[str, object]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute("select * from marts.token_holding_periods")
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _acquired(row: dict[str, object]) -> Position:
    return (row["acquired_block_number"], row["acquired_log_index"], row["acquired_batch_index"])


def _disposed(row: dict[str, object]) -> Position | None:
    if row["is_open"]:
        return None
    return (row["disposed_block_number"], row["disposed_log_index"], row["disposed_batch_index"])


def test_holding_rows_replay_the_transfers_first_in_first_out(built: Built) -> None:
    holdings = _holdings(built.db)
    actual = Counter(
        (r["wallet"], r["contract_address"], r["token_id"], _acquired(r), _disposed(r), int(r["amount"]))
        for r in holdings
    )
    assert actual == holdings_from_raw(built.db, built.second.as_of)
    assert {r["token_standard"] for r in holdings} == {"erc721", "erc1155"}
    assert not any(r["disposed_via"] == "left_unobserved" or r["acquired_from_trade_only"] for r in holdings)
    assert any(r["amount"] < r["lot_amount"] for r in holdings)  # ERC-1155 lots split over disposals
    for row in holdings:
        assert (row["holding_days"] >= 0) and (row["is_open"] == (row["disposed_at"] is None))
        if row["disposed_via"] == "sale" and row["acquired_price_wei"] is not None:
            assert row["realized_pnl_wei"] == row["disposed_proceeds_wei"] - row["acquired_price_wei"]


def test_erc721_rows_tile_each_token_timeline(built: Built) -> None:
    by_token: dict[tuple[str, str], list[dict[str, object]]] = defaultdict(list)
    for row in _holdings(built.db):
        if row["token_standard"] == "erc721":
            by_token[(row["contract_address"], row["token_id"])].append(row)
    assert len(by_token) > 1000
    for token, rows in by_token.items():
        rows.sort(key=_acquired)
        for before, after in zip(rows, rows[1:], strict=False):
            # the holder's disposal is the next holder's acquisition: no overlap, no gap
            assert not before["is_open"] and before["disposed_via"] in ("sale", "transfer"), token
            assert _disposed(before) == _acquired(after), token
            assert before["disposed_at"] == after["acquired_at"], token
            assert (before["disposed_via"] == "sale") == (after["acquired_via"] == "buy"), token
        assert rows[0]["acquired_via"] == "mint", token
        assert rows[-1]["is_open"] or rows[-1]["disposed_via"] == "burn", token


def test_erc1155_balances_equal_the_transfers(built: Built) -> None:
    balances: dict[tuple[str, str, str], int] = defaultdict(int)
    for contract, token, sender, receiver, amount in _rows(
        built.db,
        "select contract_address, token_id, from_address, to_address, amount from raw.token_transfers "
        "where token_standard = 'erc1155' and cast(block_timestamp as date) <= ?",
        [built.second.as_of],
    ):
        balances[(sender, contract, token)] -= int(amount)
        balances[(receiver, contract, token)] += int(amount)
    expected = {key: units for key, units in balances.items() if units and key[0] != ZERO}
    held: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in _holdings(built.db):
        if row["token_standard"] == "erc1155" and row["is_open"]:
            held[(row["wallet"], row["contract_address"], row["token_id"])] += int(row["amount"])
    assert held == expected and len(expected) > 100


def test_trades_only_positions_end_left_unobserved(built: Built, tmp_path: Path) -> None:
    """Imported sales of a collection whose transfers were never extracted: a -> b, then c -> d, then
    d -> e. b's position ends left_unobserved (c sold the token: b gave it up unseen, when is unknown);
    d's ends in its own sale; e still holds it; a's and c's sales give no row. Declared ERC-1155 by the
    import, b's position stays open."""
    copy = tmp_path / "imported.duckdb"
    shutil.copyfile(built.db, copy)
    sql = "select block_number, timestamp from raw.blocks where block_number in (100, 200, 300)"
    blocks = dict(_rows(built.db, sql))
    names = {letter: f"0x{letter * 40}" for letter in "abcde"}
    collection = "0x" + "ee" * 20
    sales = [(100, "a", "b", 10**18), (200, "c", "d", 2 * 10**18), (300, "d", "e", 3 * 10**18)]
    with duckdb.connect(str(copy)) as con:
        for number, (block_number, seller, buyer, price) in enumerate(sales):
            con.execute(
                "insert into raw.nft_sales values (31337, ?, ?, ?, 0, null, 'Imported', ?, '7', '1', ?, ?, "
                "?, 'ETH', ?, ?, '0', 0, '0', 0, 'dune', null)",
                [block_number, blocks[block_number], f"0x{number + 1:064x}", collection, names[seller],
                 names[buyer], ZERO, str(price), float(price)],
            )  # fmt: skip
    imported = built.config.model_copy(update={"warehouse": copy})
    _build(
        imported,
        "int_nft_sales_deduplicated int_wallet_trades int_holding_events_unioned token_holding_periods",
        as_of=built.second.as_of,
    )
    rows = {r["wallet"]: r for r in _holdings(copy) if r["contract_address"] == collection}
    assert rows.keys() == {names["b"], names["d"], names["e"]}
    b, d, e = rows[names["b"]], rows[names["d"]], rows[names["e"]]
    assert b["disposed_via"] == "left_unobserved" and not b["is_open"]
    assert b["disposed_at"] is None and b["holding_days"] is None  # unknown, not guessed
    assert b["acquired_from_trade_only"] and b["token_standard"] == "erc721"
    assert b["acquired_price_wei"] == 10**18 and b["disposed_block_number"] == 200
    assert (d["disposed_via"], d["disposed_at"], d["realized_pnl_wei"]) == ("sale", blocks[300], 10**18)
    assert d["holding_days"] == pytest.approx((blocks[300] - blocks[200]).total_seconds() / 86_400)
    assert e["is_open"] and e["acquired_via"] == "buy"
    # every other row is unchanged
    others = [r for r in _holdings(copy) if r["contract_address"] != collection]
    assert sorted(map(repr, others)) == sorted(map(repr, _holdings(built.db)))
    # the old imported sales reached the incrementally built sales tables as a full refresh has them
    sales_tables = ("intermediate.int_nft_sales_deduplicated", "intermediate.int_wallet_trades")
    nightly = [_table(copy, name) for name in sales_tables]
    assert sum(row[1] in (100, 200, 300) and "dune" in row for row in nightly[0]) == 3
    refreshed = tmp_path / "refreshed.duckdb"
    shutil.copyfile(copy, refreshed)
    full = built.config.model_copy(update={"warehouse": refreshed})
    _build(full, "int_nft_sales_deduplicated int_wallet_trades", full_refresh=True, as_of=built.second.as_of)
    assert [_table(refreshed, name) for name in sales_tables] == nightly
    # The same trades declared ERC-1155 by the import: editions, so c's sale says nothing of b's copy.
    with duckdb.connect(str(copy)) as con:
        declared = "update raw.nft_sales set token_standard = 'erc1155' where collection_address = ?"
        con.execute(declared, [collection])
    _build(imported, "int_holding_events_unioned token_holding_periods", as_of=built.second.as_of)
    rows = {r["wallet"]: r for r in _holdings(copy) if r["contract_address"] == collection}
    assert rows[names["b"]]["is_open"] and rows[names["b"]]["token_standard"] == "erc1155"
    assert rows[names["e"]]["is_open"] and rows[names["d"]]["disposed_via"] == "sale"


def test_flippers_hold_shorter_than_collectors(built: Built) -> None:
    with open(built.answer_key) as handle:  # for evaluation only: the pipeline never reads it
        key = [row for row in csv.DictReader(handle) if row["role"] == "wallet"]
    persona = {row["address"]: row["persona"] for row in key}
    medians: dict[str, list[float]] = defaultdict(list)
    shares: dict[str, list[float]] = defaultdict(list)
    for wallet, median, share in _rows(
        built.db,
        "select wallet, median_holding_days, flip_share from marts.wallet_holding_summary "
        "where closed_positions > 0",
    ):
        if wallet in persona:
            medians[persona[wallet]].append(median)
            shares[persona[wallet]].append(share)
    assert len(medians["flipper"]) >= 50 and len(medians["collector"]) >= 50
    flipper, collector = statistics.median(medians["flipper"]), statistics.median(medians["collector"])
    assert flipper < FLIP_DAYS < collector and flipper < collector / 2, (flipper, collector)
    assert statistics.mean(shares["flipper"]) > statistics.mean(shares["collector"]) + 0.25

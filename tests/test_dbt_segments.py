"""The segment marts on a real warehouse: the demo chain (seeded once per session, shared with the other
tests that read it), extracted whole and built with the example rule cohorts of the repository's
chainseg.yml.

- build() passes: every model and data test of the project (its unit tests, which test_dbt_build.py runs,
  exist);
- wallet_gas_sensitivity: per the simulator's answer key (evaluation only), bargain hunters come out
  'sensitive' and snipers 'insensitive', and nobody else does;
- wallet_abc_class / abc_cuts: the tiers equal a ranking computed here from raw.nft_sales (exact integer
  spends, ties by address, A = ceil(n x 0.1), A + B = ceil(n x 0.3)), A's lowest spend is at least B's
  highest, whales are mostly A; history by as_of (another date added, a rerun replaces its date);
- rule_segments: each example cohort's members are exactly the wallets that satisfy its rule, checked
  here from raw rows; the feature fields of the dbt macro and of chainseg/config.py agree;
- an invalid rule fails with a one-line error naming the rule, before dbt when the file alone shows it;
- ml_training_snapshots: for a sample of wallets, every cutoff's features equal those recomputed here from
  raw rows strictly before the cutoff, and an event on a cutoff's own day changes nothing.
"""

from __future__ import annotations

import asyncio
import csv
import json
import math
import random
import shutil
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import duckdb
import pytest
import yaml

from chainseg.config import ChainConfig, Config, ExtractConfig, RuleCohort, RuleCondition, load_config
from chainseg.errors import UserError
from extract.extractor import extract_chain
from extract.warehouse import connect
from flows.dbt_build import BuildResult, build, dbt_paths

REPO = Path(__file__).resolve().parents[1]
ZERO = "0x" + "00" * 20
ALL_BLOCKS = ChainConfig(chain_id=31337, use_finalized=False, confirmations=0)
BLUE = "0x350335f4027b7cfc04362225bf960b9877925b94"  # the demo chain's blue-chip collection (seed 42)
GWEI = 10**9
ETHER = 10**18
SEGMENT_MODELS = (
    "int_wallet_features_as_of int_wallet_token_balances int_wallet_collections_held wallet_abc_class "
    "abc_cuts rule_segments"
)


@dataclass
class Raw:
    """The raw tables, read once, as plain Python values."""

    contracts: set[str]
    sales: list[tuple]  # buyer, seller, price (int wei), block_timestamp
    txs: list[tuple]  # sender, block_timestamp, gas paid (int wei), tip (int wei or None), base fee present
    transfers: list[tuple]  # sender, receiver, collection, token_id, amount (int), block_timestamp
    events: dict[str, list[datetime]] = field(default_factory=dict)  # wallet -> activity timestamps


@dataclass(frozen=True)
class Built:
    config: Config
    answer_key: dict[str, str]  # address -> persona
    result: BuildResult
    raw: Raw
    statuses: dict[str, str]  # node name -> status, from the build's run_results.json
    unit_tests: set[str]  # the project's unit tests, from manifest.json
    described: dict[str, set[str]]  # model -> its columns with a description, from manifest.json

    @property
    def db(self) -> Path:
        return self.config.warehouse_path


def _rows(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _read_raw(db: Path) -> Raw:
    contracts = {a for (a,) in _rows(db, "select address from raw.addresses where has_code")}
    sales = [
        (buyer, seller, int(price), at)
        for buyer, seller, price, at in _rows(
            db, "select buyer_address, seller_address, price, block_timestamp from raw.nft_sales"
        )
    ]
    txs = _rows(
        db,
        "select t.from_address, t.block_timestamp, t.gas_used * t.effective_gas_price, "
        "t.effective_gas_price - b.base_fee_per_gas, b.base_fee_per_gas is not null "
        "from raw.transactions t join raw.blocks b using (chain_id, block_number)",
    )
    transfers = [
        (sender, receiver, collection, token, int(amount), at)
        for sender, receiver, collection, token, amount, at in _rows(
            db,
            "select from_address, to_address, contract_address, token_id, amount, block_timestamp "
            "from raw.token_transfers where token_standard in ('erc721', 'erc1155')",
        )
    ]
    events: dict[str, list[datetime]] = defaultdict(list)
    for buyer, seller, _, at in sales:
        events[buyer].append(at)
        events[seller].append(at)
    for sender, at, *_ in txs:
        events[sender].append(at)
    for sender, receiver, *_, at in transfers:
        events[sender].append(at)
        events[receiver].append(at)
    events.pop(ZERO, None)
    return Raw(contracts, sales, txs, transfers, dict(events))


@pytest.fixture(scope="module")
def built(demo_chain, tmp_path_factory: pytest.TempPathFactory) -> Built:  # noqa: ANN001
    root = tmp_path_factory.mktemp("segments")
    # The repository's chainseg.yml: its example rule cohorts are meant to work on the demo chain.
    marts = load_config(REPO / "chainseg.yml").marts
    config = Config(state_dir=root / "state", warehouse=root / "warehouse" / "chainseg.duckdb", marts=marts)
    con = connect(config.warehouse_path)
    try:
        asyncio.run(extract_chain(demo_chain.node.url, "devnet", ALL_BLOCKS, ExtractConfig(), con))
    finally:
        con.close()
    result = build(config, unit_tests=False)
    with open(demo_chain.result.answer_key, newline="") as handle:
        answer_key = {row["address"]: row["persona"] for row in csv.DictReader(handle)}
    target, _ = dbt_paths(config)  # read now: later builds of this module write there too
    results = json.loads((target / "run_results.json").read_text())["results"]
    # exposures are listed too, with status no-op: dbt builds nothing for them
    statuses = {
        r["unique_id"].split(".")[-1]: r["status"]
        for r in results
        if r["unique_id"].split(".")[0] != "exposure"
    }
    manifest = json.loads((target / "manifest.json").read_text())
    unit_tests = {unique_id.split(".")[-1] for unique_id in manifest["unit_tests"]}
    nodes = manifest["nodes"].values()
    described = {
        node["name"]: {name for name, column in node["columns"].items() if column["description"]}
        for node in nodes
        if node["resource_type"] == "model"
    }
    raw = _read_raw(config.warehouse_path)
    return Built(config, answer_key, result, raw, statuses, unit_tests, described)


def _end_of(day: date) -> datetime:
    """The exclusive end of a UTC day, as the naive timestamps of the warehouse."""
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


MODELS = {
    "marts": (
        "wallet_gas_sensitivity", "wallet_abc_class", "abc_cuts", "rule_segments", "ml_training_snapshots",
    ),
    "intermediate": (
        "int_block_base_fees_ranked", "int_wallet_transactions_ranked", "int_wallet_features_as_of",
        "int_wallet_token_balances", "int_wallet_collections_held",
    ),
}  # fmt: skip


DATA_TESTS = (
    "assert_segments_ml_snapshots_have_no_look_ahead", "assert_segments_ml_snapshots_match_raw",
    "assert_segments_abc_tiers_are_ordered", "assert_segments_features_are_current",
)  # fmt: skip


def test_build_runs_the_segment_marts_and_their_tests(built: Built) -> None:
    assert not built.result.warnings
    assert set(built.statuses.values()) <= {"success", "pass"}
    for name in (*MODELS["marts"], *MODELS["intermediate"], *DATA_TESTS):
        assert name in built.statuses, name
    for name in (
        "block_base_fees_percentile_and_cheapest_hours",
        "wallet_features_tip_percentile_ranks_wallets_only",
        "wallet_gas_sensitivity_medians_share_and_label_cutoffs",
        "wallet_abc_class_ties_at_the_a_b_boundary",
        "int_wallet_token_balances_sums_movements_up_to_as_of",
        "wallet_abc_class_three_wallets_and_a_contract_excluded",
        "wallet_abc_class_contracts_included_on_request",
        "abc_cuts_by_hand", "rule_segments_example_cohorts_at_their_thresholds",
        "rule_segments_without_cohorts_is_empty",
        "ml_training_snapshots_exclude_days_from_the_cutoff_on", "ml_training_snapshots_at_an_earlier_cutoff",
        "int_wallet_event_days_summed_by_hand", "int_wallet_token_days_netted_by_hand",
    ):  # fmt: skip
        assert name in built.unit_tests, name  # test_dbt_build.py runs them
    for table in MODELS["marts"]:
        assert _rows(built.db, f"select count(*) from marts.{table}")[0][0] > 0, table


def test_every_column_is_described(built: Built) -> None:
    for schema, models in MODELS.items():
        for model in models:
            columns = {name for name, *_ in _rows(built.db, f"describe {schema}.{model}")}
            assert columns == built.described[model], model


def test_gas_labels_match_the_personas(built: Built) -> None:
    labels: dict[str, Counter] = defaultdict(Counter)
    for wallet, label in _rows(built.db, "select wallet, gas_sensitivity from marts.wallet_gas_sensitivity"):
        labels[built.answer_key.get(wallet) or "other"][label] += 1
    bargain, sniper = labels.pop("bargain_hunter"), labels.pop("sniper")
    assert bargain["sensitive"] >= 0.9 * bargain.total() and bargain.total() >= 100
    assert sniper["insensitive"] >= 0.9 * sniper.total() and sniper.total() >= 50
    others = sum(labels.values(), Counter())
    assert others["sensitive"] + others["insensitive"] <= 0.02 * others.total()


def test_abc_tiers_equal_a_ranking_from_raw(built: Built) -> None:
    as_of, raw = built.result.as_of, built.raw
    start = _end_of(as_of) - timedelta(days=365)
    spend: dict[str, int] = defaultdict(int)
    for buyer, _, price, at in raw.sales:
        if start <= at < _end_of(as_of):
            spend[buyer] += price
    wallets = sorted((w for w in spend if w not in raw.contracts), key=lambda w: (-spend[w], w))
    n = len(wallets)
    top_a = math.ceil(n * Fraction("0.10"))
    top_ab = math.ceil(n * (Fraction("0.10") + Fraction("0.20")))
    expected = {
        w: ("A" if i < top_a else "B" if i < top_ab else "C", spend[w]) for i, w in enumerate(wallets)
    }
    expected |= {w: ("contract", spend[w]) for w in spend if w in raw.contracts}
    rows = _rows(
        built.db, "select wallet, abc_class, spend_wei from marts.wallet_abc_class where as_of = ?", [as_of]
    )
    assert {w: (c, int(s)) for w, c, s in rows} == expected
    cuts = {
        c: (wallets_, lo, hi)
        for c, wallets_, lo, hi in _rows(
            built.db,
            "select abc_class, wallets, min_spend_wei, max_spend_wei from marts.abc_cuts where as_of = ?",
            [as_of],
        )
    }
    assert (cuts["A"][0], cuts["B"][0], cuts["C"][0]) == (top_a, top_ab - top_a, n - top_ab)
    assert cuts["A"][1] >= cuts["B"][2] and cuts["B"][1] >= cuts["C"][2]
    whales = Counter(c for w, (c, _) in expected.items() if built.answer_key.get(w) == "whale")
    assert whales["A"] >= 0.75 * whales.total() > 0


def test_abc_and_rules_keep_history_by_as_of(built: Built, tmp_path: Path) -> None:
    copy = tmp_path / "history.duckdb"
    shutil.copyfile(built.db, copy)
    config = built.config.model_copy(update={"warehouse": copy})
    latest = built.result.as_of
    earlier = latest - timedelta(days=14)
    tables = ("wallet_abc_class", "abc_cuts", "rule_segments")
    query = "select * from marts.{} where as_of = ? order by all"
    before = {table: _rows(copy, query.format(table), [latest]) for table in tables}
    build(config, select=SEGMENT_MODELS, as_of=earlier, unit_tests=False)
    build(
        config, select=SEGMENT_MODELS, as_of=latest, unit_tests=False
    )  # a rerun for a date replaces that date's rows
    for table in tables:
        dates = _rows(copy, f"select as_of, count(*) from marts.{table} group by as_of order by as_of")
        assert [day for day, _ in dates] == [earlier, latest], table
        assert _rows(copy, query.format(table), [latest]) == before[table], table


def _features_from_raw(raw: Raw, cutoff: date) -> dict[str, dict[str, object]]:
    """Wallet features from raw rows strictly before the cutoff's 00:00 (a subset of the feature model)."""
    end = datetime(cutoff.year, cutoff.month, cutoff.day)
    reference = cutoff - timedelta(days=1)
    since = {d: end - timedelta(days=d) for d in (30, 90)}
    out: dict[str, dict[str, object]] = {}
    for wallet, times in raw.events.items():
        before = [t for t in times if t < end]
        if before and wallet not in raw.contracts:
            last = max(before)
            out[wallet] = {
                "last_activity_at": last,
                "days_since_last_activity": (reference - last.date()).days,
                "active_days_total": len({t.date() for t in before}),
                "buys_total": 0, "buys_30d": 0, "buys_90d": 0, "spend_total_wei": 0, "spend_90d_wei": 0,
                "sells_total": 0, "transactions_total": 0, "gas_paid_total_wei": 0, "tips": [],
                "last_buy_at": None,
            }  # fmt: skip
    for buyer, seller, price, at in raw.sales:
        if at >= end:
            continue
        if buyer in out:
            f = out[buyer]
            f["buys_total"] += 1
            f["spend_total_wei"] += price
            f["buys_30d"] += at >= since[30]
            f["buys_90d"] += at >= since[90]
            f["spend_90d_wei"] += price if at >= since[90] else 0
            f["last_buy_at"] = max(filter(None, [f["last_buy_at"], at]))
        if seller in out:
            out[seller]["sells_total"] += 1
    for sender, at, gas_paid, tip, has_base_fee in raw.txs:
        if at < end and sender in out:
            out[sender]["transactions_total"] += 1
            out[sender]["gas_paid_total_wei"] += gas_paid
            if has_base_fee and at >= since[90]:
                out[sender]["tips"].append(tip / GWEI)
    balances: dict[tuple, int] = defaultdict(int)
    for sender, receiver, collection, token, amount, at in raw.transfers:
        if at < end:
            balances[(sender, collection, token)] -= amount
            balances[(receiver, collection, token)] += amount
    held: dict[str, set] = defaultdict(set)
    for (wallet, collection, token), units in balances.items():
        if units > 0:
            held[wallet].add((collection, token))
    for wallet, f in out.items():
        f["days_since_last_buy"] = (reference - f["last_buy_at"].date()).days if f["last_buy_at"] else None
        f["tokens_held"] = len(held[wallet])
        f["collections_held"] = len({collection for collection, _ in held[wallet]})
        f["holds_blue"] = any(collection == BLUE for collection, _ in held[wallet])
        f["median_tip_gwei"] = statistics.median(f["tips"]) if f["tips"] else None
    ranked = sorted(f["median_tip_gwei"] for f in out.values() if f["median_tip_gwei"] is not None)
    for f in out.values():
        tip = f["median_tip_gwei"]
        if tip is not None:
            lower = sum(1 for t in ranked if t < tip)
            equal = sum(1 for t in ranked if t == tip)
            f["tip_percentile"] = (lower + 0.5 * equal) / len(ranked)
        else:
            f["tip_percentile"] = None
    return out


def test_features_as_of_equal_features_from_raw(built: Built) -> None:
    """int_wallet_features_as_of (its holdings taken from the incremental balances, its sums from the
    wallet-day tables) holds what raw rows give, wallet by wallet."""
    as_of = built.result.as_of
    expected = _features_from_raw(built.raw, as_of + timedelta(days=1))
    columns = [
        "wallet", "last_activity_at", "days_since_last_activity", "transactions_total", "gas_paid_total_wei",
        "buys_total", "buys_30d", "buys_90d", "spend_total_wei", "spend_90d_wei", "sells_total",
        "tokens_held", "collections_held",
    ]  # fmt: skip
    rows = _rows(built.db, f"select {', '.join(columns)} from intermediate.int_wallet_features_as_of")
    actual = {row[0]: dict(zip(columns[1:], row[1:], strict=True)) for row in rows}
    assert set(actual) == set(expected)
    for wallet, features in actual.items():
        wanted = {name: expected[wallet][name] for name in columns[1:]}
        assert {k: int(v) if k.endswith("_wei") else v for k, v in features.items()} == wanted, wallet
    assert sum(f["tokens_held"] for f in actual.values()) > 0


def test_rule_cohort_members_satisfy_their_rules(built: Built) -> None:
    as_of = built.result.as_of
    features = _features_from_raw(built.raw, as_of + timedelta(days=1))
    members: dict[str, dict[str, str]] = defaultdict(dict)
    for segment, wallet, rule in _rows(
        built.db, "select segment, wallet, matched_rule from marts.rule_segments where as_of = ?", [as_of]
    ):
        members[segment][wallet] = rule
    cohorts = {c.name for c in built.config.marts.rule_cohorts}
    assert cohorts == {
        "blue_chip_active_buyers",
        "dormant_repeat_buyers",
        "top_tippers",
        "big_or_frequent_buyers",
    }
    assert all(members[name] for name in cohorts), {name: len(members[name]) for name in cohorts}

    def satisfying(rule: object) -> set[str]:
        return {w for w, f in features.items() if rule(f)}

    assert set(members["blue_chip_active_buyers"]) == satisfying(
        lambda f: f["holds_blue"] and f["buys_30d"] > 3
    )
    assert set(members["dormant_repeat_buyers"]) == satisfying(
        lambda f: f["buys_total"] >= 5 and f["days_since_last_activity"] >= 60
    )
    big = members["big_or_frequent_buyers"]
    assert set(big) == satisfying(lambda f: f["spend_90d_wei"] >= 5 * ETHER or f["buys_90d"] >= 15)
    for wallet, rule in big.items():
        by_spend = features[wallet]["spend_90d_wei"] >= 5 * ETHER
        assert rule == ("spend_90d_wei >= 5000000000000000000" if by_spend else "buys_90d >= 15")
    # tips are medians of doubles: compare away from the threshold's last bits
    tippers = set(members["top_tippers"])
    for wallet, f in features.items():
        if f["tip_percentile"] is not None and abs(f["tip_percentile"] - 0.9) > 1e-9:
            assert (wallet in tippers) == (f["tip_percentile"] > 0.9), wallet
    assert tippers <= {w for w, f in features.items() if f["tip_percentile"] is not None}


def test_rule_fields_agree_between_dbt_and_the_configuration(built: Built) -> None:
    columns = [name for name, *_ in _rows(built.db, "describe intermediate.int_wallet_features_as_of")]
    numeric = sorted(c for c in columns if c not in ("chain_id", "wallet", "as_of") and not c.endswith("_at"))
    assert numeric == RuleCohort.fields(built.config.marts.rfv_windows_days)


def _write_config(path: Path, cohorts: list[dict]) -> Path:
    path.write_text(yaml.safe_dump({"marts": {"rule_cohorts": cohorts}}))
    return path


@pytest.mark.parametrize(
    ("cohort", "problem"),
    [
        (
            {"name": "typo_field", "all_of": [{"field": "buys_7d", "op": ">", "value": 1}]},
            "unknown field 'buys_7d'",
        ),
        ({"name": "bad_op", "all_of": [{"field": "buys_30d", "op": "=>", "value": 1}]}, "bad operator '=>'"),
        ({"name": "no_value", "any_of": [{"field": "buys_30d", "op": ">"}]}, "compares with a number"),
        (
            {"name": "bad_collection", "all_of": [{"field": "holds_collection", "collection": "blue"}]},
            "collection",
        ),
        ({"name": "typo_key", "all_of": [{"field": "buys_30d", "op": ">", "valeu": 1}]}, "valeu"),
        ({"name": "empty"}, "no condition"),
    ],
)
def test_an_invalid_rule_fails_before_dbt_naming_the_rule(tmp_path: Path, cohort: dict, problem: str) -> None:
    with pytest.raises(UserError) as caught:
        load_config(_write_config(tmp_path / "chainseg.yml", [cohort]))
    message = str(caught.value)
    assert f"rule '{cohort['name']}'" in message and problem in message and "\n" not in message


def test_an_invalid_rule_fails_the_dbt_build_naming_the_rule(built: Built, tmp_path: Path) -> None:
    """What the file alone cannot show (a collection nobody traded), and what bypasses the validation of the
    file, the dbt macro rejects: at parse time with the rule in the one-line error, at run time in the
    failing model's message."""
    unknown = RuleCohort(
        name="ghost_holders",
        all_of=[{"field": "holds_collection", "collection": "0x" + "ab" * 20}],
    )
    copy = tmp_path / "invalid-rule.duckdb"
    shutil.copyfile(built.db, copy)
    marts = built.config.marts.model_copy(update={"rule_cohorts": [unknown]})
    config = built.config.model_copy(update={"warehouse": copy, "marts": marts})
    with pytest.raises(UserError) as caught:
        build(config, select="rule_segments", unit_tests=False)
    assert "model rule_segments" in str(caught.value) and "\n" not in str(caught.value)
    target, _ = dbt_paths(config)
    failed = [
        r for r in json.loads((target / "run_results.json").read_text())["results"] if r["status"] == "error"
    ]
    assert "rule_cohorts: rule 'ghost_holders':" in failed[0]["message"]
    assert "unknown collection 0x" + "ab" * 20 in failed[0]["message"]
    # unvalidated settings (model_copy does not validate): the macro's parse-time check names the rule
    typo = RuleCohort.model_construct(
        name="typo_op", description="", any_of=[],
        all_of=[RuleCondition.model_construct(field="buys_30d", op="=>", value=1, collection=None)],
    )  # fmt: skip
    config = config.model_copy(update={"marts": config.marts.model_copy(update={"rule_cohorts": [typo]})})
    with pytest.raises(UserError) as caught:
        build(config, select="rule_segments", unit_tests=False)
    message = str(caught.value)
    assert "rule 'typo_op': all_of condition 1: bad operator '=>'" in message and "\n" not in message


def test_ml_snapshots_use_only_events_before_their_cutoff(built: Built) -> None:
    columns = [
        "wallet", "cutoff_date", "last_activity_at", "last_buy_at", "days_since_last_activity",
        "days_since_last_buy", "active_days_total", "transactions_total", "gas_paid_total_wei", "buys_total",
        "buys_30d", "buys_90d", "spend_total_wei", "spend_90d_wei", "sells_total", "tokens_held",
        "median_priority_fee_gwei",
    ]  # fmt: skip
    rows = _rows(built.db, f"select {', '.join(columns)} from marts.ml_training_snapshots")
    snapshots: dict[date, dict[str, dict]] = defaultdict(dict)
    for row in rows:
        snapshots[row[1]][row[0]] = dict(zip(columns, row, strict=True))
    cutoffs = sorted(snapshots)
    every, count = built.config.marts.ml_snapshot_every_days, built.config.marts.ml_snapshot_count
    # a fixed calendar: every `every` days from Monday 1970-01-05, the newest at most as_of + 1 day
    newest = built.result.as_of + timedelta(days=1)
    newest -= timedelta(days=(newest - date(1970, 1, 5)).days % every)
    assert cutoffs == [newest - timedelta(days=every * k) for k in reversed(range(count))]
    rng = random.Random(7)
    sample = rng.sample(sorted(snapshots[cutoffs[-1]]), 40)
    on_cutoff_day = 0  # sampled (wallet, cutoff) pairs with an event on the cutoff's own day
    for cutoff in cutoffs:
        expected = _features_from_raw(built.raw, cutoff)
        assert set(snapshots[cutoff]) == set(expected)  # the population: an event before the cutoff
        for wallet in sample:
            if wallet not in expected:
                continue
            actual, wanted = snapshots[cutoff][wallet], expected[wallet]
            for name in columns[2:-1]:
                value = actual[name]
                assert (int(value) if name.endswith("_wei") else value) == wanted[name], (
                    wallet,
                    cutoff,
                    name,
                )
            tip = wanted["median_tip_gwei"]
            assert (actual["median_priority_fee_gwei"] is None) == (tip is None)
            if tip is not None:
                assert actual["median_priority_fee_gwei"] == pytest.approx(tip, rel=1e-12)
            start = datetime(cutoff.year, cutoff.month, cutoff.day)
            on_cutoff_day += any(start <= t < start + timedelta(days=1) for t in built.raw.events[wallet])
    assert on_cutoff_day > 0  # events at or after a cutoff existed and were left out

"""File imports into real DuckDB files: ethereum-etl JSON lines and CSV (mainnet golden exports), cryo
parquet (made from a seeded anvil node, checked against what the node said), Dune-shaped NFT trades; exact
values, idempotence, and rejections that name file, line and column and leave the warehouse untouched."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from chainseg.errors import UserError
from extract.importers import ImportResult, import_files
from extract.schema import KEYS, RAW_TABLES
from extract.warehouse import connect

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
ETL_JSONL = FIXTURES / "ethereum_etl_jsonl"
ETL_CSV = FIXTURES / "ethereum_etl_csv"
CRYO = FIXTURES / "cryo"
DUNE = FIXTURES / "dune_trades"
JSONL_FILES = [
    ETL_JSONL / f"expected_{name}.json" for name in ("blocks", "transactions", "logs", "token_transfers")
]


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and a hash of every row of every raw table but raw.rewrites (each import adds to it)."""
    return {
        table: con.execute(
            f"select count(*), md5(coalesce(string_agg(t::varchar, chr(10) order by t::varchar), '')) "
            f"from raw.{table} t"
        ).fetchone()
        for table in RAW_TABLES
        if table != "rewrites"
    }


def assert_keys_unique(con: duckdb.DuckDBPyConnection) -> None:
    for table, key in KEYS.items():
        cols = ", ".join(key)
        dupes = con.execute(
            f"select count(*) from (select {cols} from raw.{table} group by all having count(*) > 1)"
        )
        assert dupes.fetchone()[0] == 0, table


@pytest.fixture
def con(tmp_path: Path):
    connection = connect(tmp_path / "warehouse.duckdb")
    yield connection
    connection.close()


# ---------------------------------------------------------------------------------------- ethereum-etl


def test_ethereum_etl_jsonl_two_mainnet_blocks(con: duckdb.DuckDBPyConnection) -> None:
    result = import_files(con, 1, JSONL_FILES, "ethereum-etl")
    assert result == ImportResult(
        {"blocks": 2, "transactions": 298, "logs": 681, "token_transfers": 292, "nft_sales": 0}
    )

    blocks = jsonl(ETL_JSONL / "expected_blocks.json")
    stored = con.execute(
        "select block_number, block_hash, parent_hash, base_fee_per_gas, epoch(timestamp)::bigint, "
        "transaction_count, miner, gas_used from raw.blocks where chain_id = 1 order by 1"
    ).fetchall()
    assert stored == [
        (
            b["number"],
            b["hash"],
            b["parent_hash"],
            b["base_fee_per_gas"],
            b["timestamp"],
            b["transaction_count"],
            b["miner"],
            b["gas_used"],
        )
        for b in blocks
    ]

    txs = {
        row[0]: row[1:]
        for row in con.execute(
            "select transaction_hash, value, gas_used, effective_gas_price, success, from_address, "
            "to_address, nonce, gas_price, max_priority_fee_per_gas, transaction_type, block_hash, "
            "epoch(block_timestamp) from raw.transactions"
        ).fetchall()
    }
    file_txs = jsonl(ETL_JSONL / "expected_transactions.json")
    assert len(txs) == len(file_txs) == 298
    for tx in file_txs:
        assert txs[tx["hash"]] == (
            tx["value"],
            tx["receipt_gas_used"],
            tx["receipt_effective_gas_price"],
            tx["receipt_status"] == 1,
            tx["from_address"],
            tx["to_address"],
            tx["nonce"],
            tx["gas_price"],
            tx["max_priority_fee_per_gas"],
            tx["transaction_type"],
            tx["block_hash"],
            tx["block_timestamp"],
        ), tx["hash"]
    assert max(v[0] for v in txs.values()) > 2**64  # values past BIGINT stay exact (HUGEINT)

    logs = {
        (row[0], row[1]): row[2:]
        for row in con.execute(
            "select block_number, log_index, transaction_hash, address, data, "
            "[t for t in [topic0, topic1, topic2, topic3] if t is not null] from raw.logs"
        ).fetchall()
    }
    file_logs = jsonl(ETL_JSONL / "expected_logs.json")
    assert len(logs) == len(file_logs) == 681
    for log in file_logs:
        key = (log["block_number"], log["log_index"])
        assert logs[key] == (log["transaction_hash"], log["address"], log["data"], log["topics"]), key

    standards = dict(
        con.execute("select token_standard, count(*) from raw.token_transfers group by 1").fetchall()
    )
    assert standards == {"erc20": 282, "erc721": 9, "erc1155": 1}
    assert con.execute(
        "select count(*) from raw.token_transfers where token_standard = 'erc721' and amount = '1' "
        "and token_id is not null"
    ).fetchone() == (9,)
    single = con.execute(
        "select transaction_hash, log_index, contract_address, operator_address, from_address, to_address, "
        "token_id, amount from raw.token_transfers where token_standard = 'erc1155'"
    ).fetchall()
    assert single == [
        (
            "0x038d6b45ca812f889227b950d34704aeb14564cc5a88a22c26ce7e7c6f2828ab",
            336,
            "0x977e43ab3eb8c0aece1230ba187740342865ee78",
            "0x17c72771bb6b283bade0c07e0901744c37ff8c41",
            "0x" + "00" * 20,
            "0x17c72771bb6b283bade0c07e0901744c37ff8c41",
            "0",
            "1",
        )
    ]
    ours = set(
        con.execute(
            "select transaction_hash, log_index, contract_address, from_address, to_address, "
            "case token_standard when 'erc721' then token_id else amount end from raw.token_transfers "
            "where token_standard in ('erc20', 'erc721')"
        ).fetchall()
    )
    theirs = {
        (
            t["transaction_hash"],
            t["log_index"],
            t["token_address"],
            t["from_address"],
            t["to_address"],
            str(t["value"]),
        )
        for t in jsonl(ETL_JSONL / "expected_token_transfers.json")
    }
    assert len(theirs) == 291
    assert ours == theirs
    assert_keys_unique(con)

    before = snapshot(con)
    assert import_files(con, 1, JSONL_FILES, "ethereum-etl") == result
    assert snapshot(con) == before  # idempotent
    # Each import logs the earliest block it wrote, so the next dbt build rebuilds from its day.
    first_block, first_time = con.execute(
        "select min(block_number), min(timestamp) from raw.blocks"
    ).fetchone()
    assert (
        con.execute("select reason, first_block, first_timestamp from raw.rewrites").fetchall()
        == [("import", first_block, first_time)] * 2
    )


def test_uint256_above_2_128_stays_exact(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """A crafted ERC-20 Transfer of 2^255 + 12345 (no such value in the sample): the log and ethereum-etl's
    token transfer row both carry it; the stored amount is exact text."""
    huge = 2**255 + 12345
    folder = tmp_path / "crafted"
    folder.mkdir()
    for path in JSONL_FILES:
        shutil.copy(path, folder / path.name)
    logs = jsonl(folder / "expected_logs.json")
    transfers = jsonl(folder / "expected_token_transfers.json")
    assert logs[0]["log_index"] == transfers[0]["log_index"] == 0 and len(logs[0]["topics"]) == 3
    logs[0]["data"] = "0x" + f"{huge:064x}"
    transfers[0]["value"] = huge
    (folder / "expected_logs.json").write_text("".join(json.dumps(r) + "\n" for r in logs))
    (folder / "expected_token_transfers.json").write_text("".join(json.dumps(r) + "\n" for r in transfers))

    import_files(con, 1, [folder / p.name for p in JSONL_FILES], "ethereum-etl")
    amount, amount_double = con.execute(
        "select amount, amount_double from raw.token_transfers where transaction_hash = ? and log_index = 0",
        [logs[0]["transaction_hash"]],
    ).fetchone()
    assert amount == str(huge) and int(amount) > 2**128
    assert amount_double == float(huge)


def test_ethereum_etl_csv_exports(con: duckdb.DuckDBPyConnection) -> None:
    # A block between the two exports (47218-47219 and 483920) survives: each file replaces its own range.
    con.execute(
        "insert into raw.blocks (chain_id, block_number, block_hash, parent_hash, timestamp, "
        "transaction_count) values (1, 100000, '0x' || repeat('1', 64), '0x' || repeat('2', 64), "
        "timestamp '2015-09-07', 0)"
    )
    files = sorted(ETL_CSV.rglob("*.csv"))
    result = import_files(con, 1, files, "ethereum-etl")
    assert result.tables == {"blocks": 3, "transactions": 8, "logs": 2, "token_transfers": 2, "nft_sales": 0}

    assert con.execute(
        "select block_number, base_fee_per_gas, transaction_count from raw.blocks order by 1"
    ).fetchall() == [(47218, None, 2), (47219, None, 2), (100000, None, 0), (483920, None, 4)]
    # Transactions of 47218: no receipts given, so receipt fields stay null; effective price = gas price.
    assert con.execute(
        "select value, gas_used, effective_gas_price, gas_price, success, transaction_type "
        "from raw.transactions "
        "where transaction_hash = '0x99f1097abd8f33a68f0ed63d60de5f3e7e2a3e0579b90d5f46a4f201c658b46d'"
    ).fetchone() == (110000000000000000000, None, 62227241854, 62227241854, None, 0)
    # Block 483920: receipts joined by hash; pre-Byzantium receipts have no status (null, not failure).
    joined = con.execute(
        "select transaction_hash, gas_used, cumulative_gas_used, effective_gas_price, success "
        "from raw.transactions "
        "where block_number = 483920 order by transaction_index"
    ).fetchall()
    assert [row[1:3] for row in joined] == [(50853, 50853), (50853, 101706), (21000, 122706), (21000, 143706)]
    assert {row[3] for row in joined} == {50000000000} and {row[4] for row in joined} == {None}
    assert con.execute(
        "select log_index, topic0, topic1, topic2, topic3 from raw.logs order by log_index limit 1"
    ).fetchone() == (
        0,
        "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
        "0x0000000000000000000000001b63142628311395ceafeea5667e7c9026c862ca",
        "0x000000000000000000000000ac4df82fe37ea2187bc8c011a23d743b4f39019a",
        None,
    )
    # Decoded from the logs and cross-checked against the token_transfers CSV.
    assert con.execute(
        "select token_standard, from_address, amount, epoch(block_timestamp) "
        "from raw.token_transfers order by 2"
    ).fetchall() == [
        ("erc20", "0x1b63142628311395ceafeea5667e7c9026c862ca", "100000", 1446561880),
        ("erc20", "0x9b22a80d5c7b3374a05b446081f97d0a34079e7f", "200000", 1446561880),
    ]
    assert_keys_unique(con)


def test_token_transfers_without_logs_are_erc20_or_erc721(con: duckdb.DuckDBPyConnection) -> None:
    transfers = ETL_CSV / "block_with_transfers" / "expected_token_transfers.csv"
    with pytest.raises(
        UserError,
        match=r"expected_token_transfers\.csv, line 2, column 'block_number': "
        r"block 483920 gives no timestamp",
    ):
        import_files(con, 1, [transfers], "ethereum-etl")  # no timestamp anywhere for block 483920

    import_files(con, 1, [ETL_CSV / "block_with_logs" / "expected_blocks.csv"], "ethereum-etl")
    assert import_files(con, 1, [transfers], "ethereum-etl").tables == {"token_transfers": 2}
    assert con.execute(
        "select token_standard, token_id, amount, batch_index, epoch(block_timestamp) "
        "from raw.token_transfers "
        "order by amount"
    ).fetchall() == [
        ("erc20_or_erc721", None, "100000", 0, 1446561880),
        ("erc20_or_erc721", None, "200000", 0, 1446561880),
    ]


# ---------------------------------------------------------------------------------------- cryo


def test_cryo_parquet_equals_the_node(con: duckdb.DuckDBPyConnection) -> None:
    node = json.loads((CRYO / "expected_from_node.json").read_text())
    files = sorted(CRYO.glob("*.parquet"))
    result = import_files(con, node["chain_id"], files, "cryo")
    assert result.tables == {
        "blocks": 50,
        "transactions": 133,
        "logs": 184,
        "token_transfers": 101,
        "nft_sales": 25,
    }
    assert (len(node["blocks"]), len(node["transactions"]), len(node["logs"])) == (50, 133, 184)

    blocks = {
        row[0]: row[1:]
        for row in con.execute(
            "select block_number, block_hash, parent_hash, epoch(timestamp)::bigint, base_fee_per_gas, "
            "gas_used, "
            "transaction_count from raw.blocks"
        ).fetchall()
    }
    for b in node["blocks"]:
        assert blocks[b["number"]] == (
            b["hash"],
            b["parent_hash"],
            b["timestamp"],
            b["base_fee_per_gas"],
            b["gas_used"],
            b["transaction_count"],
        )
    txs = {
        row[0]: row[1:]
        for row in con.execute(
            "select transaction_hash, block_number, from_address, to_address, value, nonce, gas_used, "
            "gas_price, "
            "effective_gas_price, success, block_hash from raw.transactions"
        ).fetchall()
    }
    block_hash = {b["number"]: b["hash"] for b in node["blocks"]}
    for tx in node["transactions"]:
        assert txs[tx["hash"]] == (
            tx["block_number"],
            tx["from"],
            tx["to"],
            int(tx["value"]),
            tx["nonce"],
            tx["gas_used"],
            int(tx["gas_price"]),
            int(tx["effective_gas_price"]),
            tx["status"] == 1,
            block_hash[tx["block_number"]],
        )
    logs = {
        (row[0], row[1]): row[2:]
        for row in con.execute(
            "select block_number, log_index, transaction_hash, address, data, "
            "[t for t in [topic0, topic1, topic2, topic3] if t is not null] from raw.logs"
        ).fetchall()
    }
    for log in node["logs"]:
        key = (log["block_number"], log["log_index"])
        assert logs[key] == (log["transaction_hash"], log["address"], log["data"], log["topics"]), key

    assert dict(
        con.execute("select token_standard, count(*) from raw.token_transfers group by 1").fetchall()
    ) == {"erc20": 39, "erc721": 22, "erc1155": 40}
    assert con.execute(
        "select count(*), count(distinct currency_address), bool_and(source = 'rpc') from raw.nft_sales"
    ).fetchone() == (25, 2, True)
    assert_keys_unique(con)

    before = snapshot(con)
    import_files(con, node["chain_id"], files, "cryo")
    assert snapshot(con) == before

    with pytest.raises(
        UserError,
        match=r"network_31337__blocks__00000180_to_00000204\.parquet, row 1, column "
        r"'chain_id': is 31337 but the import is for chain 1",
    ):
        import_files(con, 1, files, "cryo")
    with pytest.raises(UserError, match=r"no transactions file covering it"):
        import_files(con, node["chain_id"], [f for f in files if "__transactions__" not in f.name], "cryo")
    assert snapshot(con) == before


# ---------------------------------------------------------------------------------------- dune trades


def test_dune_trades_exact_wei(con: duckdb.DuckDBPyConnection) -> None:
    files = [DUNE / "nft_trades.csv", DUNE / "nft_trades_raw.jsonl"]
    assert import_files(con, 1, files, "dune-trades").tables == {"nft_sales": 7}
    rows = con.execute(
        "select block_number, log_index, strftime(block_timestamp, '%Y-%m-%d %H:%M:%S'), token_id, "
        "amount, price, "
        "fee, royalty, currency_symbol, currency_address, price_double, source from raw.nft_sales "
        "order by block_number, log_index"
    ).fetchall()
    weth = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
    eth = "0x" + "00" * 20
    assert [row[:10] for row in rows] == [
        (
            17173049,
            101,
            "2023-05-02 12:19:59",
            "1234",
            "1",
            "123456789012345678",
            "3086419725308641",
            "6172839450617283",
            "ETH",
            eth,
        ),
        (
            17173049,
            104,
            "2023-05-02 12:19:59",
            "1235",
            "1",
            "1500000000000000000",
            "37500000000000000",
            None,
            "ETH",
            eth,
        ),
        (
            17173050,
            7,
            "2023-05-02 12:20:11",
            str(2**255 + 987654321),
            "1",
            "2250000000000000000",
            "0",
            "112500000000000000",
            "WETH",
            weth,
        ),
        (
            17173050,
            12,
            "2023-05-02 12:20:11",
            "7",
            "3",
            "300000000000000000",
            "7500000000000000",
            "15000000000000000",
            "WETH",
            weth,
        ),
        # No evt_index in the JSON lines file: numbered 0, 1, 2 within the block, in file order.
        (
            17178901,
            0,
            "2023-05-03 08:00:11",
            "42",
            "1",
            "700000000000000000",
            "3500000000000000",
            "35000000000000000",
            "ETH",
            eth,
        ),
        (
            17178901,
            1,
            "2023-05-03 08:00:11",
            "8",
            "2",
            "1250500000",
            "6252500",
            None,
            "USDC",
            "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
        ),
        (
            17178901,
            2,
            "2023-05-03 08:00:11",
            "43",
            "1",
            "300000000000000040",
            "1500000000000000",
            "0",
            "WETH",
            weth,
        ),
    ]
    assert all(row[10] == float(row[5]) and row[11] == "dune" for row in rows)
    assert con.execute("select count(*) from raw.blocks").fetchone() == (0,)  # trades create no blocks
    # A sale decoded from logs (source 'rpc') in the same blocks is not the Dune import's to replace.
    con.execute(
        "insert into raw.nft_sales (chain_id, block_number, block_timestamp, transaction_hash, log_index, "
        "collection_address, token_id, amount, seller_address, buyer_address, price, price_double, source) "
        "select chain_id, block_number, block_timestamp, transaction_hash, log_index, collection_address, "
        "token_id, amount, seller_address, buyer_address, price, price_double, 'rpc' from raw.nft_sales "
        "where log_index = 101"
    )

    before = snapshot(con)
    import_files(con, 1, files, "dune-trades")
    assert snapshot(con) == before
    assert con.execute("select source, count(*) from raw.nft_sales group by 1 order by 1").fetchall() == [
        ("dune", 7),
        ("rpc", 1),
    ]


def test_dune_trades_token_standard(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """The standard a trades table declares is kept (lowercased): the holding periods of a collection
    known from trades only need it. A file without the column stores NULL."""
    rows = jsonl(DUNE / "nft_trades_raw.jsonl")
    for row, standard in zip(rows, ["erc721", " ERC1155", ""], strict=True):
        row["token_standard"] = standard
    declared = tmp_path / "declared.jsonl"
    declared.write_text("".join(json.dumps(r) + "\n" for r in rows))
    import_files(con, 1, [DUNE / "nft_trades.csv", declared], "dune-trades")
    stored = con.execute(
        "select block_number, token_id, token_standard from raw.nft_sales order by block_number, log_index"
    ).fetchall()
    assert [standard for number, _, standard in stored if number == 17178901] == ["erc721", "erc1155", None]
    assert all(standard is None for number, _, standard in stored if number != 17178901)


def test_a_warehouse_made_before_token_standard_gains_it(tmp_path: Path) -> None:
    """A raw.nft_sales created without the later column gets it (NULL for the rows it holds) the first
    time the warehouse is opened for writing, and imports then fill it."""
    path = tmp_path / "older.duckdb"
    with duckdb.connect(str(path)) as older:
        body = RAW_TABLES["nft_sales"].replace(",\n        token_standard       varchar", "")
        assert "token_standard" not in body
        older.execute("create schema raw")
        older.execute(f"create table raw.nft_sales ({body})")
        older.execute(
            "insert into raw.nft_sales (chain_id, block_number, block_timestamp, transaction_hash, "
            "log_index, collection_address, token_id, amount, seller_address, buyer_address, price, "
            "price_double, source) values (1, 1, '2023-01-01', '0x01', 0, '0xc', '1', '1', '0xa', '0xb', "
            "'5', 5, 'dune')"
        )
    con = connect(path)
    try:
        assert con.execute("select token_standard from raw.nft_sales").fetchall() == [(None,)]
        rows = jsonl(DUNE / "nft_trades_raw.jsonl")
        rows[0]["token_standard"] = "erc721"
        declared = tmp_path / "declared.jsonl"
        declared.write_text("".join(json.dumps(r) + "\n" for r in rows))
        import_files(con, 1, [declared], "dune-trades")
        assert con.execute("select count(token_standard), count(*) from raw.nft_sales").fetchone() == (1, 4)
    finally:
        con.close()


def test_dune_trades_rejections(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    import_files(con, 1, [DUNE / "nft_trades.csv"], "dune-trades")
    before = snapshot(con)

    usdc = tmp_path / "usdc.jsonl"
    rows = jsonl(DUNE / "nft_trades_raw.jsonl")
    rows[1]["amount_raw"] = None
    usdc.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(
        UserError, match=r"usdc\.jsonl, line 2, column 'amount_original': the trade is in 'USDC'"
    ):
        import_files(con, 1, [DUNE / "nft_trades.csv", usdc], "dune-trades")

    lines = (DUNE / "nft_trades.csv").read_text().splitlines()
    lines[2] = lines[2].replace(",1.5,", ",1.0000000000000000001,")  # 19 decimals: not whole wei
    sub_wei = tmp_path / "sub_wei.csv"
    sub_wei.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        UserError, match=r"sub_wei\.csv, line 3, column 'amount_original': .*not a whole number"
    ):
        import_files(con, 1, [sub_wei], "dune-trades")

    punks = tmp_path / "punks.jsonl"
    rows = jsonl(DUNE / "nft_trades_raw.jsonl")
    rows[2]["token_standard"] = "cryptopunks"
    punks.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(
        UserError, match=r"punks\.jsonl, line 3, column 'token_standard': token standard 'cryptopunks' is"
    ):
        import_files(con, 1, [punks], "dune-trades")

    polygon = tmp_path / "polygon.csv"
    polygon.write_text((DUNE / "nft_trades.csv").read_text().replace("ethereum,", "polygon,"))
    with pytest.raises(UserError, match=r"polygon\.csv, line 2, column 'blockchain': 'polygon' is chain 137"):
        import_files(con, 1, [polygon], "dune-trades")
    assert snapshot(con) == before


# ---------------------------------------------------------------------------------------- rejections


def _copy_jsonl_with(tmp_path: Path, name: str, line: int, column: str, value: object) -> list[Path]:
    folder = tmp_path / "edited"
    folder.mkdir(exist_ok=True)
    for path in JSONL_FILES:
        shutil.copy(path, folder / path.name)
    target = folder / name
    records = target.read_text().splitlines()
    record = json.loads(records[line - 1])
    record[column] = value
    records[line - 1] = json.dumps(record)
    target.write_text("\n".join(records) + "\n")
    return [folder / p.name for p in JSONL_FILES]


@pytest.mark.parametrize(
    ("name", "line", "column", "value", "problem"),
    [
        ("expected_transactions.json", 150, "value", -5, "is negative"),
        ("expected_transactions.json", 151, "value", 1.5, "not a whole number"),
        ("expected_transactions.json", 200, "to_address", "0x1234", "not an address"),
        ("expected_logs.json", 400, "data", "0xzz", "not 0x-hex"),
        ("expected_logs.json", 401, "block_number", "17173049.5", "not a whole number"),
        ("expected_blocks.json", 2, "hash", "0xabc", "not a 32-byte hash"),
        ("expected_token_transfers.json", 100, "to_address", "0x" + "ab" * 20, "the log decodes to"),
    ],
)
def test_a_bad_row_in_the_middle_rejects_the_whole_import(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    name: str,
    line: int,
    column: str,
    value: object,
    problem: str,
) -> None:
    import_files(con, 31337, sorted(CRYO.glob("*.parquet")), "cryo")  # something to keep intact
    import_files(con, 1, [DUNE / "nft_trades.csv"], "dune-trades")
    before = snapshot(con)
    files = _copy_jsonl_with(tmp_path, name, line, column, value)
    with pytest.raises(UserError) as caught:
        import_files(con, 1, files, "ethereum-etl")
    message = str(caught.value)
    assert f"{name}, line {line}, column '{column}'" in message, message
    assert problem in message and "nothing was loaded" in message and "\n" not in message
    assert snapshot(con) == before

    import_files(con, 1, JSONL_FILES, "ethereum-etl")  # the valid files load, and twice gives the same rows
    after = snapshot(con)
    import_files(con, 1, JSONL_FILES, "ethereum-etl")
    assert snapshot(con) == after and after["transactions"][0] == before["transactions"][0] + 298


def test_missing_column_and_other_file_level_rejections(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    import_files(con, 1, JSONL_FILES, "ethereum-etl")
    before = snapshot(con)

    source = ETL_CSV / "blocks_with_transactions" / "expected_transactions.csv"
    lines = source.read_text().splitlines()
    header = lines[0].split(",")
    position = header.index("value")
    no_value = tmp_path / "transactions_without_value.csv"
    no_value.write_text(
        "\n".join(",".join(f for i, f in enumerate(line.split(",")) if i != position) for line in lines)
        + "\n"
    )
    blocks = ETL_CSV / "blocks_with_transactions" / "expected_blocks.csv"
    with pytest.raises(
        UserError,
        match=r"transactions_without_value\.csv, line 1, column 'value': this "
        r"ethereum-etl transactions file has no column 'value'",
    ):
        import_files(con, 1, [blocks, no_value], "ethereum-etl")

    short = tmp_path / "short_row.csv"
    short.write_text("\n".join([*lines[:3], lines[3].rsplit(",", 2)[0], *lines[4:]]) + "\n")
    with pytest.raises(UserError, match=r"short_row\.csv, line 4: 13 fields where the header has 15"):
        import_files(con, 1, [blocks, short], "ethereum-etl")

    with pytest.raises(
        UserError,
        match=r"transaction_count'?: block 47218 says 2 transactions but the "
        r"transactions files hold 1",
    ):
        partial = tmp_path / "partial.csv"
        partial.write_text("\n".join([lines[0], *lines[2:]]) + "\n")
        import_files(con, 1, [blocks, partial], "ethereum-etl")

    again = tmp_path / "blocks_again.json"
    shutil.copy(ETL_JSONL / "expected_blocks.json", again)
    with pytest.raises(UserError, match=r"blocks_again\.json, line 1: block 17173049 appears twice"):
        import_files(con, 1, [*JSONL_FILES, again], "ethereum-etl")
    with pytest.raises(UserError, match=r"unknown import kind"):
        import_files(con, 1, JSONL_FILES, "etherscan")
    # A header of no ethereum-etl export is the wrong file even without rows; an empty JSON file (what
    # ethereum-etl writes for a range without rows) is no rows.
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    with pytest.raises(UserError, match=r"notes\.txt, line 1: cannot tell which ethereum-etl export this is"):
        import_files(con, 1, [notes], "ethereum-etl")
    (tmp_path / "logs_00000000_00000099.json").write_text("")
    assert import_files(con, 1, [tmp_path / "logs_00000000_00000099.json"], "ethereum-etl").tables == {}
    assert snapshot(con) == before


def test_import_command_says_when_the_models_need_a_full_refresh(tmp_path: Path) -> None:
    """Incremental builds recompute only their last days: after importing into a warehouse whose models
    were built, the command says a full refresh brings the imported rows in; before any build it does not."""
    warehouse = tmp_path / "warehouse.duckdb"
    config = tmp_path / "chainseg.yml"
    config.write_text(
        f"state_dir: {tmp_path / 'state'}\nwarehouse: {warehouse}\n"
        "chains:\n  ethereum:\n    chain_id: 1\ndefault_chain: ethereum\n"
    )
    command = [str(Path(sys.executable).with_name("chainseg")), "--config", str(config), "import"]
    first = subprocess.run(
        [*command, "dune-trades", str(DUNE / "nft_trades.csv")], capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    assert "imported dune-trades" in first.stdout and "--full-refresh" not in first.stdout
    header_only = tmp_path / "no_trades.csv"
    header_only.write_text((DUNE / "nft_trades.csv").read_text().splitlines()[0] + "\n")
    nothing = subprocess.run([*command, "dune-trades", str(header_only)], capture_output=True, text=True)
    assert nothing.returncode == 0, nothing.stderr
    assert nothing.stdout.startswith(
        "imported dune-trades into chain ethereum (id 1): no rows (the files hold none)"
    )
    with duckdb.connect(str(warehouse)) as db:  # what `chainseg build` leaves: the marts, through a day
        db.execute("create schema marts")
        db.execute("create table marts.wallet_activity_daily as select date '2026-01-31' as day")
    again = subprocess.run(
        [*command, "dune-trades", str(DUNE / "nft_trades.csv")], capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    assert "built through 2026-01-31" in again.stdout
    assert re.search(r"the next `chainseg build` rebuilds them from \d{4}-\d{2}-\d{2}", again.stdout)


def test_a_folder_stands_for_the_data_files_of_its_subfolders(tmp_path: Path) -> None:
    """ethereum-etl's export_all nests each range's files in folders: the fixture's export folder, whose
    files sit one level down, imports as its files listed one by one do; a hidden file (an editor's or a
    partial download) is left out."""
    listed = connect(tmp_path / "listed.duckdb")
    nested = connect(tmp_path / "nested.duckdb")
    export = tmp_path / "export"
    shutil.copytree(ETL_CSV, export)
    (export / "blocks_with_transactions" / ".partial.csv").write_text("not,an,export\n")
    try:
        files = sorted(ETL_CSV.rglob("*.csv"))
        assert all(path.parent != ETL_CSV for path in files)  # the fixture is nested
        by_file = import_files(listed, 1, files, "ethereum-etl")
        by_folder = import_files(nested, 1, [export], "ethereum-etl")
        assert by_folder.tables == by_file.tables and by_file.tables["transactions"] > 0
        assert snapshot(nested) == snapshot(listed)
    finally:
        listed.close()
        nested.close()


def test_a_warehouse_another_process_holds_is_one_line(tmp_path: Path) -> None:
    """DuckDB lets one process write a file: importing into a warehouse an analyst's session holds says so
    in one line (exit 2), not a traceback."""
    warehouse = tmp_path / "warehouse.duckdb"
    connect(warehouse).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); "
         "print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        chainseg = str(Path(sys.executable).with_name("chainseg"))
        done = subprocess.run(
            [chainseg, "--warehouse", str(warehouse), "import", "dune-trades", str(DUNE / "nft_trades.csv")],
            capture_output=True, text=True,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert (
        f"cannot open the warehouse {warehouse}" in done.stderr and "stop the process using it" in done.stderr
    )


def test_export_all_folder_with_contracts_and_tokens(tmp_path: Path) -> None:
    """An ethereum-etl `export_all` folder also holds contracts and tokens exports. The contracts file says
    which addresses hold code: they become contracts in raw.addresses (no node needed), not unchecked
    addresses; one an earlier import left unchecked is resolved, and its first block logged as a rewrite
    (the builds since counted it as a wallet). The tokens file is recognised and skipped."""
    contract = (
        "0xa0e74ae010d51894734c308d612131056bb721ad"  # the recipient of block 47218's first transaction
    )
    export = tmp_path / "export"
    shutil.copytree(ETL_CSV, export)
    (export / "contracts").mkdir()
    (export / "contracts" / "contracts_00047000_00047999.csv").write_text(
        f"address,bytecode,function_sighashes,is_erc20,is_erc721,block_number\n{contract},0x6060,,False,False,47000\n"
    )
    (export / "tokens").mkdir()
    (export / "tokens" / "tokens_00047000_00047999.csv").write_text(
        f"address,symbol,name,decimals,total_supply,block_number\n{contract},TKN,Token,18,1000,47000\n"
    )
    with connect(tmp_path / "earlier.duckdb") as con:  # the same blocks imported before, without contracts
        import_files(con, 1, sorted(ETL_CSV.rglob("*.csv")), "ethereum-etl")
        assert con.execute(
            "select first_block from raw.addresses_unchecked where address = ?", [contract]
        ).fetchall() == [(47218,)]
        before = con.execute("select count(*) from raw.rewrites").fetchall()[0][0]
        result = import_files(con, 1, [export], "ethereum-etl")
        assert result.tables["addresses"] == 1
        assert [path.name for path in result.skipped] == ["tokens_00047000_00047999.csv"]
        assert con.execute(
            "select has_code, checked_at_block from raw.addresses where address = ?", [contract]
        ).fetchall() == [(True, 47000)]
        assert con.execute(
            "select count(*) from raw.addresses_unchecked where address = ?", [contract]
        ).fetchall() == [(0,)]
        logged = con.execute(
            "select reason, first_block from raw.rewrites where rewrite_id > ? order by rewrite_id", [before]
        ).fetchall()
        assert ("addresses", 47218) in logged
        others = con.execute("select count(*) from raw.addresses_unchecked").fetchall()[0][0]
        assert others > 0  # the other addresses still wait for a node
        again = snapshot(con)
        import_files(con, 1, [export], "ethereum-etl")  # idempotent
        assert snapshot(con) == again

"""Replay recorded mainnet JSON-RPC answers through normalization and the warehouse writer.

The rows that land in a real DuckDB file must equal ethereum-etl's expected outputs for the same blocks
(tests/fixtures/replay, see its SOURCE.txt).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pytest

from extract.normalize import ChunkTables, MalformedChunk, normalize_chunk
from extract.rpc_types import Block, Receipt
from extract.warehouse import connect, write_chunk

FIXTURES = Path(__file__).parent / "fixtures" / "replay"
CHAIN_ID = 1


def rpc_result(path: Path) -> Any:
    return json.loads(path.read_text())["result"]


def expected_csv(path: Path) -> list[dict[str, str]]:
    with open(path) as handle:
        return list(csv.DictReader(handle))


def expected_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def normalize(blocks: list[dict], receipts: list[list[dict]]) -> ChunkTables:
    """normalize_chunk on recorded answers, decoded into the shapes the RPC client gives it."""
    return normalize_chunk(
        msgspec.convert(blocks, list[Block]), msgspec.convert(receipts, list[list[Receipt]])
    )


def load(tmp_path: Path, blocks: list[dict], receipts: list[list[dict]]) -> duckdb.DuckDBPyConnection:
    con = connect(tmp_path / "replay.duckdb")
    tables = normalize(blocks, receipts)
    numbers = [int(b["number"], 16) for b in blocks]
    write_chunk(con, CHAIN_ID, min(numbers), max(numbers), tables, {})
    return con


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _int(value: str | int | None) -> int | None:
    return None if value in ("", None) else int(value)


def _blocks_match(con: duckdb.DuckDBPyConnection, expected: list[dict[str, Any]]) -> None:
    got = {
        r["block_number"]: r for r in rows(con, "select *, epoch(timestamp)::bigint as ts from raw.blocks")
    }
    assert sorted(got) == sorted(int(e["number"]) for e in expected)
    for e in expected:
        g = got[int(e["number"])]
        assert (g["block_hash"], g["parent_hash"], g["miner"]) == (e["hash"], e["parent_hash"], e["miner"])
        assert (g["gas_limit"], g["gas_used"], g["ts"]) == (
            _int(e["gas_limit"]),
            _int(e["gas_used"]),
            _int(e["timestamp"]),
        )
        assert (g["transaction_count"], g["size"]) == (_int(e["transaction_count"]), _int(e["size"]))
        assert g["base_fee_per_gas"] == _int(e.get("base_fee_per_gas"))
        assert g["extra_data"] == e["extra_data"]


def _transactions_match(con: duckdb.DuckDBPyConnection, expected: list[dict[str, Any]]) -> None:
    got = {
        r["transaction_hash"]: r
        for r in rows(con, "select *, epoch(block_timestamp)::bigint as ts from raw.transactions")
    }
    assert sorted(got) == sorted(e["hash"] for e in expected)
    for e in expected:
        g = got[e["hash"]]
        assert g["chain_id"] == CHAIN_ID
        assert (g["block_number"], g["block_hash"], g["transaction_index"]) == (
            _int(e["block_number"]), e["block_hash"], _int(e["transaction_index"]))  # fmt: skip
        assert (g["from_address"], g["to_address"] or "") == (e["from_address"], e["to_address"] or "")
        assert (g["value"], g["nonce"], g["gas_limit"], g["gas_price"]) == (
            _int(e["value"]), _int(e["nonce"]), _int(e["gas"]), _int(e["gas_price"]))  # fmt: skip
        assert (g["input"], g["ts"], g["transaction_type"]) == (
            e["input"],
            _int(e["block_timestamp"]),
            _int(e["transaction_type"]) or 0,
        )
        assert g["max_fee_per_gas"] == _int(e.get("max_fee_per_gas"))
        assert g["max_priority_fee_per_gas"] == _int(e.get("max_priority_fee_per_gas"))


def test_block_483920_with_block_receipts_equals_ethereum_etl(tmp_path: Path) -> None:
    folder = FIXTURES / "block_483920"
    block = rpc_result(folder / "web3_response.eth_getBlockByNumber_0x76250_true.json")
    receipts = rpc_result(folder / "web3_response.eth_getBlockReceipts_483920.json")
    con = load(tmp_path, [block], [receipts])
    _blocks_match(con, expected_csv(folder / "expected_blocks.csv"))
    _transactions_match(con, expected_csv(folder / "expected_transactions.csv"))

    got = {r["transaction_hash"]: r for r in rows(con, "select * from raw.transactions")}
    for e in expected_csv(folder / "expected_receipts.csv"):
        g = got[e["transaction_hash"]]
        assert (g["gas_used"], g["cumulative_gas_used"]) == (
            _int(e["gas_used"]),
            _int(e["cumulative_gas_used"]),
        )
        assert g["effective_gas_price"] == _int(e["effective_gas_price"])
        assert (g["contract_address"] or "") == e["contract_address"]
        assert g["success"] == (None if e["status"] == "" else e["status"] == "1")

    logs = rows(con, "select * from raw.logs order by log_index")
    expected_logs = expected_csv(folder / "expected_logs.csv")
    assert len(logs) == len(expected_logs) == 2
    for g, e in zip(logs, expected_logs, strict=True):
        topics = [t for t in (g["topic0"], g["topic1"], g["topic2"], g["topic3"]) if t]
        assert (g["log_index"], g["transaction_hash"], g["address"], g["data"]) == (
            _int(e["log_index"]), e["transaction_hash"], e["address"], e["data"])  # fmt: skip
        assert topics == e["topics"].split(",")

    transfers = rows(con, "select * from raw.token_transfers order by log_index")
    expected_transfers = expected_csv(folder / "expected_token_transfers.csv")
    assert [
        (t["contract_address"], t["from_address"], t["to_address"], t["amount"], t["log_index"])
        for t in transfers
    ] == [
        (e["token_address"], e["from_address"], e["to_address"], e["value"], _int(e["log_index"]))
        for e in expected_transfers
    ]
    assert {t["token_standard"] for t in transfers} == {"erc20"}


def test_blocks_47218_47219_equal_ethereum_etl(tmp_path: Path) -> None:
    folder = FIXTURES / "blocks_47218_47219"
    blocks = [
        rpc_result(folder / f"web3_response.eth_getBlockByNumber_{n}_true.json") for n in ("0xb872", "0xb873")
    ]
    # These recordings hold no receipts: give each transaction an empty one (status and gas stay unknown).
    receipts = [[{"transactionHash": tx["hash"], "logs": []} for tx in b["transactions"]] for b in blocks]
    con = load(tmp_path, blocks, receipts)
    _blocks_match(con, expected_csv(folder / "expected_blocks.csv"))
    _transactions_match(con, expected_csv(folder / "expected_transactions.csv"))
    assert con.execute("select count(*) from raw.transactions where gas_used is null").fetchall() == [(4,)]


def test_blocks_1755634_1755635_with_transaction_receipts_equal_ethereum_etl(tmp_path: Path) -> None:
    folder = FIXTURES / "blocks_1755634_1755635"
    blocks = [
        rpc_result(folder / f"web3_response.eth_getBlockByNumber_{n}_true.json")
        for n in ("0x1ac9f2", "0x1ac9f3")
    ]
    by_hash = {
        r["transactionHash"]: r
        for r in (rpc_result(p) for p in folder.glob("web3_response.eth_getTransactionReceipt_*.json"))
    }
    receipts = [[by_hash[tx["hash"]] for tx in b["transactions"]] for b in blocks]
    con = load(tmp_path, blocks, receipts)
    _blocks_match(con, expected_jsonl(folder / "expected_blocks.json"))
    expected_txs = expected_jsonl(folder / "expected_transactions.json")
    _transactions_match(con, expected_txs)
    got = {r["transaction_hash"]: r for r in rows(con, "select * from raw.transactions")}
    for e in expected_txs:
        assert got[e["hash"]]["gas_used"] == e["receipt_gas_used"]
        assert got[e["hash"]]["success"] == (
            None if e["receipt_status"] is None else e["receipt_status"] == 1
        )
    expected_logs = expected_jsonl(folder / "expected_logs.json")
    logs = rows(con, "select * from raw.logs order by block_number, log_index")
    assert [(g["transaction_hash"], g["log_index"], g["data"]) for g in logs] == [
        (e["transaction_hash"], e["log_index"], e["data"]) for e in expected_logs
    ]
    expected_transfers = expected_jsonl(folder / "expected_token_transfers.json")
    transfers = rows(con, "select * from raw.token_transfers order by block_number, log_index")
    assert [
        (t["transaction_hash"], t["log_index"], t["contract_address"], t["amount"]) for t in transfers
    ] == [
        (e["transaction_hash"], e["log_index"], e["token_address"], str(e["value"]))
        for e in expected_transfers
    ]


def test_rewriting_the_same_chunk_is_idempotent(tmp_path: Path) -> None:
    folder = FIXTURES / "block_483920"
    block = rpc_result(folder / "web3_response.eth_getBlockByNumber_0x76250_true.json")
    receipts = rpc_result(folder / "web3_response.eth_getBlockReceipts_483920.json")
    con = load(tmp_path, [block], [receipts])
    before = con.execute("select count(*) from raw.transactions").fetchall()
    write_chunk(con, CHAIN_ID, 483920, 483920, normalize([block], [receipts]), {})
    assert con.execute("select count(*) from raw.transactions").fetchall() == before == [(4,)]
    assert con.execute("select count(*) from raw.blocks").fetchall() == [(1,)]


def test_a_missing_receipt_is_rejected_before_anything_is_written(tmp_path: Path) -> None:
    folder = FIXTURES / "block_483920"
    block = rpc_result(folder / "web3_response.eth_getBlockByNumber_0x76250_true.json")
    receipts = rpc_result(folder / "web3_response.eth_getBlockReceipts_483920.json")
    with pytest.raises(MalformedChunk, match="receipts"):
        normalize([block], [receipts[:-1]])


def test_event_topics_are_the_keccak_of_their_signatures() -> None:
    from eth_utils import keccak

    from extract import decode

    for name, signature in decode.SIGNATURES.items():
        assert getattr(decode, name) == "0x" + keccak(text=signature).hex(), name

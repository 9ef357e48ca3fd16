"""Extraction from a real anvil node into a real DuckDB file: complete, exact, idempotent, reorg-safe,
resumable after kill -9, and stopped cold by a chain id that does not match."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from fault_proxy import SECRET, FaultProxy

from chainseg.config import ChainConfig, ExtractConfig, load_config
from chainseg.errors import UserError
from devnet.jsonrpc import JsonRpc
from devnet.seeder import seed_chain
from extract.decode import SALE, TRANSFER, TRANSFER_BATCH, TRANSFER_SINGLE
from extract.extractor import extract_chain
from extract.importers import import_files
from extract.schema import KEYS, RAW_TABLES
from extract.warehouse import connect

ALL_BLOCKS = ChainConfig(chain_id=31337, use_finalized=False, confirmations=0)
SMALL_CHUNKS = ExtractConfig(chunk_size=37, max_batch=50, chunks_in_flight=3)


def run_extract(
    url: str, db: Path, chain: ChainConfig = ALL_BLOCKS, settings: ExtractConfig = SMALL_CHUNKS, **kw
):  # noqa: ANN003, ANN201
    con = connect(db)
    try:
        return asyncio.run(extract_chain(url, "test", chain, settings, con, **kw))
    finally:
        con.close()


def node_facts(url: str) -> dict[str, int]:
    """What the node holds, computed from its own answers."""
    rpc = JsonRpc(url)
    head = int(rpc.call("eth_blockNumber"), 16)
    facts = dict.fromkeys(
        ("blocks", "txs", "failed", "value", "logs", "sales", "erc721", "erc1155", "erc20"), 0
    )
    facts["blocks"] = head + 1
    for start in range(0, head + 1, 200):
        numbers = [hex(n) for n in range(start, min(head, start + 199) + 1)]
        blocks = rpc.batch([("eth_getBlockByNumber", [n, True]) for n in numbers])
        receipts = rpc.batch([("eth_getBlockReceipts", [n]) for n in numbers])
        for block, block_receipts in zip(blocks, receipts, strict=True):
            facts["txs"] += len(block["transactions"])
            facts["value"] += sum(int(tx["value"], 16) for tx in block["transactions"])
            for receipt in block_receipts:
                facts["failed"] += receipt["status"] != "0x1"
                for log in receipt["logs"]:
                    facts["logs"] += 1
                    topics = log["topics"]
                    if topics[0] == SALE:
                        facts["sales"] += 1
                    elif topics[0] == TRANSFER:
                        facts["erc721" if len(topics) == 4 else "erc20"] += 1
                    elif topics[0] == TRANSFER_SINGLE:
                        facts["erc1155"] += 1
                    elif topics[0] == TRANSFER_BATCH:
                        # data: two offsets, then ids (length + items), then values
                        facts["erc1155"] += int(log["data"][2 + 128 : 2 + 192], 16)
    return facts


def warehouse_facts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchall()[0][0]  # noqa: E731
        return {
            "blocks": one("select count(*) from raw.blocks"),
            "txs": one("select count(*) from raw.transactions"),
            "failed": one("select count(*) from raw.transactions where not success"),
            "value": int(one("select sum(value) from raw.transactions")),
            "logs": one("select count(*) from raw.logs"),
            "sales": one("select count(*) from raw.nft_sales"),
            "erc721": one("select count(*) from raw.token_transfers where token_standard = 'erc721'"),
            "erc1155": one("select count(*) from raw.token_transfers where token_standard = 'erc1155'"),
            "erc20": one("select count(*) from raw.token_transfers where token_standard = 'erc20'"),
        }


def rewrites(db: Path) -> list[tuple]:
    """(reason, first_block, first_timestamp) of every logged rewrite, in order."""
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select reason, first_block, first_timestamp from raw.rewrites order by rewrite_id"
        ).fetchall()


def checksum(db: Path) -> dict[str, tuple]:
    """Row count and an order-independent hash of every raw table's rows (checkpoint times excluded)."""
    with duckdb.connect(str(db), read_only=True) as con:
        out = {}
        for table in RAW_TABLES:
            if table == "rewrites":  # a log of what runs replaced: a rerun adds to it (tested on its own)
                continue
            # When a run happened (updated_at) or at which chunk an address was first checked differs
            # between runs by design; everything else must be identical.
            excluded = {"extract_checkpoints": "updated_at", "addresses": "checked_at_block"}.get(table)
            cols = f"* exclude ({excluded})" if excluded else "*"
            out[table] = con.execute(
                f"select count(*), bit_xor(hash(t)) from (select {cols} from raw.{table}) t"
            ).fetchall()[0]
        return out


@pytest.fixture(scope="module")
def tiny(start_devnet, tmp_path_factory):  # noqa: ANN001, ANN201
    node = start_devnet(chain_id=31337)
    result = seed_chain(node.url, "tiny", 11, tmp_path_factory.mktemp("tiny-state"))
    return node, result


def test_extraction_equals_the_chain(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    node, seeded = tiny
    db = tmp_path / "w.duckdb"
    result = run_extract(node.url, db)
    facts = node_facts(node.url)
    assert warehouse_facts(db) == facts
    assert result.blocks == facts["blocks"] and result.transactions == facts["txs"] == seeded.transactions
    assert facts["failed"] == seeded.planned_failures
    with duckdb.connect(str(db), read_only=True) as con:
        for table, key in KEYS.items():
            keys = ", ".join(key)
            dupes = con.execute(
                f"select count(*) from (select {keys} from raw.{table} group by all having count(*) > 1)"
            )
            assert dupes.fetchall() == [(0,)], table
        # Contracts are told apart from wallets.
        flagged = dict(con.execute("select address, has_code from raw.addresses").fetchall())
        for contract in seeded.contracts.__dict__.values():
            assert flagged[contract] is True
        assert sum(not v for v in flagged.values()) > 100
        # Sale events decode to exact money: fee + royalty + proceeds = price, fee is 2.5%.
        bad = con.execute(
            "select count(*) from raw.nft_sales where price::hugeint * 250 // 10000 != fee::hugeint"
        ).fetchall()
        assert bad == [(0,)]
        last = con.execute("select last_block from raw.extract_checkpoints").fetchall()
        assert last == [(facts["blocks"] - 1,)]


def test_finality_lag_by_default(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    node, _ = tiny
    db = tmp_path / "w.duckdb"
    head = int(JsonRpc(node.url).call("eth_blockNumber"), 16)
    finalized = int(JsonRpc(node.url).call("eth_getBlockByNumber", ["finalized", False])["number"], 16)
    assert finalized < head
    result = run_extract(node.url, db, ChainConfig(chain_id=31337))
    assert result.last_block == finalized
    no_tag = ChainConfig(chain_id=31337, use_finalized=False, confirmations=10)
    assert run_extract(node.url, db, no_tag).last_block == head - 10


def test_rerun_and_reextract_are_idempotent(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    node, _ = tiny
    db = tmp_path / "w.duckdb"
    run_extract(node.url, db)
    first = checksum(db)
    again = run_extract(node.url, db)
    assert again.blocks == 0 and checksum(db) == first
    assert rewrites(db) == []  # new blocks replace nothing stored
    run_extract(node.url, db, from_block=100, to_block=250)
    assert checksum(db) == first
    with duckdb.connect(str(db), read_only=True) as con:
        block_100 = con.execute("select timestamp from raw.blocks where block_number = 100").fetchall()[0][0]
    logged = rewrites(db)
    assert {reason for reason, _, _ in logged} == {"re-extraction"}
    assert min(logged, key=lambda row: row[1])[1:] == (100, block_100)
    assert max(first for _, first, _ in logged) <= 250
    run_extract(node.url, tmp_path / "fresh.duckdb", to_block=50)
    with pytest.raises(UserError, match="gap"):
        run_extract(node.url, tmp_path / "fresh.duckdb", from_block=60)
    for bad, message in (
        ({"from_block": -5}, "--from-block -5 is not a block number; give 0 or more"),
        ({"to_block": -1}, "--to-block -1 is not a block number; give 0 or more"),
        ({"from_block": 20, "to_block": 10}, "--from-block 20 is above --to-block 10; swap them"),
    ):
        with pytest.raises(UserError) as refused:
            run_extract(node.url, db, **bad)
        assert str(refused.value) == message
    assert checksum(db) == first


def test_wrong_chain_id_stops_before_writing(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    node, _ = tiny
    db = tmp_path / "w.duckdb"
    url = node.url.replace("http://", "http://apikey:SECRET-KEY-123@")  # anvil ignores the credentials
    with pytest.raises(UserError, match="reports chain id 31337") as caught:
        run_extract(url, db, ChainConfig(chain_id=1))
    assert "SECRET-KEY-123" not in str(caught.value)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select count(*) from raw.blocks").fetchall() == [(0,)]


def test_reorg_is_detected_and_repaired(start_devnet, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    node = start_devnet(chain_id=31337, prune_history=False)  # anvil_reorg needs the old states
    rpc = JsonRpc(node.url)
    seed_chain(node.url, "tiny", 12, tmp_path / "state")
    db = tmp_path / "w.duckdb"
    run_extract(node.url, db)
    head = int(rpc.call("eth_blockNumber"), 16)
    old_tip = rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"]
    # A trade imported from Dune at the tip: the repair keeps it, as re-extracting a range does.
    trade = tmp_path / "dune.csv"
    trade.write_text(
        "block_time,block_number,tx_hash,evt_index,buyer,seller,nft_contract_address,token_id,"
        f"number_of_items,amount_original,currency_symbol\n2025-01-01 00:00:00,{head},0x{'ab' * 32},0,"
        f"0x{'01' * 20},0x{'02' * 20},0x{'03' * 20},7,1,0.000000000000005,ETH\n"
    )
    con = connect(db)
    try:
        import_files(con, 31337, [trade], "dune-trades")
    finally:
        con.close()
    # Replace the last 6 blocks with a different history, then grow the chain past the old tip.
    sender = rpc.call("eth_accounts")[0]
    rpc.call("anvil_reorg", [6, [[{"from": sender, "to": sender, "value": "0x1"}, 1]]])
    rpc.call("anvil_mine", [hex(4)])
    assert rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"] != old_tip
    caplog.set_level("WARNING")
    result = run_extract(node.url, db)
    assert result.reorged_from is not None and head - 6 <= result.reorged_from < head
    assert f"removing blocks {result.reorged_from + 1}..{head} (a reorg)" in caplog.text
    facts = node_facts(node.url)
    assert warehouse_facts(db) == {**facts, "sales": facts["sales"] + 1}
    with duckdb.connect(str(db), read_only=True) as con:
        dune = "select block_number, price from raw.nft_sales where source = 'dune'"
        imported = con.execute(dune).fetchall()
        stored = dict(con.execute("select block_number, block_hash from raw.blocks").fetchall())
        orphans = con.execute(
            "select count(*) from raw.transactions t left join raw.blocks b using (chain_id, block_number) "
            "where b.block_hash is null or b.block_hash != t.block_hash"
        ).fetchall()
    hashes = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(head - 10, head + 5)])
    assert all(stored[int(b["number"], 16)] == b["hash"] for b in hashes)
    assert orphans == [(0,)]
    assert imported == [(head, "5000")]
    # The repair logged the first block it removed: the dbt models rebuild from its day.
    assert [(reason, first) for reason, first, _ in rewrites(db)] == [
        ("import", head),
        ("reorg", result.reorged_from + 1),
    ]


def test_kill_9_mid_run_then_resume_gives_a_clean_warehouse(tiny, tmp_path: Path) -> None:  # noqa: ANN001
    node, _ = tiny
    clean = tmp_path / "clean.duckdb"
    run_extract(node.url, clean)
    config = tmp_path / "chainseg.yml"
    config.write_text(
        f"state_dir: {tmp_path / 'state'}\nwarehouse: {tmp_path / 'crash.duckdb'}\n"
        "chains:\n  devnet:\n    chain_id: 31337\n    rpc_url_env: CHAINSEG_TEST_RPC\n"
        "    use_finalized: false\n    confirmations: 0\n"
        "extract:\n  chunk_size: 3\n  max_batch: 10\n  chunks_in_flight: 1\n"
    )
    env = {**os.environ, "CHAINSEG_TEST_RPC": node.url}
    command = [sys.executable, "-m", "flows.cli", "--config", str(config), "extract"]
    killed_mid_run = 0
    for delay in (0.8, 1.3, 1.9):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            killed_mid_run += 1
    assert killed_mid_run >= 2
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert checksum(tmp_path / "crash.duckdb") == checksum(clean)
    assert rewrites(tmp_path / "crash.duckdb") == []  # a killed chunk left nothing stored to replace


def test_extraction_through_a_faulty_proxy_equals_a_clean_run(tiny, tmp_path: Path, caplog) -> None:  # noqa: ANN001
    """429 with Retry-After, 5xx, stalls past the timeout, truncated and garbage bodies, shuffled batch
    answers, altered ids, dropped connections, and the node unreachable for a while mid-run."""
    node, _ = tiny
    clean = tmp_path / "clean.duckdb"
    run_extract(node.url, clean)
    script = ["pass", "429", "pass", "500", "shuffle", "stall", "truncate", "pass", "garbage", "503",
              "wrong_ids", "drop", "shuffle", "lagging", "500", "truncate"] * 3  # fmt: skip
    settings = ExtractConfig(chunk_size=37, max_batch=50, chunks_in_flight=3, timeout=1.0, max_attempts=20)
    faulty = tmp_path / "faulty.duckdb"
    caplog.set_level("DEBUG")
    with FaultProxy(node.url, script, stall_seconds=2.0) as proxy:
        down = threading.Timer(1.0, proxy.down, args=(1.5,))
        down.start()
        try:
            run_extract(proxy.url, faulty, settings=settings)
        finally:
            down.cancel()
        applied = set(proxy.log)
    faults = {"429", "500", "503", "stall", "truncate", "garbage", "shuffle", "wrong_ids", "drop", "lagging"}
    assert faults <= applied
    assert checksum(faulty) == checksum(clean)
    assert all(SECRET not in record.getMessage() for record in caplog.records)


def test_two_chains_share_one_warehouse_with_their_own_checkpoints(
    tiny, start_devnet, tmp_path: Path
) -> None:  # noqa: ANN001
    node_a, _ = tiny
    node_b = start_devnet(chain_id=1337)
    seed_chain(node_b.url, "tiny", 99, tmp_path / "state-b")
    chain_b = ChainConfig(chain_id=1337, use_finalized=False, confirmations=0)
    db = tmp_path / "w.duckdb"
    run_extract(node_a.url, db)
    run_extract(node_b.url, db, chain_b)
    facts_a, facts_b = node_facts(node_a.url), node_facts(node_b.url)
    with duckdb.connect(str(db), read_only=True) as con:
        per_chain = dict(
            con.execute("select chain_id, count(*) from raw.transactions group by all").fetchall()
        )
        checkpoints = dict(con.execute("select chain_id, last_block from raw.extract_checkpoints").fetchall())
    assert per_chain == {31337: facts_a["txs"], 1337: facts_b["txs"]}
    assert checkpoints == {31337: facts_a["blocks"] - 1, 1337: facts_b["blocks"] - 1}
    # Re-extracting one chain leaves the other untouched.
    before = checksum(db)
    run_extract(node_b.url, db, chain_b, from_block=0)
    assert checksum(db) == before


def test_an_unreachable_node_is_one_line_without_the_key(tmp_path: Path) -> None:
    (tmp_path / "chainseg.yml").write_text(
        "chains:\n  mainnet:\n    chain_id: 1\n    rpc_url_env: CHAINSEG_TEST_RPC\n"
        "extract:\n  max_attempts: 2\n"
    )
    url = "http://apikey:SECRET-PASS@127.0.0.1:9/v3/SECRET-KEY-456?token=SECRET-TOKEN"
    env = {**os.environ, "CHAINSEG_TEST_RPC": url}
    command = [sys.executable, "-m", "flows.cli", "extract", "--chain", "mainnet"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "127.0.0.1:9" in lines[0] and "run again" in lines[0]
    assert "SECRET" not in done.stderr + done.stdout


def test_a_node_without_eth_getblockreceipts_falls_back_to_per_transaction_receipts(
    tiny, tmp_path: Path
) -> None:  # noqa: ANN001
    node, _ = tiny
    clean = tmp_path / "clean.duckdb"
    run_extract(node.url, clean)
    fallback = tmp_path / "fallback.duckdb"
    with FaultProxy(node.url, hide_methods=["eth_getBlockReceipts"]) as proxy:
        run_extract(proxy.url, fallback)
        # Asked once per chunk in flight at most, then never again: the run switched for good.
        assert 0 < proxy.hidden_calls <= SMALL_CHUNKS.chunks_in_flight * SMALL_CHUNKS.chunk_size
    assert checksum(fallback) == checksum(clean)


@pytest.mark.parametrize(
    ("section", "key", "problem"),
    [
        ("extract:\n  chunk_size: 0\n", "extract.chunk_size", "at least 1"),
        ("extract:\n  timeout: 0\n", "extract.timeout", "greater than 0"),
        ("extract:\n  concurrency: 300\n", "extract.concurrency", "at most 256"),
        ("extract:\n  chunk_sz: 3\n", "extract.chunk_sz", "Unexpected"),
        ("chains:\n  main:\n    chain_id: 0\n", "chains.main.chain_id", "greater than 0"),
        (
            "chains:\n  main:\n    chain_id: 1\n    confirmations: -1\n",
            "chains.main.confirmations",
            "at least 0",
        ),
    ],
)
def test_extraction_settings_out_of_bounds_name_the_key(
    tmp_path: Path, section: str, key: str, problem: str
) -> None:
    # The chains: and extract: sections are plain dataclasses (the extractor does not import pydantic);
    # the file's error still names the key, and a setting built in code is held to the same bounds.
    (tmp_path / "chainseg.yml").write_text(section)
    with pytest.raises(UserError, match=rf"chainseg\.yml: setting '{key}': .*{problem}"):
        load_config(tmp_path / "chainseg.yml")
    name = key.split(".")[-1]
    if name != "chunk_sz":
        settings = {"chain_id": 1} if key.startswith("chains") else {}
        settings[name] = int(section.rsplit(":", 1)[1])
        with pytest.raises(ValueError, match=rf"{name}: .*{problem}"):
            (ChainConfig if key.startswith("chains") else ExtractConfig)(**settings)


def test_addresses_an_import_names_are_checked_by_the_next_extraction(
    tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # noqa: ANN001
    """Dune-shaped trades imported before any extraction name three addresses without code and the tiny
    chain's marketplace contract. The import (through the command line) records them as unchecked and says
    so; the next extraction, of block 0 only (which names none of them), asks the node: the contract is
    told apart from the wallets, and the first block naming it is logged as a rewrite, so the models
    rebuild from that day. Nothing is asked again after that, and importing the file again adds nothing."""
    from flows.cli import main

    node, seeded = tiny
    marketplace = seeded.contracts.marketplace.lower()
    wallets = ["0x" + digit * 40 for digit in "123"]
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "block_time,block_number,tx_hash,evt_index,buyer,seller,nft_contract_address,token_id,"
        "number_of_items,amount_original,currency_symbol\n"
        f"2024-01-02 10:00:00.000 UTC,5,0x{'a' * 64},0,{wallets[0]},{wallets[1]},0x{'e' * 40},1,1,1.5,ETH\n"
        f"2024-01-03 11:00:00.000 UTC,7,0x{'b' * 64},0,{wallets[2]},{marketplace},0x{'e' * 40},2,1,2,ETH\n"
    )
    db = tmp_path / "w.duckdb"
    assert main(["--warehouse", str(db), "import", "dune-trades", str(trades)]) == 0
    assert "4 addresses named by imported rows are not known yet" in capsys.readouterr().out

    def table(sql: str) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(sql).fetchall()

    assert table("select address, first_block from raw.addresses_unchecked order by 1") == sorted(
        [(wallets[0], 5), (wallets[1], 5), (wallets[2], 7), (marketplace, 7)]
    )
    assert table("select count(*) from raw.addresses") == [(0,)]
    result = run_extract(node.url, db, to_block=0)
    assert result.last_block == 0 and result.addresses_checked == 4
    flags = dict(
        table(f"select address, has_code from raw.addresses where address in {(*wallets, marketplace)}")
    )
    assert flags == {wallets[0]: False, wallets[1]: False, wallets[2]: False, marketplace: True}
    assert table("select count(*) from raw.addresses_unchecked") == [(0,)]
    reason, first_block, first_timestamp = rewrites(db)[-1]
    assert (reason, first_block, str(first_timestamp)) == ("addresses", 7, "2024-01-03 11:00:00")
    logged = len(rewrites(db))
    assert run_extract(node.url, db, to_block=0).addresses_checked == 0
    assert len(rewrites(db)) == logged
    assert main(["--warehouse", str(db), "import", "dune-trades", str(trades)]) == 0
    assert "not known yet" not in capsys.readouterr().out
    assert table("select count(*) from raw.addresses_unchecked") == [(0,)]

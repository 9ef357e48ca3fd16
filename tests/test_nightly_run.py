"""`chainseg run` on the embedded default: a real devnet, a real Prefect flow, a real warehouse file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb


def chainseg(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def test_run_seeds_once_extracts_everything_and_reruns_safely(tmp_path: Path) -> None:
    (tmp_path / "chainseg.yml").write_text("devnet:\n  chain_id: 31337\n")
    try:
        first = chainseg(tmp_path, "run", "--scenario", "tiny", "--seed", "3")
        assert first.returncode == 0, first.stderr[-2000:]
        assert "seeded scenario 'tiny'" in first.stdout
        assert "Flow run" in first.stderr and "Completed" in first.stderr
        warehouse = tmp_path / "warehouse" / "chainseg.duckdb"
        with duckdb.connect(str(warehouse), read_only=True) as con:
            counts = con.execute(
                "select (select count(*) from raw.transactions), (select count(*) from raw.nft_sales)"
            ).fetchall()[0]
        summary = dict(
            line.split(None, 1) for line in first.stdout.splitlines() if line.startswith("transactions")
        )
        assert counts[0] == int(summary["transactions"].split()[0].replace(",", ""))
        assert counts[1] > 50

        again = chainseg(tmp_path, "run", "--scenario", "tiny", "--seed", "3")
        assert again.returncode == 0, again.stderr[-2000:]
        assert "not seeding again" in again.stdout and "already up to date" in again.stdout
        assert "models and tests passed" in again.stdout
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from raw.transactions").fetchall() == [(counts[0],)]
    finally:
        chainseg(tmp_path, "devnet", "down")

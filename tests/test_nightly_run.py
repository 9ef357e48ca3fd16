"""`chainseg run` on the embedded default: a real devnet, a real Prefect flow, a real warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb


def chainseg(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def run_on_own_node(
    tmp_path: Path, state: Path, chain_yaml: str, url: str
) -> subprocess.CompletedProcess[str]:
    """`chainseg run` on chain 'mine', whose node URL comes from the environment variable MY_NODE_URL;
    `chain_yaml`: the chain's settings (indented by 4), then any top-level ones."""
    (tmp_path / "chainseg.yml").write_text(
        f"state_dir: {state}\nwarehouse: {tmp_path / 'w.duckdb'}\ndefault_chain: mine\n"
        f"chains:\n  mine:\n    rpc_url_env: MY_NODE_URL\n{chain_yaml}"
    )
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", "run"], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env={**os.environ, "MY_NODE_URL": url},
    )  # fmt: skip


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


def test_run_on_a_node_of_the_users_own_with_a_fresh_state_folder(start_devnet, tmp_path: Path) -> None:  # noqa: ANN001
    """The production set-up: a chain whose node URL comes from an environment variable (a real anvil node
    here, seeded by the test), a state folder that does not exist yet (no devnet ever ran). Prefect's home
    under it was not created and the run failed after two minutes of retries; now the whole flow runs, the
    URL's secret never printed."""
    from devnet.seeder import seed_chain

    node = start_devnet(chain_id=1337)
    seed_chain(node.url, "tiny", 5, tmp_path / "seed-state")
    state = tmp_path / "fresh" / "state"
    chain = "    chain_id: 1337\n    use_finalized: false\n    confirmations: 0\n"
    run = run_on_own_node(tmp_path, state, chain, f"{node.url}/?apikey=SECRET123")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "chain mine: extracted blocks 0.." in run.stdout and "models and tests passed" in run.stdout
    assert (state / "prefect").is_dir()
    assert "SECRET123" not in run.stdout + run.stderr


def test_run_whose_node_does_not_answer_ends_in_one_line(tmp_path: Path) -> None:
    """A configured node that refuses connections: the flow fails, and what the user reads is the retries
    and one error line saying what to do, with no Python traceback (Prefect logged two) and no secret."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    chain = "    chain_id: 1\nextract:\n  max_attempts: 2\n"
    run = run_on_own_node(tmp_path, tmp_path / "state", chain, f"http://127.0.0.1:{port}/v3/SECRET123")
    assert run.returncode == 2, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("chainseg: error:")]
    assert len(errors) == 1 and "stopped answering" in errors[0] and "check that it is up" in errors[0]
    assert "Traceback" not in run.stderr and "leaked" not in run.stderr
    assert "SECRET123" not in run.stdout + run.stderr

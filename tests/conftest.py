"""Shared fixtures: real anvil nodes on 127.0.0.1 that never outlive the test session.

Every node is started with PR_SET_PDEATHSIG, so even a test run killed with -9 leaves no anvil behind, and
each fixture stops its nodes in its finalizer, which runs whether the tests passed or failed.

scripts/test.sh runs the suite on two pytest-xdist workers; `pytest_xdist_make_scheduler` below keeps the
tests that share a costly fixture on one worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chainseg.config import DevnetConfig
from devnet.node import NodeInfo, start_node, stop_node
from devnet.seeder import SeedResult, seed_chain

GENESIS = DevnetConfig().genesis_timestamp
# Test files whose tests must run on one worker, as one unit: each worker would make a module fixture (a
# built warehouse, a seeded node) again, and the demo chain (a session fixture) takes minutes to seed.
# Other tests are handed out one by one.
SHARED_WORKER = {
    "test_simulator.py": "demo chain",
    "test_dbt_holdings_rfv.py": "demo chain",
    "test_dbt_segments.py": "demo chain",
    "test_dbt_build.py": "test_dbt_build.py",
    "test_extract.py": "test_extract.py",
    "test_rpc_client.py": "test_rpc_client.py",
}

StartNode = Callable[..., NodeInfo]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    # xdist's own `--dist loadgroup` does nothing under pytest 9 (it renames items' node ids, which pytest 9
    # no longer reads), hence this scheduler: xdist's by-scope one with our scopes.
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return SHARED_WORKER.get(Path(nodeid.split("::", 1)[0]).name, nodeid)

    return SharedFixtureScheduling(config, log)


@pytest.fixture(scope="session")
def start_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartNode]:
    """Start anvil nodes for the session: `start_devnet(chain_id=1337)`; all are stopped at the end."""
    started: list[NodeInfo] = []
    logs = tmp_path_factory.mktemp("anvil-logs")

    def start(chain_id: int = 31337, prune_history: bool = True) -> NodeInfo:
        info = start_node(
            chain_id=chain_id,
            log_path=logs / f"anvil-{len(started)}.log",
            genesis_timestamp=GENESIS,
            prune_history=prune_history,
            die_with_parent=True,
        )
        started.append(info)
        return info

    yield start
    for info in started:
        stop_node(info)


@pytest.fixture
def chain(start_devnet: StartNode) -> Iterator[NodeInfo]:
    """A fresh, empty anvil node for one test."""
    info = start_devnet()
    yield info
    stop_node(info)


@dataclass(frozen=True)
class SeededChain:
    node: NodeInfo
    result: SeedResult
    state_dir: Path


@pytest.fixture(scope="session")
def demo_chain(start_devnet: StartNode, tmp_path_factory: pytest.TempPathFactory) -> SeededChain:
    """One node seeded with the demo scenario, shared by the tests that only read it."""
    node = start_devnet(chain_id=31337)
    state_dir = tmp_path_factory.mktemp("demo-state")
    return SeededChain(node, seed_chain(node.url, "demo", 42, state_dir), state_dir)

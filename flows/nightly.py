"""The nightly pipeline as a Prefect flow: extract, then (as their issues land) build, segments, export.

Each stage is a Prefect task that reads only what the stages before it wrote; the flow passes the
configuration down and never lets a later stage run on a failed earlier one.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from prefect import flow, get_run_logger, task

from chainseg.config import Config
from extract.extractor import extract_chain
from extract.warehouse import connect
from flows.chain_source import chain_url
from flows.dbt_build import build


@task(name="extract")
def extract_task(config: Config, chain_name: str) -> dict[str, object]:
    """Pull new final blocks of one chain into raw.*; returns what was extracted."""
    name, chain = config.chain(chain_name)
    # Resolved here, not passed in: Prefect stores flow and task parameters, and the URL may hold a key.
    url = chain_url(config, name, chain.rpc_url_env)
    con = connect(config.warehouse_path)
    try:
        result = asyncio.run(extract_chain(url, name, chain, config.extract, con))
    finally:
        con.close()
    get_run_logger().info(
        "chain %s: blocks %s..%s, %s transactions, %s logs", name, result.first_block, result.last_block,
        result.transactions, result.logs,
    )  # fmt: skip
    return asdict(result)


@task(name="build")
def build_task(config: Config) -> dict[str, object]:
    """dbt build of every model and data test, as of the newest extracted day. dbt's unit tests check the
    SQL on hand-written rows, not the night's data: the test suite runs them, the nightly run does not."""
    result = build(config, unit_tests=False)
    get_run_logger().info("dbt build as of %s: %s nodes passed", result.as_of, result.nodes)
    return {"as_of": result.as_of.isoformat(), "nodes": result.nodes, "warnings": list(result.warnings)}


@flow(name="chainseg-nightly")
def nightly(config: Config, chains: list[str]) -> dict[str, dict[str, object]]:
    """Run the pipeline for the named chains (names from `chains:` in the configuration): extract each
    chain, then build the marts once over all of them."""
    results: dict[str, dict[str, object]] = {name: extract_task(config, name) for name in chains}
    results["build"] = build_task(config)
    return results

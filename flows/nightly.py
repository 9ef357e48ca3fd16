"""The nightly pipeline as a Prefect flow: extract, then (as their issues land) build, segments, export.

Each stage is a Prefect task that reads only what the stages before it wrote; the flow passes the
configuration down and never lets a later stage run on a failed earlier one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

from prefect import flow, get_run_logger, task

from chainseg.config import Config
from chainseg.errors import UserError
from extract.extractor import extract_chain
from extract.warehouse import connect
from flows.chain_source import chain_url
from flows.dbt_build import build


class _UserErrorsInOneLine(logging.Filter):
    """A UserError is the user's to fix, and `chainseg run` prints it as one line: Prefect's task and flow
    run loggers log it without its traceback (about 140 lines of Prefect's engine ahead of that line).
    Other exceptions keep theirs: they are bugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], UserError):
            record.exc_info = None
            record.exc_text = None
        return True


for _name in ("prefect.task_runs", "prefect.flow_runs"):
    logging.getLogger(_name).addFilter(_UserErrorsInOneLine())


@task(name="extract")
def extract_task(config: Config, chain_name: str) -> dict[str, object]:
    """Pull new final blocks of one chain into raw.*; returns what was extracted."""
    name, chain = config.chain(chain_name)
    # Resolved here, not passed in: Prefect stores flow and task parameters, and the URL may hold a key.
    url = chain_url(config, name, chain.rpc_url_env)
    con = connect(config.warehouse_path)
    try:
        result = asyncio.run(extract_chain(url, name, chain, config.extract, con))
    except UserError as exc:
        message = str(exc)
    else:
        message = None
    finally:
        con.close()
        del con
    if message is not None:
        # raised afresh, outside the handler: Prefect keeps the exception to the end of the process, and
        # the original's frames would keep DuckDB's objects alive past interpreter exit (nanobind then
        # prints some 70 lines of "leaked" warnings)
        raise UserError(message)
    get_run_logger().info(
        "chain %s: blocks %s..%s, %s transactions, %s logs", name, result.first_block, result.last_block,
        result.transactions, result.logs,
    )  # fmt: skip
    return asdict(result)


@task(name="build")
def build_task(config: Config) -> dict[str, object]:
    """dbt build of every model and data test, as of the newest extracted day. dbt's unit tests check the
    SQL on hand-written rows, not the night's data: the test suite runs them, the nightly run does not."""
    try:
        result = build(config, unit_tests=False)
    except UserError as exc:
        message = str(exc)
    else:
        message = None
    if message is not None:
        raise UserError(message)  # afresh, as extract_task does
    get_run_logger().info("dbt build as of %s: %s nodes passed", result.as_of, result.nodes)
    return {"as_of": result.as_of.isoformat(), "nodes": result.nodes, "warnings": list(result.warnings)}


@flow(name="chainseg-nightly")
def nightly(config: Config, chains: list[str]) -> dict[str, dict[str, object]]:
    """Run the pipeline for the named chains (names from `chains:` in the configuration): extract each
    chain, then build the marts once over all of them."""
    results: dict[str, dict[str, object]] = {name: extract_task(config, name) for name in chains}
    results["build"] = build_task(config)
    return results

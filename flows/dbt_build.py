"""Build the dbt project (staging -> intermediate -> marts, with every data and unit test) in-process.

dbt runs through `dbt.cli.main.dbtRunner` with the repository root as project and profiles directory, the
warehouse from the configuration (environment variable CHAINSEG_WAREHOUSE, which profiles.yml reads) and
the run date in CHAINSEG_AS_OF (read by the as_of_date macro; a dbt var would make dbt parse the whole
project again every night). dbt's target and log folders go under the state directory
(`<state_dir>/dbt/target`, `<state_dir>/dbt/logs`), so a clone of the repository stays clean.

The run date (`as_of`) defaults to the date of the newest block in raw.blocks: marts are computed as of the
end of that UTC day, so the demo chain, whose history ends in 2025, gives sensible tables whenever it is
built, and a rerun on the same warehouse gives the same rows. Pass `as_of` to build for another day.
"""

from __future__ import annotations

import difflib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from chainseg.config import Config
from chainseg.errors import UserError
from extract.schema import create_raw_schema
from extract.warehouse import open_warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1]  # dbt_project.yml and profiles.yml live here
WAREHOUSE_ENV = "CHAINSEG_WAREHOUSE"
AS_OF_ENV = "CHAINSEG_AS_OF"  # read by dbt_project/macros/as_of_date.sql
FAILED = {"error", "fail", "runtime error"}
NAMED_FAILURES = 5  # a summary names at most this many failing nodes
# The tests that fail when a table read by a selected model was not brought up to this as_of (named
# assert_..._are_current in dbt_project/tests): under --select, the selection left it out.
STALE_INPUT_SUFFIX = "_are_current"
# Tests that fail when a selected mart reads a table built before rows were rewritten beneath it (a
# pending raw.rewrites entry): under --select, that table was left out.
REWRITE_SENSITIVE_TESTS = ("assert_wallet_activity_daily_reconciles",)
INDIRECT_SELECTION_ENV = "DBT_INDIRECT_SELECTION"  # when set, it chooses the tests of a --select, not we
CATCH_UP_DAYS = 7  # a build at most this many days past the newest built day runs dbt with 2 threads

# dbt keeps global state (flags, event logger, adapters) per process: one invocation at a time.
_LOCK = threading.Lock()


@dataclass(frozen=True)
class BuildResult:
    as_of: date
    nodes: int  # models, data tests and unit tests dbt ran
    warnings: tuple[str, ...]  # nodes that passed with a warning, as "test <name>"
    elapsed_seconds: float
    target_path: Path  # manifest.json, run_results.json, compiled SQL
    log_path: Path  # dbt.log


def dbt_paths(config: Config) -> tuple[Path, Path]:
    """dbt's target and log folders for this configuration."""
    root = config.state_path / "dbt"
    return root / "target", root / "logs"


def default_as_of(warehouse: Path) -> date:
    """The UTC date of the newest block in raw.blocks; without blocks (a warehouse of imported trades
    only), of the newest sale in raw.nft_sales."""
    _require_warehouse(warehouse)
    con = open_warehouse(warehouse, read_only=True)
    try:
        rows = con.execute(
            "select coalesce((select cast(max(timestamp) as date) from raw.blocks), "
            "(select cast(max(block_timestamp) as date) from raw.nft_sales))"
        ).fetchall()
    except duckdb.CatalogException:
        rows = [(None,)]
    finally:
        con.close()
    if rows[0][0] is None:
        raise UserError(
            f"the warehouse {warehouse} holds no blocks and no trades; run `chainseg extract` or "
            "`chainseg import` first, or give the date to build as of, --as-of YYYY-MM-DD"
        )
    return rows[0][0]


def build(
    config: Config,
    *,
    select: str | None = None,
    full_refresh: bool = False,
    as_of: date | None = None,
    unit_tests: bool = True,
    test_whole_tables: bool = False,
) -> BuildResult:
    """`dbt build` (all models, data tests and unit tests, or those `select`ed) as of `as_of`.

    unit_tests=False leaves out dbt's unit tests: they check the SQL on hand-written rows, not the data,
    so a nightly run on unchanged code gains nothing from them (the test suite runs them).
    The data tests of a model built incrementally look at the days that build rewrote (the older days were
    tested when they were written: dbt_project/macros/tests_window.sql); test_whole_tables=True tests
    every table whole.

    Raises UserError with a one-line summary naming the failing nodes when any model or test fails.
    """
    as_of = as_of or default_as_of(config.warehouse_path)
    _require_warehouse(config.warehouse_path)
    con = open_warehouse(config.warehouse_path)
    try:
        create_raw_schema(con)  # raw columns added since this warehouse was made: the staging views read them
        _require_data_by(con, as_of)
        threads = _threads(con, as_of, full_refresh)
        pending = _rewrites_pending_day(con) if select else None
        unbuilt = _models_never_built(con) if select else []
    finally:
        con.close()
    args = ["build", *_common_args(config, {"test_whole_tables": True} if test_whole_tables else {})]
    if select:
        args += ["--select", select]
        if unbuilt and INDIRECT_SELECTION_ENV not in os.environ:
            args += ["--indirect-selection", "buildable"]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    args += ["--threads", str(threads)]
    started = time.monotonic()
    outcome = _invoke(config, args, as_of)
    results = _node_results(outcome)
    failed = [r for r in results if r[0] in FAILED]
    target_path, log_path = dbt_paths(config)
    if select and outcome.success and not any(kind != "operation" for _, kind, _ in results):
        raise UserError(f"--select {select} matches no model or test of the project; {_model_hint(select)}")
    if failed or not outcome.success:
        drifted = _schema_drifted_models(outcome)
        if drifted:
            raise UserError(
                f"dbt build failed: the stored table of {', '.join(drifted)} has other columns than the "
                "model makes now (a new chainseg version changed it); rebuild it from the events with "
                f"`chainseg build --full-refresh --select {' '.join(drifted)}`, then build as usual"
            )
        summary = _failure_summary("dbt build", outcome, results, failed, log_path / "dbt.log")
        stale = any(name.endswith(STALE_INPUT_SUFFIX) for _, _, name in failed)
        behind = pending is not None and any(name in REWRITE_SENSITIVE_TESTS for _, _, name in failed)
        if select and (stale or behind):
            if not stale:
                summary += f"; stored blocks from {pending} on were rewritten and are not rebuilt yet"
            summary += (
                f"; a model of `--select {select}` reads a table this build did not bring up to date: "
                "select the model with what it reads, `--select +MODEL`"
            )
        raise UserError(summary)
    return BuildResult(
        as_of=as_of,
        nodes=sum(1 for _, kind, _ in results if kind != "operation"),  # not the on-run-start hook
        warnings=tuple(f"{kind} {name}" for status, kind, name in results if status == "warn"),
        elapsed_seconds=time.monotonic() - started,
        target_path=target_path,
        log_path=log_path / "dbt.log",
    )


def generate_docs(config: Config, *, as_of: date | None = None) -> Path:
    """`dbt docs generate`: writes index.html, manifest.json and catalog.json; returns their folder."""
    as_of = as_of or default_as_of(config.warehouse_path)
    outcome = _invoke(config, ["docs", "generate", *_common_args(config)], as_of)
    target_path, log_path = dbt_paths(config)
    if not outcome.success:
        raise UserError(_failure_summary("dbt docs generate", outcome, [], [], log_path / "dbt.log"))
    return target_path


def compile_inline(config: Config, jinja: str, *, as_of: date) -> str:
    """The SQL dbt makes of `jinja` (e.g. a macro call) in this project as of `as_of`, without running it:
    how bench/dbt_build_speed.py gets the queries a post-hook runs."""
    args = ["compile", "--inline", jinja, "--log-level", "none", *_common_args(config)]
    outcome = _invoke(config, args, as_of)
    if not outcome.success:
        _, log_path = dbt_paths(config)
        raise UserError(_failure_summary("dbt compile", outcome, [], [], log_path / "dbt.log"))
    return str(outcome.result.results[0].node.compiled_code)


def _threads(con: duckdb.DuckDBPyConnection, as_of: date, full_refresh: bool) -> int:
    """dbt threads for a build: 2 for a night that adds a few days to built marts, else 1.

    DuckDB runs each query on every core already; a second dbt thread only hides dbt's own time per node
    (compiling, logging: about 20 ms for each of some 270 nodes), which is most of a night made of small
    queries (the benchmark's one-day build, alternating: 41.7 and 43.1 s with 2 threads, 50.6 and 45.8 s
    with 1). On a full build it runs two large models side by side on the same two cores and memory (the
    benchmark warehouse's full build: 720 s with 2 threads, against 557 s with 1 in the benchmark run
    earlier that day), so a full refresh, a first build and a catch-up of more than CATCH_UP_DAYS days run
    with 1.
    """
    if full_refresh:
        return 1
    try:
        newest = con.execute("select max(day) from marts.wallet_activity_daily").fetchall()[0][0]
    except duckdb.CatalogException:
        newest = None
    return 2 if newest is not None and (as_of - newest).days <= CATCH_UP_DAYS else 1


def _rewrites_pending_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The day of the earliest raw.rewrites entry no whole build has rebuilt yet (dbt_project/macros/
    rewrites.sql), or None."""
    try:
        rebuilt = con.execute("select coalesce(max(rewrite_id), 0) from dbt_meta.rewrites_rebuilt").fetchall()
    except duckdb.CatalogException:  # never built: every model is built whole anyway
        return None
    rows = con.execute(
        "select cast(min(first_timestamp) as date) from raw.rewrites where rewrite_id > ?", [rebuilt[0][0]]
    ).fetchall()
    return rows[0][0]


def _require_data_by(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """A run date before every stored block and trade would build empty marts: a mistyped date, refused."""
    first = con.execute(
        "select least((select min(timestamp) from raw.blocks), "
        "(select min(block_timestamp) from raw.nft_sales))"  # least skips a NULL: trades without blocks
    ).fetchall()[0][0]
    if first is not None and as_of < first.date():
        raise UserError(
            f"--as-of {as_of} is before the first block or trade stored ({first.date()}): every mart would "
            f"be empty; give a date from {first.date()} on"
        )


def _project_models() -> set[str]:
    return {path.stem for path in (PROJECT_DIR / "dbt_project" / "models").rglob("*.sql")}


def _model_hint(select: str) -> str:
    """What to try instead of a selection that matched nothing: the models named most like its words."""
    models = _project_models()
    words = [word.strip("+@").split(":")[-1] for word in select.replace(",", " ").split()]
    close = sorted({match for word in words for match in difflib.get_close_matches(word, models, n=2)})
    if close:
        return f"did you mean {', '.join(close)}?"
    marts = sorted(path.stem for path in (PROJECT_DIR / "dbt_project" / "models" / "marts").glob("*.sql"))
    return f"the marts are {', '.join(marts)}"


def _models_never_built(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The project's models with no table or view in the warehouse.

    A build with --select runs, by dbt's default (eager) indirect selection, every test that reads a
    selected model, also those reading models left out: they check that a partial build did not leave a
    table it reads behind (the assert_..._are_current tests). A model never built makes such a test fail
    on a missing table instead, so while any is missing a selection runs only the tests whose models it
    builds or reads (`buildable`). DBT_INDIRECT_SELECTION, when set, decides instead."""
    models = _project_models()
    stored = {
        name
        for (name,) in con.execute(
            "select table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts')"
        ).fetchall()
    }
    return sorted(models - stored)


def _require_warehouse(warehouse: Path) -> None:
    if not warehouse.exists():
        raise UserError(f"the warehouse {warehouse} does not exist; run `chainseg extract` first")


def _common_args(config: Config, extra_vars: dict[str, object] | None = None) -> list[str]:
    target_path, log_path = dbt_paths(config)
    return [
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--vars", json.dumps({**config.marts.dbt_vars(), **(extra_vars or {})}),
        "--no-send-anonymous-usage-stats",  # also keeps dbt from writing .user.yml into the repository
        "--no-use-colors",
    ]  # fmt: skip


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _invoke(config: Config, args: list[str], as_of: date) -> Any:  # noqa: ANN401 - dbtRunnerResult, imported lazily
    # dbt takes a second to import: only commands that build pay for it.
    from dbt.cli.main import dbtRunner

    target_path, log_path = dbt_paths(config)
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)
    # The run date goes in the environment, not in --vars: dbt parses the whole project again whenever
    # a var differs from the last run's (macros/as_of_date.sql).
    environment = {WAREHOUSE_ENV: str(config.warehouse_path), AS_OF_ENV: as_of.isoformat()}
    with _LOCK, _environment(environment):
        try:
            return dbtRunner().invoke(args)
        finally:
            _release_warehouse()


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for the process after an in-process run, so the
    warehouse file is free again for this process (a read-only connection) and for others (DuckDB locks
    the file while it is open)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


def _node_results(outcome: Any) -> list[tuple[str, str, str]]:  # noqa: ANN401
    """(status, resource type, name) of every node dbt ran, in dbt's order. Exposures are left out: dbt
    lists them with status no-op, it builds and tests nothing for them."""
    run = getattr(outcome, "result", None)
    out = []
    for result in getattr(run, "results", None) or []:
        node = result.node
        if str(node.resource_type) == "exposure":
            continue
        out.append((str(result.status), str(node.resource_type).replace("_", " "), node.name))
    return out


def _schema_drifted_models(outcome: Any) -> list[str]:  # noqa: ANN401
    """Incremental models dbt refused to build because their stored columns differ from the model's
    (on_schema_change='fail'): what an upgrade that adds a column to such a model leaves behind."""
    run = getattr(outcome, "result", None)
    return [
        result.node.name
        for result in getattr(run, "results", None) or []
        if "schemas on this incremental model are out of sync" in str(result.message or "")
    ]


def _failure_summary(
    command: str,
    outcome: Any,  # noqa: ANN401
    results: list[tuple[str, str, str]],
    failed: list[tuple[str, str, str]],
    log_file: Path,
) -> str:
    if failed:
        named = ", ".join(f"{kind} {name}" for _, kind, name in failed[:NAMED_FAILURES])
        more = f" and {len(failed) - NAMED_FAILURES} more" if len(failed) > NAMED_FAILURES else ""
        return f"{command} failed: {len(failed)} of {len(results)} nodes ({named}{more}); see {log_file}"
    exception = getattr(outcome, "exception", None)
    lines = [line.strip() for line in str(exception or "").splitlines() if line.strip()]
    # dbt's messages put the kind of error first and the file or node on the next lines
    reason = " ".join(lines[:3])[:300] or "dbt reported an error"
    return f"{command} failed: {reason}; see {log_file}"

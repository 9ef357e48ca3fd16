"""The pinned stack imports and runs together: dbt-duckdb, Prefect, Great Expectations, scikit-learn.

Each part does a small piece of real work, so a pin that installs but breaks at run time (as prefect
3.8.8's server does with a newer fastapi) fails here rather than in the nightly run.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


def test_dbt_duckdb_builds_a_model(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text(
        "name: smoke\nversion: '1.0.0'\nconfig-version: 2\nprofile: smoke\nmodel-paths: [models]\n"
    )
    warehouse = tmp_path / "smoke.duckdb"
    (tmp_path / "profiles.yml").write_text(
        f"smoke:\n  target: dev\n  outputs:\n    dev: {{type: duckdb, path: '{warehouse}', threads: 1}}\n"
    )
    (tmp_path / "models" / "numbers.sql").write_text("select range as n from range(5)")
    result = dbtRunner().invoke(
        ["run", "--project-dir", str(tmp_path), "--profiles-dir", str(tmp_path), "--log-path", str(tmp_path)]
    )
    assert result.success
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select sum(n) from numbers").fetchall() == [(10,)]


def test_prefect_builds_its_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What broke with a newer fastapi: Prefect's API server app. Real flows on a real ephemeral server run
    # in test_nightly_run.py (starting one here too cost half a minute for nothing it does not check).
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    from prefect.server.api.server import create_app

    app = create_app(ephemeral=True)
    api = next(route for route in app.routes if getattr(route, "path", None) == "/api")
    assert "/flow_runs/filter" in api.app.openapi()["paths"]  # every route's models turned into a schema


def test_great_expectations_validates_a_frame() -> None:
    import great_expectations as gx
    import pandas as pd

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset("wallets")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": pd.DataFrame({"wallet": ["0xa", "0xb", None]})})
    )
    result = batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="wallet"))
    assert not result.success
    assert result.result["unexpected_count"] == 1


def test_scikit_learn_and_arrow_round_trip() -> None:
    import numpy as np
    import pyarrow as pa
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    assert model.score(x, y) > 0.95
    scores = pa.table({"score": model.predict_proba(x)[:, 1]})
    con = duckdb.connect()
    con.register("scores", scores)
    assert con.execute("select count(*) from scores where score between 0 and 1").fetchall() == [(200,)]

"""``metadata.sql.direct`` runs declared statements on the driver's connection: on every SQL
backend it must give what SQLAlchemy gives, raise what SQLAlchemy raises (so busy databases and
lost races are still retried), and hand what it cannot run faithfully back to SQLAlchemy."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from modelplane.errors import AlreadyExistsError
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.queries import all_variants, statement
from modelplane.metadata.sql.tables import artifact_versions, artifacts, step_runs


def _fill(store: Any) -> None:
    store.create_model("iris", tags=["prod"], description="a model")
    for number in range(1, 4):
        store.create_model_version("iris", metadata={"accuracy": number / 10, "nested": {"a": [1]}})
    store.set_stage("iris", 2, "production")
    pipeline = store.save_pipeline("training", {"dag": {"load": {}}})
    run = store.create_run(pipeline_id=pipeline.id, parameters={"lr": 0.1})
    step = store.create_step_run(run_id=run.id, name="load", step_name="load")
    store.complete_step_run(step.id, artifacts=[{
        "id": "a" * 32, "output": "output", "name": "data", "type": "data", "materializer": "m",
        "data_type": "builtins.int", "uri": "file:///x", "content_hash": "sha256:0", "size": 1,
        "metadata": {"rows": 3}, "tags": ["t"],
    }])  # fmt: skip
    production = store.get_model_version("iris", "production")
    store.link_artifact(production.id, "a" * 32, name="data", kind="data")


def _params(store: Any) -> dict[str, Any]:
    """A value for every parameter the declared reads take, naming what ``_fill`` stored."""
    version = store.get_model_version("iris", "production")
    run = store.list_runs().items[0]
    artifact = store.list_artifacts().items[0]
    return {
        "artifact_id": artifact.id, "host": "nowhere", "key": "iris", "limit": 50,
        "model": "iris", "model_id": version.model_id, "model_version_id": version.id,
        "offset": 0, "pattern": "%ir%", "pipeline_id": run.pipeline_id, "stage": "production",
        "status": "completed", "tag": "prod", "kind": "data", "name": "data",
    }  # fmt: skip


def _key(query: str, bind: Any, values: dict[str, Any]) -> Any:
    """What a lookup's ``key`` is, by the query and the parameter's type: a name, an id, a
    number or a stage, each naming something ``_fill`` stored."""
    if isinstance(bind.type, sa.Integer):
        return 2
    kind, _, how = query.partition(".")
    if kind == "version":
        return {16: "production", 32: values["model_version_id"]}.get(bind.type.length, "2")
    if how == "by_id":
        return values["model_id"] if kind == "model" else values["pipeline_id"]
    return {"artifact": "data", "model": "iris", "pipeline": "training"}[kind]


def test_declared_reads_give_what_sqlalchemy_gives(sql_store: Any) -> None:
    _fill(sql_store)
    values = _params(sql_store)
    engine = sql_store._engine
    answered = 0
    with engine.begin() as conn:
        for key, name, variant in all_variants():
            select = statement(name, engine.dialect.name, variant)
            binds = select.compile(dialect=engine.dialect).binds.values()
            params = {b.key: values[b.key] for b in binds if b.key in values}
            params.update({b.key: _key(name, b, values) for b in binds if b.key == "key"})
            if variant.get("by") == "ids":  # the model by its id too
                params["model"] = values["model_id"]
            expected = [dict(row._mapping) for row in conn.execute(select, params)]
            assert direct.rows(conn, select, params) == expected, key
            answered += bool(expected)
    assert answered >= 40  # most declared reads found rows, so values were compared


def test_writes_and_returning_match_sqlalchemy(sql_store: Any) -> None:
    _fill(sql_store)
    engine = sql_store._engine
    bump = (
        artifacts.update()
        .where(artifacts.c.name == sa.bindparam("b_name"))
        .values(last_version=artifacts.c.last_version + 1)
    )
    with engine.begin() as conn:
        assert direct.execute(conn, bump, {"b_name": "data"}) == 1
        assert direct.execute(conn, bump, {"b_name": "nothing"}) == 0
        number = conn.execute(sa.select(artifacts.c.last_version)).scalar_one()
        assert number == 2  # the first step's version, bumped once here
        rows = direct.rows(conn, sa.select(artifact_versions.c.meta, artifact_versions.c.created))
        expected = [dict(r._mapping) for r in conn.execute(
            sa.select(artifact_versions.c.meta, artifact_versions.c.created)
        )]  # fmt: skip
        assert rows == expected and rows[0]["metadata"] == {"rows": 3}
        assert rows[0]["created"].tzinfo is not None  # times come back as SQLAlchemy gives them


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(sql_store: Any) -> None:
    _fill(sql_store)
    engine = sql_store._engine
    with engine.connect() as conn, conn.begin():
        row = dict(conn.execute(sa.select(step_runs)).first()._mapping)  # type: ignore[union-attr]
        row["meta"] = row.pop("metadata")
        with pytest.raises(sa.exc.IntegrityError):
            direct.insert(conn, step_runs, row)  # the same primary key again
    # Through the store, a unique key lost this way is a modelplane error, not a driver's.
    run_id = sql_store.list_runs().items[0].id
    with pytest.raises(AlreadyExistsError):
        sql_store.create_step_run(run_id=run_id, name="load", step_name="load")


def test_statements_it_cannot_run_go_through_sqlalchemy(sql_store: Any) -> None:
    _fill(sql_store)
    engine = sql_store._engine
    expanding = sa.select(artifact_versions.c.id).where(
        artifact_versions.c.id.in_(sa.bindparam("ids", expanding=True))
    )
    with engine.begin() as conn:
        assert direct.rows(conn, expanding, {"ids": ["a" * 32, "b" * 32]}) == [{"id": "a" * 32}]
        assert direct.first(conn, expanding, {"ids": ["c" * 32]}) is None
        assert direct.scalar(conn, expanding, {"ids": ["a" * 32]}) == "a" * 32

"""Contract: metric series (log_metrics, list_metric_series, get_metric_history) on every backend."""

from __future__ import annotations

import math

import pytest

from modelplane.errors import InvalidInputError, NotFoundError, PromotionBlockedError
from modelplane.metadata.records import ModelVersionRecord, NewMetricPoint, RunRecord
from modelplane.metadata.store import MetadataStore
from modelplane.metadata.store_metrics import MAX_POINTS_PER_CALL
from tests.store.state import snapshot


@pytest.fixture
def version(store: MetadataStore) -> ModelVersionRecord:
    store.create_model("iris")
    return store.create_model_version("iris")


def _points(version: ModelVersionRecord, key: str, values: list[float], **extra: object) -> list[NewMetricPoint]:
    return [
        NewMetricPoint(key=key, value=value, step=step, model_version_id=version.id, **extra)  # type: ignore[arg-type]
        for step, value in enumerate(values)
    ]


def test_points_come_back_in_step_order_with_a_summary_per_key(
    store: MetadataStore, version: ModelVersionRecord, run: RunRecord
) -> None:
    losses = [1.0, 0.5, 0.25, 0.4]
    assert store.log_metrics(_points(version, "loss", losses, run_id=run.id)) == 4
    assert store.log_metrics(_points(version, "val/auc", [0.7, 0.9])) == 2

    history = store.get_metric_history("iris", 1, "loss")
    assert [(p.step, p.value) for p in history] == list(enumerate(losses))
    assert history.total == 4 and all(p.run_id == run.id for p in history)
    assert history[0].created.tzinfo is not None
    series = {s.key: s for s in store.list_metric_series("iris", "latest")}
    assert series["loss"].model_dump() == {
        "key": "loss", "count": 4, "last": 0.4, "last_step": 3, "min": 0.25, "max": 1.0,
    }
    assert (series["val/auc"].last, series["val/auc"].count) == (0.9, 2)


def test_history_pages_and_the_last_point_of_a_step_wins_the_summary(
    store: MetadataStore, version: ModelVersionRecord
) -> None:
    store.log_metrics(_points(version, "loss", [float(i) for i in range(25)]))
    store.log_metrics([NewMetricPoint(key="loss", value=-1.0, step=24, model_version_id=version.id)])
    page = store.get_metric_history("iris", 1, "loss", limit=10, offset=20)
    assert [p.value for p in page] == [20.0, 21.0, 22.0, 23.0, 24.0, -1.0]
    assert (page.total, page.limit, page.offset) == (26, 10, 20)
    (series,) = store.list_metric_series("iris", 1)
    assert (series.last, series.last_step, series.min, series.count) == (-1.0, 24, -1.0, 26)
    assert store.get_metric_history("iris", 1, "nothing").total == 0


def test_values_keep_double_precision(store: MetadataStore, version: ModelVersionRecord) -> None:
    tiny, big = 0.1234567890123456789, 1.2345678901234567e300
    store.log_metrics(_points(version, "x", [tiny, big]))
    assert [p.value for p in store.get_metric_history("iris", 1, "x")] == [tiny, big]


def test_bad_points_are_refused_whole_and_change_nothing(
    store: MetadataStore, version: ModelVersionRecord
) -> None:
    store.log_metrics(_points(version, "loss", [1.0]))
    before = snapshot(store)
    good = NewMetricPoint(key="ok", value=1.0, step=0, model_version_id=version.id)
    bad_points = [
        ({"key": "", "value": 1.0, "step": 0, "model_version_id": version.id}, "key of metric point 1"),
        ({"key": "k" * 256, "value": 1.0, "step": 0, "model_version_id": version.id}, "too long"),
        ({"key": "nan", "value": math.nan, "step": 0, "model_version_id": version.id}, "'nan'"),
        ({"key": "inf", "value": math.inf, "step": 0, "model_version_id": version.id}, "'inf'"),
        ({"key": "neg", "value": 1.0, "step": -1, "model_version_id": version.id}, "step"),
        ({"key": "orphan", "value": 1.0, "step": 0}, "belongs to nothing"),
    ]
    for bad, words in bad_points:
        with pytest.raises(InvalidInputError, match=words):
            store.log_metrics([good, bad])  # type: ignore[list-item]
    with pytest.raises(NotFoundError, match="model version"):
        store.log_metrics([good, NewMetricPoint(key="x", value=1.0, step=0, model_version_id="f" * 32)])
    with pytest.raises(InvalidInputError, match="at most"):
        store.log_metrics([good] * (MAX_POINTS_PER_CALL + 1))
    assert store.get_metric_history("iris", 1, "ok").total == 0
    assert snapshot(store) == before


def test_series_go_with_their_version_and_unknown_versions_are_named(
    store: MetadataStore, version: ModelVersionRecord
) -> None:
    store.log_metrics(_points(version, "loss", [1.0, 2.0]))
    with pytest.raises(NotFoundError, match="nope"):
        store.list_metric_series("nope", 1)
    with pytest.raises(NotFoundError):
        store.get_metric_history("iris", 7, "loss")
    with pytest.raises(InvalidInputError):
        store.get_metric_history("iris", 1, "loss", limit=0)
    store.delete_model_version("iris", 1)
    second = store.create_model_version("iris")
    assert store.list_metric_series("iris", second.number) == []


def test_gates_read_the_last_min_and_max_of_a_series(store: MetadataStore) -> None:
    store.create_model("g", gates={"production": ["val_loss.min <= 0.3", "val_loss.last <= current"]})
    first, second, third = (store.create_model_version("g") for _ in range(3))
    store.log_metrics(_points(first, "val_loss", [0.9, 0.25, 0.28]))
    store.log_metrics(_points(second, "val_loss", [0.8, 0.5, 0.4]))  # never reaches 0.3
    store.log_metrics(_points(third, "val_loss", [0.7, 0.2, 0.3]))  # last 0.3 > first's 0.28

    assert store.set_stage("g", 1, "production").stage == "production"
    with pytest.raises(PromotionBlockedError, match="val_loss.min <= 0.3"):
        store.set_stage("g", 2, "production")
    with pytest.raises(PromotionBlockedError, match="val_loss.last <= current"):
        store.set_stage("g", 3, "production", force=True)
    assert store.get_model_version("g", "production").number == 1
    store.log_metrics([NewMetricPoint(key="val_loss", value=0.1, step=9, model_version_id=third.id)])
    assert store.set_stage("g", 3, "production", force=True).number == 3


def test_compare_shows_each_series_last_min_and_max(store: MetadataStore) -> None:
    store.create_model("c")
    first, second = store.create_model_version("c"), store.create_model_version("c")
    store.log_metrics(_points(first, "loss", [0.9, 0.3]))
    store.log_metrics(_points(second, "loss", [0.8, 0.3]) + _points(second, "auc", [0.7]))

    rows = {row.key: row for row in store.compare_model_versions("c", [1, 2]).metrics}

    assert list(rows) == ["auc.last", "auc.max", "auc.min", "loss.last", "loss.max", "loss.min"]
    assert (rows["loss.last"].values, rows["loss.last"].differs) == ([0.3, 0.3], False)
    assert (rows["loss.max"].values, rows["loss.max"].differs) == ([0.9, 0.8], True)
    assert rows["auc.last"].values == [None, 0.7]

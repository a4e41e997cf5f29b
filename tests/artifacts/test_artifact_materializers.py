"""Materializer choice and the save_value / load_value round trip for Python's own values."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from modelplane.artifacts.builtin_materializers import (
    BytesMaterializer,
    CloudpickleMaterializer,
    JsonMaterializer,
)
from modelplane.artifacts.io import load_value, save_value
from modelplane.artifacts.materializers import (
    PICKLE_FALLBACK,
    ArtifactFolder,
    Materializer,
    import_materializer,
    is_pickle_materializer,
    materializer_for,
    materializer_name,
    register_materializer,
)
from modelplane.artifacts.store import new_artifact_id
from modelplane.enums import ArtifactType
from modelplane.errors import ArtifactError, MaterializerError
from tests.artifacts.roundtrip import round_trip as _round_trip



JSON_VALUES = {
    "int": 42,
    "big int": 2**80,
    "negative float": -1.5,
    "nan": float("nan"),
    "true": True,
    "none": None,
    "unicode str": "héllo wörld ✓ 日本",
    "empty str": "",
    "empty list": [],
    "empty dict": {},
    "empty tuple": (),
    "tuple": (1, "two", 3.0),
    "nested dict": {"a": {"b": {"c": [1, 2, {"d": None}]}}, "e": [True, False]},
    "tuples inside": [(1, 2), {"pair": ("x", ("y", []))}, [()]],
    "bool is not int": [True, 1, False, 0],
}


@pytest.mark.parametrize("value", list(JSON_VALUES.values()), ids=list(JSON_VALUES))
def test_plain_values_round_trip_through_json(store, value):
    saved, loaded = _round_trip(store, value)

    assert saved.materializer == materializer_name(JsonMaterializer)
    assert saved.type is ArtifactType.DATA
    if value != value:  # NaN
        assert loaded != loaded
    else:
        assert loaded == value
        assert repr(loaded) == repr(value)  # same types all the way down (tuples, bools)


def test_json_artifacts_are_plain_json_files(local_store):
    saved = save_value(local_store, new_artifact_id(), {"scores": (0.5, 0.7)})

    with open(f"{saved.uri}/data.json", encoding="utf-8") as fileobj:
        assert json.load(fileobj) == {"scores": [0.5, 0.7]}


def test_the_data_type_is_module_and_qualname(local_store):
    assert save_value(local_store, new_artifact_id(), (1,)).data_type == "builtins:tuple"
    assert save_value(local_store, new_artifact_id(), None).data_type == "builtins:NoneType"


@pytest.mark.parametrize("value", [b"", b"\x00\xff" * 1000, bytearray(b"mutable")], ids=repr)
def test_bytes_round_trip_as_a_raw_file(store, value):
    saved, loaded = _round_trip(store, value)

    assert saved.materializer == materializer_name(BytesMaterializer)
    assert saved.size == len(value)
    assert loaded == value
    assert type(loaded) is type(value)


@pytest.mark.parametrize(
    ("value", "metadata"),
    [
        ("abc", {"length": 3}),
        ([1, 2], {"length": 2}),
        ({"a": 1}, {"length": 1}),
        (7, {"value": 7}),
        (float("inf"), {}),
        (b"abcd", {"length": 4}),
    ],
    ids=repr,
)
def test_builtin_metadata_is_a_cheap_summary(local_store, value, metadata):
    assert save_value(local_store, new_artifact_id(), value).metadata == metadata


class Opaque:
    def __init__(self, payload: Any) -> None:
        self.payload = payload

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.payload == self.payload


@pytest.mark.parametrize(
    "value",
    [Opaque([1, 2]), {1: "int key"}, {"nested": {2: "x"}}, [Opaque(1)], {1, 2}],
    ids=["object", "int key", "nested int key", "object in list", "set"],
)
def test_values_json_cannot_hold_fall_back_to_pickle_with_a_warning(store, caplog, value):
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        saved, loaded = _round_trip(store, value)

    assert saved.materializer == PICKLE_FALLBACK
    assert is_pickle_materializer(saved.materializer)
    assert loaded == value
    [record] = [r for r in caplog.records if r.name == "modelplane"]
    assert type(value).__qualname__ in record.getMessage()
    assert "register_materializer" in record.getMessage()


def test_an_explicitly_chosen_pickle_materializer_does_not_warn(local_store, caplog):
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        saved, loaded = _round_trip(local_store, [1, 2], materializer=CloudpickleMaterializer)

    assert saved.materializer == PICKLE_FALLBACK
    assert loaded == [1, 2]
    assert caplog.records == []


class Point:
    def __init__(self, x: float, y: float) -> None:
        self.x, self.y = x, y


class Point3D(Point):
    def __init__(self, x: float, y: float, z: float = 0.0) -> None:
        super().__init__(x, y)
        self.z = z


class PointMaterializer(Materializer):
    handled_types = (Point,)
    artifact_type = ArtifactType.DATA

    def save(self, value: Point, folder: ArtifactFolder) -> None:
        with folder.open("point.txt", "w") as fileobj:
            fileobj.write(f"{value.x},{value.y}")

    def load(self, data_type: type, folder: ArtifactFolder) -> Point:
        with folder.open("point.txt", "r") as fileobj:
            x, y = fileobj.read().split(",")
        return data_type(float(x), float(y))

    def extract_metadata(self, value: Point) -> dict[str, Any]:
        return {"x": value.x, "y": value.y}


register_materializer(PointMaterializer)


def test_a_registered_user_materializer_saves_and_loads_its_type(store):
    saved, loaded = _round_trip(store, Point(1.5, -2.0))

    assert saved.materializer == f"{__name__}:PointMaterializer"
    assert saved.data_type == f"{__name__}:Point"
    assert saved.metadata == {"x": 1.5, "y": -2.0}
    assert (loaded.x, loaded.y) == (1.5, -2.0)


def test_the_mro_lookup_gives_a_subclass_its_parents_materializer(local_store):
    assert materializer_for(Point3D) is PointMaterializer
    saved, loaded = _round_trip(local_store, Point3D(1.0, 2.0, 3.0))

    assert saved.materializer.endswith(":PointMaterializer")
    assert type(loaded) is Point3D


def test_the_most_specific_registration_wins():
    class Point4D(Point3D):
        pass

    class Point5D(Point4D):
        pass

    class Point4DMaterializer(PointMaterializer):
        pass

    register_materializer(Point4DMaterializer, Point4D)

    assert materializer_for(Point5D) is Point4DMaterializer
    assert materializer_for(Point3D) is PointMaterializer


@pytest.mark.parametrize(
    ("type_", "expected"),
    [(bool, JsonMaterializer), (dict, JsonMaterializer), (bytes, BytesMaterializer)],
)
def test_builtin_types_find_their_materializers(type_, expected):
    assert materializer_for(type_) is expected


def test_unknown_types_get_the_pickle_fallback():
    assert materializer_name(materializer_for(Opaque)) == PICKLE_FALLBACK


def test_registering_something_that_is_not_a_materializer_is_refused():
    with pytest.raises(MaterializerError, match="not a Materializer subclass"):
        register_materializer(dict, Point)  # type: ignore[arg-type]

    class NoTypes(Materializer):
        pass

    with pytest.raises(MaterializerError, match="names no types"):
        register_materializer(NoTypes)


def test_explicit_materializer_and_artifact_type_override_the_defaults(local_store):
    saved, loaded = _round_trip(
        local_store, b"weights", materializer=BytesMaterializer, artifact_type=ArtifactType.MODEL
    )

    assert saved.type is ArtifactType.MODEL
    assert loaded == b"weights"


class BrokenMaterializer(Materializer):
    handled_types = (Opaque,)

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open("half.bin", "wb") as fileobj:
            fileobj.write(b"half")
        raise ValueError("disk on fire")


def test_a_failing_save_raises_materializer_error_and_leaves_nothing(local_store):
    artifact_id = new_artifact_id()
    with pytest.raises(MaterializerError, match="disk on fire") as excinfo:
        save_value(local_store, artifact_id, Opaque(1), materializer=BrokenMaterializer)

    assert "BrokenMaterializer" in str(excinfo.value)
    assert isinstance(excinfo.value.__cause__, ValueError)
    assert not local_store.exists(local_store.uri_for(artifact_id))
    assert local_store.gc_temp(max_age_seconds=-1) == 0


def test_a_value_nothing_can_save_raises_materializer_error(local_store):
    artifact_id = new_artifact_id()
    with pytest.raises(MaterializerError, match="lock") as excinfo:
        save_value(local_store, artifact_id, threading.Lock())

    assert "register_materializer" in str(excinfo.value)
    assert not local_store.exists(local_store.uri_for(artifact_id))


@pytest.mark.parametrize(
    "name",
    [
        "no_such_module_xyz:Thing",
        "modelplane.artifacts.builtin_materializers:NoSuchClass",
        "modelplane.artifacts.store:FsspecArtifactStore",
        "not a name",
    ],
)
def test_an_unloadable_materializer_name_raises_materializer_error(local_store, name):
    saved = save_value(local_store, new_artifact_id(), "value")

    with pytest.raises(MaterializerError):
        import_materializer(name)
    with pytest.raises(MaterializerError):
        load_value(local_store, uri=saved.uri, materializer=name, data_type=saved.data_type)


def test_a_size_mismatch_is_always_detected(store, overwrite_file):
    saved = save_value(store, new_artifact_id(), b"original bytes")
    overwrite_file(store, saved.uri, "data.bin", b"truncated")

    with pytest.raises(ArtifactError, match=saved.uri) as excinfo:
        load_value(
            store,
            uri=saved.uri,
            materializer=saved.materializer,
            data_type=saved.data_type,
            size=saved.size,
        )
    assert "has 9 bytes, but 14 were recorded" in str(excinfo.value)


def test_a_hash_mismatch_is_detected_when_asked(store, overwrite_file):
    saved = save_value(store, new_artifact_id(), b"original bytes")
    overwrite_file(store, saved.uri, "data.bin", b"ORIGINAL BYTES")  # same size
    recorded = {
        "uri": saved.uri,
        "materializer": saved.materializer,
        "data_type": saved.data_type,
        "size": saved.size,
        "content_hash": saved.content_hash,
    }

    assert load_value(store, **recorded) == b"ORIGINAL BYTES"  # only the size is checked
    with pytest.raises(ArtifactError, match="content hash"):
        load_value(store, **recorded, verify_hash=True)


def test_loading_a_missing_artifact_names_its_uri(store):
    saved = save_value(store, new_artifact_id(), [1, 2, 3])
    store.delete(saved.uri)

    with pytest.raises(ArtifactError, match="does not exist") as excinfo:
        load_value(
            store,
            uri=saved.uri,
            materializer=saved.materializer,
            data_type=saved.data_type,
            size=saved.size,
        )
    assert saved.uri in str(excinfo.value)


def test_a_corrupt_file_raises_artifact_error_naming_the_uri(local_store, overwrite_file):
    saved = save_value(local_store, new_artifact_id(), {"a": 1})
    overwrite_file(local_store, saved.uri, "data.json", b"{not json")

    with pytest.raises(ArtifactError, match="could not load") as excinfo:
        load_value(
            local_store, uri=saved.uri, materializer=saved.materializer, data_type=saved.data_type
        )
    assert saved.uri in str(excinfo.value)


def test_metadata_is_made_json_safe(local_store):
    class Odd(PointMaterializer):
        def extract_metadata(self, value: Point) -> dict[str, Any]:
            return {"nan": float("nan"), 3: (1, 2), "obj": object}

    saved = save_value(local_store, new_artifact_id(), Point(0, 0), materializer=Odd)

    assert json.loads(json.dumps(saved.metadata, allow_nan=False)) == saved.metadata
    assert saved.metadata["3"] == [1, 2]
    assert saved.metadata["nan"] == "nan"

"""The artifact store: layout, atomic moves, path safety, deletion and temp clean-up."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from modelplane.artifacts.store import (
    TEMP_DIR,
    FsspecArtifactStore,
    check_artifact_id,
    new_artifact_id,
)
from modelplane.errors import ArtifactError, ConfigError


def _write(store: FsspecArtifactStore, artifact_id: str, files: dict[str, bytes]):
    with store.begin_write(artifact_id) as write:
        for name, data in files.items():
            with write.folder.open(name, "wb") as fileobj:
                fileobj.write(data)
        return write.commit()


def test_a_committed_write_lands_in_a_folder_named_by_the_id(store):
    artifact_id = new_artifact_id()
    written = _write(store, artifact_id, {"a.bin": b"abc", "sub/b.txt": b"hello"})

    assert written.uri == f"{store.root}/{artifact_id}"
    assert written.size == 8
    assert store.exists(written.uri)
    assert store.size(written.uri) == 8
    folder = store.folder(written.uri)
    assert folder.files() == {"a.bin": 3, "sub/b.txt": 5}
    with folder.open("sub/b.txt", "r") as fileobj:
        assert fileobj.read() == "hello"


def test_leaving_the_write_block_without_commit_leaves_nothing(store):
    artifact_id = new_artifact_id()
    with store.begin_write(artifact_id) as write, write.folder.open("data.bin", "wb") as fileobj:
        fileobj.write(b"never committed")

    assert not store.exists(store.uri_for(artifact_id))
    assert store.gc_temp(max_age_seconds=-1) == 0


def test_a_durable_local_store_round_trips(tmp_path):
    store = FsspecArtifactStore(str(tmp_path), durable=True)
    written = _write(store, new_artifact_id(), {"a": b"1", "sub/b": b"22"})

    assert store.size(written.uri) == 3


def test_nothing_is_visible_under_the_final_name_before_commit(store):
    artifact_id = new_artifact_id()
    write = store.begin_write(artifact_id)
    with write.folder.open("data.bin", "wb") as fileobj:
        fileobj.write(b"x" * 1000)

    assert not store.exists(store.uri_for(artifact_id))
    write.commit()
    assert store.exists(store.uri_for(artifact_id))


def test_an_exception_inside_the_write_removes_the_temporary_folder(local_store):
    artifact_id = new_artifact_id()

    def failing_save() -> None:
        with local_store.begin_write(artifact_id) as write:
            with write.folder.open("data.bin", "wb") as fileobj:
                fileobj.write(b"partial")
            raise RuntimeError("materializer failed")

    with pytest.raises(RuntimeError):
        failing_save()

    assert not local_store.exists(local_store.uri_for(artifact_id))
    assert os.listdir(os.path.join(local_store.root, TEMP_DIR)) == []


def test_the_content_hash_depends_on_names_and_bytes_not_on_write_order(store):
    first = _write(store, new_artifact_id(), {"a": b"1", "b": b"2"})
    same = _write(store, new_artifact_id(), {"b": b"2", "a": b"1"})
    renamed = _write(store, new_artifact_id(), {"a": b"1", "c": b"2"})
    changed = _write(store, new_artifact_id(), {"a": b"1", "b": b"3"})

    assert first.content_hash == same.content_hash
    assert first.content_hash.startswith(f"{store.hash_algorithm}:")
    assert len({first.content_hash, renamed.content_hash, changed.content_hash}) == 3


def test_the_hash_of_a_file_written_by_path_matches_one_written_through_open(local_store):
    through_open = _write(local_store, new_artifact_id(), {"data.bin": b"payload" * 1000})
    with local_store.begin_write(new_artifact_id()) as write:
        path = write.folder.local_path("data.bin")
        with open(path, "wb") as fileobj:
            fileobj.write(b"payload" * 1000)
        by_path = write.commit()

    assert by_path.content_hash == through_open.content_hash
    assert local_store.content_hash(by_path.uri, local_store.hash_algorithm) == by_path.content_hash


@pytest.mark.parametrize("algorithm", ["sha256", "xxh3_128"])
def test_a_large_write_hashes_the_same_as_rereading_it(tmp_path, algorithm):
    if algorithm == "xxh3_128":
        pytest.importorskip("xxhash")
    store = FsspecArtifactStore(str(tmp_path), hash_algorithm=algorithm)
    data = os.urandom(12 << 20)
    with store.begin_write(new_artifact_id()) as write:
        with write.folder.open("big.bin", "wb", size_hint=len(data) + 100) as fileobj:
            fileobj.write(data[:1000])
            fileobj.write(memoryview(data)[1000:])
        written = write.commit()

    assert written.size == len(data)  # the unused preallocation was given back
    assert store.content_hash(written.uri, algorithm) == written.content_hash


def test_writing_an_existing_version_again_is_refused_and_keeps_the_first(store):
    artifact_id = new_artifact_id()
    first = _write(store, artifact_id, {"a": b"first"})

    with pytest.raises(ArtifactError, match="already exists"):
        _write(store, artifact_id, {"a": b"second"})
    with store.folder(first.uri).open("a") as fileobj:
        assert fileobj.read() == b"first"


def test_a_write_with_no_files_is_refused(store):
    with pytest.raises(ArtifactError, match="Nothing was written"):
        _write(store, new_artifact_id(), {})


def test_a_stored_folder_is_read_only(store):
    written = _write(store, new_artifact_id(), {"a": b"1"})
    folder = store.folder(written.uri)

    with pytest.raises(ArtifactError, match="immutable"):
        folder.open("a", "wb")


@pytest.mark.parametrize(
    "bad_id",
    ["../etc", "ABCDEF0123456789ABCDEF0123456789", "0" * 31, "0" * 33, "", "0" * 31 + "/"],
)
def test_ids_that_are_not_32_hex_digits_are_refused(store, bad_id):
    with pytest.raises(ArtifactError, match="not an artifact version id"):
        store.begin_write(bad_id)
    with pytest.raises(ArtifactError):
        store.uri_for(bad_id)


@pytest.mark.parametrize(
    "name", ["../escape", "/abs", "a/../../b", "", ".", "a//b", "..\\x"], ids=repr
)
def test_file_names_that_leave_the_folder_are_refused(store, name):
    write = store.begin_write(new_artifact_id())
    with pytest.raises(ArtifactError, match="not a plain relative path"):
        write.folder.open(name, "wb")
    write.abort()


def test_uris_outside_the_root_are_refused(store, tmp_path):
    artifact_id = new_artifact_id()
    outside = [
        f"{store.root}/../{artifact_id}",
        f"{store.root}/{artifact_id}/..",
        f"{store.root}/{artifact_id}/sub",
        f"{store.root}/{TEMP_DIR}",
        f"{store.root}x/{artifact_id}",
        str(tmp_path / "elsewhere" / artifact_id),
        f"{store.root}/../../etc/passwd",
    ]
    for uri in outside:
        with pytest.raises(ArtifactError, match="not a folder of the artifact store"):
            store.resolve(uri)
        with pytest.raises(ArtifactError):
            store.delete(uri)
    assert store.resolve(store.uri_for(artifact_id)) == artifact_id


def test_a_local_store_accepts_file_urls_for_the_same_folder(tmp_path):
    by_path = FsspecArtifactStore(str(tmp_path / "a"))
    by_url = FsspecArtifactStore(f"file://{tmp_path / 'a'}")
    written = _write(by_path, new_artifact_id(), {"x": b"1"})

    assert by_url.root == by_path.root
    assert by_url.exists(f"file://{written.uri}")
    assert by_url.resolve(written.uri) == by_path.resolve(written.uri)


def test_delete_removes_the_folder_and_is_idempotent(store):
    written = _write(store, new_artifact_id(), {"a": b"1"})

    store.delete(written.uri)
    store.delete(written.uri)

    assert not store.exists(written.uri)
    with pytest.raises(ArtifactError, match="does not exist"):
        store.folder(written.uri)


def test_gc_temp_removes_stale_temporary_folders_and_keeps_fresh_ones(local_store):
    stale = local_store.begin_write(new_artifact_id())
    with stale.folder.open("partial.bin", "wb") as fileobj:
        fileobj.write(b"x")
    fresh = local_store.begin_write(new_artifact_id())
    two_hours_ago = time.time() - 7200
    for dirpath, _dirs, files in os.walk(stale._temp):
        for name in [*files, "."]:
            os.utime(os.path.join(dirpath, name), (two_hours_ago, two_hours_ago))

    assert local_store.gc_temp() == 1
    assert not os.path.exists(stale._temp)
    assert os.path.exists(fresh._temp)


def test_gc_temp_with_no_age_limit_cleans_every_temporary_folder(store):
    write = store.begin_write(new_artifact_id())
    with write.folder.open("partial.bin", "wb") as fileobj:
        fileobj.write(b"x")

    assert store.gc_temp(max_age_seconds=-1) == 1
    assert store.gc_temp(max_age_seconds=-1) == 0


@pytest.mark.parametrize("uri", ["nosuchscheme://bucket/x", ""])
def test_unusable_artifact_store_urls_are_config_errors(uri):
    with pytest.raises(ConfigError):
        FsspecArtifactStore(uri)


def test_an_unknown_hash_algorithm_is_refused_when_the_store_is_made(tmp_path):
    with pytest.raises(ArtifactError, match="unknown"):
        FsspecArtifactStore(str(tmp_path), hash_algorithm="crc7")


def test_check_artifact_id_accepts_uuid_hex():
    artifact_id = new_artifact_id()
    assert check_artifact_id(artifact_id) == artifact_id


def test_a_local_store_saving_json_imports_neither_fsspec_nor_cloudpickle():
    script = (
        "import sys\n"
        "from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id\n"
        "from modelplane.artifacts.io import save_value, load_value\n"
        "import tempfile\n"
        "store = FsspecArtifactStore(tempfile.mkdtemp())\n"
        "saved = save_value(store, new_artifact_id(), {'a': [1, 2]})\n"
        "assert load_value(store, uri=saved.uri, materializer=saved.materializer,\n"
        "                  data_type=saved.data_type) == {'a': [1, 2]}\n"
        "heavy = {'fsspec', 'pandas', 'sklearn', 'cloudpickle'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

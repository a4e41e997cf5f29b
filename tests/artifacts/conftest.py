"""Fixtures for artifact tests: a local store in tmp_path and an fsspec ``memory://`` store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import fsspec
import pytest

from modelplane.artifacts.store import FsspecArtifactStore


@pytest.fixture
def local_store(tmp_path) -> FsspecArtifactStore:
    return FsspecArtifactStore(str(tmp_path / "artifacts"))


@pytest.fixture
def memory_store() -> Iterator[FsspecArtifactStore]:
    root = f"memory://modelplane-tests/{uuid.uuid4().hex}"
    yield FsspecArtifactStore(root)
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3 (moto) with a bucket ``artifacts``: an object store, so no renames."""
    pytest.importorskip("s3fs")
    server_module = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    client.create_bucket(Bucket="artifacts")
    yield endpoint
    server.stop()


@pytest.fixture
def s3_store(s3_endpoint) -> FsspecArtifactStore:
    return FsspecArtifactStore(
        f"s3://artifacts/{uuid.uuid4().hex}",
        storage_options={
            "key": "test",
            "secret": "test",
            "client_kwargs": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
        },
    )


@pytest.fixture(params=["local", "memory", pytest.param("s3", marks=pytest.mark.slow)])
def store(request) -> FsspecArtifactStore:
    """The same tests run against a local folder, fsspec's memory store and an S3 bucket."""
    return request.getfixturevalue(f"{request.param}_store")


def _overwrite_file(store: FsspecArtifactStore, uri: str, name: str, data: bytes) -> None:
    if store.is_local:
        with open(f"{uri}/{name}", "wb") as fileobj:
            fileobj.write(data)
    else:
        with store._ops.fs.open(f"{store._ops.fs._strip_protocol(uri)}/{name}", "wb") as fileobj:
            fileobj.write(data)


@pytest.fixture
def overwrite_file() -> Callable[[FsspecArtifactStore, str, str, bytes], None]:
    """Change a stored file behind the store's back, as disk corruption or a person would."""
    return _overwrite_file

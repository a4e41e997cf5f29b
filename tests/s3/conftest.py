"""S3 artifact stores configured the way users do it: MODELPLANE_ARTIFACT_URI=s3://bucket/prefix, with the
endpoint and credentials from the usual AWS environment variables (pointing at moto's standalone server)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.s3.moto_server import MotoServer, shared_moto


@dataclass
class S3Place:
    moto: MotoServer
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def keys(self) -> list[str]:
        return self.moto.keys(self.bucket, f"{self.prefix}/")

    def final_keys(self) -> list[str]:
        return [key for key in self.keys() if not key.startswith(f"{self.prefix}/.tmp/")]

    def temp_keys(self) -> list[str]:
        return [key for key in self.keys() if key.startswith(f"{self.prefix}/.tmp/")]


@pytest.fixture(scope="session")
def moto_s3() -> MotoServer:
    pytest.importorskip("s3fs", reason="S3 artifact stores need `pip install 'modelplane[s3]'`")
    pytest.importorskip("moto.server")
    return shared_moto()


@pytest.fixture
def s3_place(moto_s3: MotoServer, mp_home, monkeypatch: pytest.MonkeyPatch) -> S3Place:
    """A fresh bucket, selected for this test's modelplane through the environment."""
    import s3fs

    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    for key, value in moto_s3.env.items():
        monkeypatch.setenv(key, value)
    s3fs.S3FileSystem.clear_instance_cache()  # an earlier instance may carry other settings
    place = S3Place(moto_s3, moto_s3.new_bucket(), "artifacts")
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", place.uri)
    return place

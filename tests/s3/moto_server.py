"""moto's standalone S3 server on loopback, one per test session, shared by tests/s3 and tests/ray.

Processes reach it through the usual AWS settings (``AWS_ENDPOINT_URL`` and credentials), as they
would reach a real S3 or MinIO: nothing modelplane-specific.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

__all__ = ["MotoServer", "free_port", "shared_moto"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer:
    """``python -m moto.server`` in a child process; stopped with ``stop()``."""

    def __init__(self, timeout: float = 60.0) -> None:
        port = free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.mkdtemp(prefix="mp-moto-")) / "moto.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.endpoint, timeout=1).close()
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto did not start: {self.log.read_text()[-2000:]}") from None
                time.sleep(0.2)

    @property
    def env(self) -> dict[str, str]:
        """The AWS settings a process needs to use this S3."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def _client(self):  # noqa: ANN202 - boto3 client
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        name = f"mp-{uuid.uuid4().hex[:16]}"
        self._client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in ``bucket`` under ``prefix``, read with boto3 (not through s3fs)."""
        paginator = self._client().get_paginator("list_objects_v2")
        found: list[str] = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.log.parent, ignore_errors=True)


_SHARED: MotoServer | None = None


def shared_moto() -> MotoServer:
    """The session's moto server, started on first use and stopped when the process exits."""
    global _SHARED
    if _SHARED is None:
        _SHARED = MotoServer()
        atexit.register(_SHARED.stop)
    return _SHARED


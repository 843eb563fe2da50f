"""Registries to test against: a folder, and an S3 bucket on moto's real HTTP server on loopback.

The same test body runs on both (the ``registry_store`` fixture is parametrised), because the
layout and the guarantees are meant to be the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Store:
    """Where a test registry lives, and a back door to change its bytes (to tamper with it)."""

    location: str
    overwrite: Callable[[str, bytes], None]


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread, on a free loopback port, for the whole run."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def registry_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Store:
    """An empty registry location: a folder, or ``s3://<new bucket>/models`` on moto."""
    if request.param == "local":
        root = tmp_path / "registry"

        def overwrite_file(key: str, data: bytes) -> None:
            (root / key).write_bytes(data)

        return Store(str(root), overwrite_file)
    import boto3

    endpoint = request.getfixturevalue("moto_endpoint")
    # boto3's own configuration, as a deployment would set it: the registry takes no endpoint.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    bucket = f"registry-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3")
    client.create_bucket(Bucket=bucket)

    def overwrite_object(key: str, data: bytes) -> None:
        client.put_object(Bucket=bucket, Key=f"models/{key}", Body=data)

    return Store(f"s3://{bucket}/models", overwrite_object)

"""The registry on S3 (or any S3-compatible store with conditional writes): ``s3://bucket/prefix``.

Needs the optional extra ``s3`` (boto3). The client is boto3's default one, so the endpoint,
region and credentials come from where boto3 always takes them (``AWS_ENDPOINT_URL``,
``AWS_REGION``, ``AWS_PROFILE``, an instance role, ...).

The two writes that make the registry safe are S3 conditional writes (PutObject with
``If-None-Match: *`` to create, ``If-Match: <ETag>`` to compare-and-swap); S3 answers 412
PreconditionFailed when the condition fails and 409 ConditionalRequestConflict when another
conditional write to the same key is under way, and both mean "someone else won, read again".
A store that ignores these headers would silently lose updates, so use one that supports them
(AWS S3 since 2024, MinIO, moto's server).
"""

from __future__ import annotations

from typing import Any

from ticket_triage.registry.backends import RegistryError

__all__ = ["S3Backend", "split_s3_url"]

_CONFLICTS = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ``("bucket", "some/prefix/")`` (prefix may be empty).

    >>> split_s3_url("s3://models/triage")
    ('models', 'triage/')
    >>> split_s3_url("s3://models")
    ('models', '')
    """
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise RegistryError(f"{url}: expected s3://bucket/prefix")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class S3Backend:
    """A :class:`~ticket_triage.registry.backends.Backend` on an S3 bucket and prefix."""

    def __init__(self, url: str, client: Any = None) -> None:
        self.location = url.rstrip("/")
        self.bucket, self.prefix = split_s3_url(url)
        if client is None:
            try:
                import boto3
            except ImportError:
                raise RegistryError(
                    f"{url}: an S3 registry needs boto3: pip install 'ticket-triage[s3]'"
                ) from None
            client = boto3.client("s3")
        self.client = client

    def _call(self, operation: str, key: str, **kwargs: Any) -> Any:
        """One S3 call; an unreachable store or a refused call becomes a RegistryError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, operation)(Bucket=self.bucket, **kwargs)
        except ClientError:
            raise  # the caller decides which codes are expected
        except BotoCoreError as exc:
            raise RegistryError(f"{self.location}/{key}: S3 unreachable ({exc})") from exc

    def _refused(self, exc: Exception, key: str) -> RegistryError:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return RegistryError(f"s3://{self.bucket}/{self.prefix}{key}: S3 refused ({code}: {exc})")

    def read(self, key: str) -> tuple[bytes, str] | None:
        """See :class:`~ticket_triage.registry.backends.Backend`; the tag is the ETag."""
        from botocore.exceptions import ClientError

        try:
            response = self._call("get_object", key, Key=self.prefix + key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise self._refused(exc, key) from exc
        return response["Body"].read(), response["ETag"]

    def _put(self, key: str, data: bytes, **condition: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("put_object", key, Key=self.prefix + key, Body=data, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _CONFLICTS:
                return False
            raise self._refused(exc, key) from exc
        return True

    def create(self, key: str, data: bytes) -> bool:
        """See :class:`~ticket_triage.registry.backends.Backend`: ``If-None-Match: *``."""
        return self._put(key, data, IfNoneMatch="*")

    def replace(self, key: str, data: bytes, expected: str | None) -> bool:
        """See :class:`~ticket_triage.registry.backends.Backend`: ``If-Match: <ETag>``."""
        if expected is None:
            return self.create(key, data)
        return self._put(key, data, IfMatch=expected)

    def keys(self, prefix: str) -> list[str]:
        """See :class:`~ticket_triage.registry.backends.Backend` (ListObjectsV2, paginated)."""
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                found.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        except ClientError as exc:
            raise self._refused(exc, prefix) from exc
        except BotoCoreError as exc:
            raise RegistryError(f"{self.location}: S3 unreachable ({exc})") from exc
        return sorted(found)

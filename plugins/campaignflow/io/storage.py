"""Object storage behind one small interface: a local directory or an S3-compatible bucket.

Business code never branches on the backend: it gets an :class:`ObjectStore` from :func:`open_store`
and speaks in keys relative to the store's root.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from campaignflow.errors import StorageUnavailable, WriteConflict

_T = TypeVar("_T")


class ObjectStore(ABC):
    """Keys are '/'-separated paths relative to the store root."""

    uri: str

    @abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def write_bytes(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]:
        """All keys under ``prefix`` (recursive), sorted."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> None: ...

    @abstractmethod
    def move(self, src: str, dst: str) -> None:
        """Move one object (rename where the backend can)."""

    @abstractmethod
    def list_dirs(self, prefix: str) -> list[str]:
        """Immediate child 'directories' of ``prefix`` ("" for the root), sorted names."""

    @abstractmethod
    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The object and a version token for :meth:`write_if` (None: no such object)."""

    @abstractmethod
    def write_if(self, key: str, data: bytes, expected: str | None) -> None:
        """Write only if the object is still at version ``expected`` (None: only if it does not exist).

        Raises:
            WriteConflict: another writer got there first; nothing was written.
        """

    def spark_path(self, key: str) -> str:
        """A path Spark can read (a local path, or s3a:// on a cluster with the s3a jars)."""
        return f"{self.uri}/{key}"

    def full_uri(self, key: str) -> str:
        return f"{self.uri}/{key}"


class LocalStore(ObjectStore):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")  # unique: writers may race
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if base.is_file():
            return [prefix]
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())

    def list_dirs(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    def move(self, src: str, dst: str) -> None:
        target = self._path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(src), target)

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(key)
        if not path.exists():
            return None
        data = path.read_bytes()
        return data, hashlib.sha256(data).hexdigest()

    def write_if(self, key: str, data: bytes, expected: str | None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f".{path.name}.lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # compare-and-swap under an exclusive lock
            current = self.read_versioned(key)
            if (current[1] if current else None) != expected:
                raise WriteConflict(f"{self.full_uri(key)} changed since it was read: another writer got there first")
            self.write_bytes(key, data)

    def local_dir(self, key: str) -> Path:
        """A real directory for writers that need one (Spark)."""
        path = self._path(key)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def spark_path(self, key: str) -> str:
        return str(self._path(key))


def _unavailable_is_transient(method: Callable[..., _T]) -> Callable[..., _T]:
    """Network failures and server-side errors become StorageUnavailable (Airflow retries those)."""

    @functools.wraps(method)
    def call(self: S3Store, *args: Any, **kwargs: Any) -> _T:
        from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

        try:
            return method(self, *args, **kwargs)
        except (ConnectionError, HTTPClientError) as err:
            raise StorageUnavailable(
                f"object store {self.endpoint or 'AWS S3'} unreachable ({type(err).__name__})"
            ) from err
        except ClientError as err:
            status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if status >= 500 or err.response["Error"]["Code"] in ("SlowDown", "RequestTimeout"):
                raise StorageUnavailable(f"object store {self.endpoint or 'AWS S3'} answered {status}") from err
            raise

    return call


class S3Store(ObjectStore):
    """An S3 bucket (AWS or any S3-compatible server via ``endpoint_url``)."""

    def __init__(
        self, uri: str, endpoint_url: str | None = None, client: Any = None, encryption: str | None = "AES256"
    ) -> None:
        import boto3  # heavy: only when S3 is used
        from botocore.config import Config

        rest = uri.removeprefix("s3://")
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self.endpoint = endpoint_url
        # A few quick retries here; longer outages are the orchestrator's to retry (StorageUnavailable).
        config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60)
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url, config=config)
        # Server-side encryption asked for on every put and copy ("AES256", "aws:kms"; None: the bucket's default).
        self.encryption = {"ServerSideEncryption": encryption} if encryption else {}

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    @_unavailable_is_transient
    def read_bytes(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        return body

    @_unavailable_is_transient
    def write_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **self.encryption)

    @_unavailable_is_transient
    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return reply["Body"].read(), reply["ETag"]

    @_unavailable_is_transient
    def write_if(self, key: str, data: bytes, expected: str | None) -> None:
        from botocore.exceptions import ClientError

        condition = {"IfNoneMatch": "*"} if expected is None else {"IfMatch": expected}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **condition, **self.encryption)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise WriteConflict(
                    f"{self.full_uri(key)} changed since it was read: another writer got there first"
                ) from err
            raise

    @_unavailable_is_transient
    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    @_unavailable_is_transient
    def list_keys(self, prefix: str) -> list[str]:
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return sorted(keys)

    @_unavailable_is_transient
    def list_dirs(self, prefix: str) -> list[str]:
        full = self._key(prefix.strip("/") + "/") if prefix.strip("/") else (f"{self.prefix}/" if self.prefix else "")
        names: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full, Delimiter="/")
        for page in pages:
            names.extend(p["Prefix"][len(full) :].rstrip("/") for p in page.get("CommonPrefixes", []))
        return sorted(names)

    @_unavailable_is_transient
    def delete_prefix(self, prefix: str) -> None:
        keys = [self._key(k) for k in self.list_keys(prefix)]
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk})

    @_unavailable_is_transient
    def move(self, src: str, dst: str) -> None:
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self._key(dst),
            CopySource={"Bucket": self.bucket, "Key": self._key(src)},
            **self.encryption,
        )
        self.client.delete_object(Bucket=self.bucket, Key=self._key(src))

    def spark_path(self, key: str) -> str:
        return f"s3a://{self.bucket}/{self._key(key)}"


def open_store(uri: str, endpoint_url: str | None = None, encryption: str | None = "AES256") -> ObjectStore:
    """The store for a URI: ``s3://bucket/prefix`` (``encryption`` asked for on every put) or a local path."""
    if uri.startswith("s3://"):
        return S3Store(uri, endpoint_url=endpoint_url, encryption=encryption)
    if "://" in uri and not uri.startswith("file://"):
        raise ValueError(f"unsupported storage URI {uri!r}: use a local path or s3://bucket/prefix")
    return LocalStore(uri.removeprefix("file://"))

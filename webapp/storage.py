"""Where uploaded files live: photos and evidence (webapp.uploads, webapp.evidence), by a key of their random id and
extension (``3f2a...e9.jpg``).

- ``local`` (the embedded default): files under UPLOAD_DIR, each written whole or not at all.
- ``s3``: an S3-compatible bucket (AWS S3, MinIO, Ceph and the like) through boto3, so that every app server of a
  site behind a load balancer sees the same files and none keeps any. Set UPLOAD_STORAGE=s3, S3_BUCKET, and where
  the storage is not AWS's own, S3_ENDPOINT_URL; boto3 takes its credentials from where it always does (the
  AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment variables, or the machine's role).

Files are served through the app, never from a public bucket: a photo or a document is shown only to whoever the view
lets see it, and the bucket can stay private.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.exceptions import ClientError
from flask import Flask, Response, abort, current_app, send_from_directory

STORAGES = ("local", "s3")
CHUNK = 64 * 1024


class FileStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool: ...

    def serve(
        self, key: str, mimetype: str, as_attachment: bool = False, download_name: str | None = None
    ) -> Response: ...


def write_whole(target: Path, data: bytes) -> None:
    """Write a file so that it is there whole or not at all: to a temporary file beside it, then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


class LocalStore:
    """Files in a folder on this machine (UPLOAD_DIR)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        return self.directory / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        write_whole(self.path(key), data)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> bool:
        try:
            self.path(key).unlink()
            return True
        except FileNotFoundError:
            return False

    def serve(self, key: str, mimetype: str, as_attachment: bool = False, download_name: str | None = None):
        return send_from_directory(
            self.directory, key, mimetype=mimetype, as_attachment=as_attachment, download_name=download_name
        )


class S3Store:
    """Files in an S3-compatible bucket, under ``prefix``. The boto3 client is made on first use in each process
    (never before gunicorn forks its workers), and shared by its threads, as boto3 allows."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None):
        self.bucket, self.prefix, self.endpoint_url, self.region = bucket, prefix, endpoint_url, region
        self._client: Any = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> Any:
        if self._client is None or self._pid != os.getpid():
            with self._lock:
                if self._client is None or self._pid != os.getpid():
                    self._client = boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region)
                    self._pid = os.getpid()
        return self._client

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # One PUT: S3 stores an object whole or not at all.
        self.client.put_object(Bucket=self.bucket, Key=self.name(key), Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.name(key))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.name(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def delete(self, key: str) -> bool:
        """Whether there was an object to delete (S3's DELETE succeeds either way, so ask first)."""
        if not self.exists(key):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self.name(key))
        return True

    def serve(self, key: str, mimetype: str, as_attachment: bool = False, download_name: str | None = None):
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self.name(key))
        except self.client.exceptions.NoSuchKey:
            abort(404)
        body = found["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        response = Response(chunks(), mimetype=mimetype, direct_passthrough=True)
        response.content_length = found.get("ContentLength")
        if as_attachment:
            response.headers.set("Content-Disposition", "attachment", filename=download_name or key)
        return response


def store_for(target: str | Path | FileStore) -> FileStore:
    """A store given as itself, or as a folder (the local store of that folder)."""
    return LocalStore(target) if isinstance(target, str | Path) else target


def init_app(app: Flask) -> None:
    kind = app.config.get("UPLOAD_STORAGE") or "local"
    if kind not in STORAGES:
        raise RuntimeError(f"UPLOAD_STORAGE must be one of {', '.join(STORAGES)}, not {kind!r}")
    if kind == "s3":
        if not app.config.get("S3_BUCKET"):
            raise RuntimeError("UPLOAD_STORAGE=s3 needs S3_BUCKET")
        app.extensions["file_store"] = S3Store(
            app.config["S3_BUCKET"],
            prefix=app.config.get("S3_PREFIX") or "",
            endpoint_url=app.config.get("S3_ENDPOINT_URL"),
            region=app.config.get("S3_REGION"),
        )
    else:
        app.extensions["file_store"] = LocalStore(app.config["UPLOAD_DIR"])


def current() -> FileStore:
    return current_app.extensions["file_store"]

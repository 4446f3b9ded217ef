"""The object store behind one small interface: local filesystem (default) or S3.

Every key is checked (``keys.check_key``) before any I/O. Writes are atomic: the local store
writes a hidden temporary file beside the target and renames it into place; S3 makes an object
visible only when its upload completes. Either way a crash leaves no half object under a key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

from engines.errors import StorageError, UploadTooLarge
from engines.extras import require
from engines.settings import home

from .keys import check_key

CHUNK = 1024 * 1024


class ObjectStore(Protocol):
    url: str

    def put_file(self, key: str, src: Path, *, move: bool = False) -> tuple[int, str]:
        """Store ``src`` under ``key``; (size, sha256). ``move`` may consume ``src``."""

    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        """Store a stream of at most ``max_bytes``; (size, sha256). Larger: UploadTooLarge, nothing stored."""

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None: ...

    def local_path(self, key: str) -> Path:
        """A readable local file with the object's bytes (S3: a cached download)."""

    def delete(self, key: str) -> None: ...


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def copy_limited(stream: BinaryIO, out: BinaryIO, max_bytes: int, key: str) -> tuple[int, str]:
    h, size = hashlib.sha256(), 0
    for block in iter(lambda: stream.read(CHUNK), b""):
        size += len(block)
        if size > max_bytes:
            raise UploadTooLarge(f"upload larger than the limit of {max_bytes} bytes", stage="upload", key=key,
                                 hint="upload a smaller file or raise CUTLITE_MAX_UPLOAD_BYTES")
        h.update(block)
        out.write(block)
    return size, h.hexdigest()


class LocalStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.url = f"file://{self.root}"

    def _path(self, key: str) -> Path:
        path = self.root / check_key(key)
        # a symlink anywhere below the root must not lead outside it
        real_parent = path.parent.resolve()
        if real_parent != self.root and self.root not in real_parent.parents:
            raise StorageError(f"object key {key!r} resolves outside the store", stage="storage", key=key)
        if path.is_symlink():
            raise StorageError(f"object {key!r} is a symbolic link; refusing it", stage="storage", key=key)
        return path

    def _temp_beside(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"

    def put_file(self, key: str, src: Path, *, move: bool = False) -> tuple[int, str]:
        path = self._path(key)
        tmp = self._temp_beside(path)
        try:
            digest = sha256_file(src)
            if move:
                try:
                    os.replace(src, tmp)  # same filesystem: a rename, no copy
                except OSError:
                    shutil.copyfile(src, tmp)
            else:
                shutil.copyfile(src, tmp)
            _fsync(tmp)
            size = tmp.stat().st_size
            os.replace(tmp, path)
            return size, digest
        except OSError as exc:
            raise StorageError(f"cannot write object {key}: {exc.strerror or exc}", stage="storage", key=key,
                               hint="check free space and permissions of the object store") from None
        finally:
            tmp.unlink(missing_ok=True)

    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        path = self._path(key)
        tmp = self._temp_beside(path)
        try:
            with open(tmp, "wb") as out:
                size, digest = copy_limited(stream, out, max_bytes, key)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
            return size, digest
        except OSError as exc:
            raise StorageError(f"cannot write object {key}: {exc.strerror or exc}", stage="storage", key=key) from None
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int | None:
        p = self._path(key)
        return p.stat().st_size if p.is_file() else None

    def local_path(self, key: str) -> Path:
        p = self._path(key)
        if not p.is_file():
            raise StorageError(f"object {key} does not exist", stage="storage", key=key)
        return p

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class S3Store:
    """Objects in ``s3://bucket/prefix``; endpoint and credentials from the standard AWS variables."""

    def __init__(self, bucket: str, prefix: str = "", client: object | None = None,
                 cache_dir: Path | None = None) -> None:
        boto3 = require("boto3", "s3", "an s3:// CUTLITE_STORAGE_URL")

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client("s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)
        self.url = f"s3://{bucket}/{self.prefix}"
        self.cache = (cache_dir or home() / "cache" / "s3") / bucket
        self._lock = threading.Lock()

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _fail(self, key: str, exc: Exception) -> StorageError:
        return StorageError(f"S3 {self.bucket}: {exc}", stage="storage", key=key, retryable=True,
                            hint="check the bucket, the endpoint (AWS_ENDPOINT_URL) and the credentials")

    def put_file(self, key: str, src: Path, *, move: bool = False) -> tuple[int, str]:
        name = self._name(key)  # a refused key is an invalid key, never an S3 failure
        digest = sha256_file(src)
        try:
            self.client.upload_file(str(src), self.bucket, name,  # type: ignore[attr-defined]
                                    ExtraArgs={"Metadata": {"sha256": digest}})
        except Exception as exc:  # botocore raises many leaf types; all are storage failures here
            raise self._fail(key, exc) from None
        size = src.stat().st_size
        if move:
            src.unlink(missing_ok=True)
        return size, digest

    def put_stream(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        # Spool to a local temporary file first: the limit is enforced before anything is sent,
        # and the checksum is known before the object exists.
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = self.cache / f".upload-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as out:
                copy_limited(stream, out, max_bytes, key)
            return self.put_file(key, tmp, move=True)
        finally:
            tmp.unlink(missing_ok=True)

    def _head(self, key: str) -> dict | None:
        from botocore.exceptions import ClientError

        name = self._name(key)
        try:
            return self.client.head_object(Bucket=self.bucket, Key=name)  # type: ignore[attr-defined]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._fail(key, exc) from None
        except Exception as exc:
            raise self._fail(key, exc) from None

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int | None:
        head = self._head(key)
        return int(head["ContentLength"]) if head else None

    def local_path(self, key: str) -> Path:
        size = self.size(key)
        if size is None:
            raise StorageError(f"object {key} does not exist", stage="storage", key=key)
        target = self.cache / check_key(key)
        with self._lock:
            if target.is_file() and target.stat().st_size == size:
                return target
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex}"
            name = self._name(key)
            try:
                self.client.download_file(self.bucket, name, str(tmp))  # type: ignore[attr-defined]
                os.replace(tmp, target)
            except Exception as exc:
                raise self._fail(key, exc) from None
            finally:
                tmp.unlink(missing_ok=True)
        return target

    def presigned_url(self, key: str, seconds: int) -> str:
        """A GET URL for the object that S3 itself honours until ``seconds`` from now (downloads)."""
        try:
            return self.client.generate_presigned_url(  # type: ignore[attr-defined]
                "get_object", Params={"Bucket": self.bucket, "Key": self._name(key)}, ExpiresIn=seconds)
        except Exception as exc:
            raise self._fail(key, exc) from None

    def delete(self, key: str) -> None:
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # type: ignore[attr-defined]
        except Exception as exc:
            raise self._fail(key, exc) from None


def open_store(url: str) -> ObjectStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStore(parsed.path)
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Store(parsed.netloc, parsed.path)
    raise StorageError(f"unsupported storage URL {url!r}", stage="storage",
                       hint="use file:///absolute/path or s3://bucket[/prefix]")

"""Object keys stay in their tenant's prefix; stores write atomically; S3 on a real server."""

from __future__ import annotations

import hashlib
import os
from io import BytesIO
from pathlib import Path

import pytest
from conftest import free_port, moto_s3

from engines.errors import StorageError, ValidationError
from engines.media_v2 import keys, storage
from engines.media_v2.storage import LocalStore, S3Store, UploadTooLarge, open_store
from engines.settings import storage_url

AID = "ast_0123456789abcdef0123"


@pytest.mark.parametrize("tenant,env", [("../x", "dev"), ("/etc", "dev"), ("a/../../b", "dev"), ("ACME", "dev"),
                                        ("acmé", "dev"), ("a\x00b", "dev"), ("", "dev"), ("a" * 300, "dev"),
                                        ("%2e%2e%2f", "dev"), ("acme", "../prod"), ("acme", "Prod"), ("acme", "")])
def test_hostile_scopes_build_no_key(tenant, env):
    with pytest.raises(ValidationError):
        keys.source_key(tenant, env, AID, "mp4")


@pytest.mark.parametrize("asset_id", ["../ast_0123456789abcdef0123", "ast_0123", "ast_0123456789abcdef0123/..",
                                      "ast_0123456789ABCDEF0123", "/abs", "ast_0123456789abcdef012\x00"])
def test_hostile_asset_ids_build_no_key(asset_id):
    with pytest.raises(ValidationError):
        keys.proxy_key("acme", "dev", asset_id, "draft_360p")


@pytest.mark.parametrize("job_id", ["../x", "chunks", "a", "Job_1", "x/y", "x" * 80, ".hidden"])
def test_hostile_job_ids_build_no_key(job_id):
    with pytest.raises(ValidationError):
        keys.render_key("acme", "dev", job_id)


@pytest.mark.parametrize("key", [
    "tenants/acme/dev/media_v2/../../other/dev/media_v2/ast_0123456789abcdef0123/source.mp4",
    "/tenants/acme/dev/media_v2/ast_0123456789abcdef0123/source.mp4",
    "tenants\\acme\\dev\\media_v2\\ast_0123456789abcdef0123\\source.mp4",
    "tenants/acme/dev/media_v2/ast_0123456789abcdef0123/../../../../../etc/passwd",
    "tenants/acme/dev/media_v2/renders/job_1234abcd/..",
    "tenants/acme/dev/media_v2/renders/chunks/../x.mp4",
    "etc/passwd",
])
def test_check_key_refuses_what_the_builders_never_make(key):
    with pytest.raises(ValidationError):
        keys.check_key(key)


def test_builders_make_the_spec_layout():
    assert keys.source_key("acme", "dev", AID, "MOV") == f"tenants/acme/dev/media_v2/{AID}/source.mov"
    assert keys.proxy_key("acme", "prod", AID, "draft_360p") == f"tenants/acme/prod/media_v2/{AID}/proxy_draft_360p.mp4"
    assert keys.render_key("acme", "dev", "job_0123abcd") == "tenants/acme/dev/media_v2/renders/job_0123abcd/output.mp4"
    assert keys.source_key("acme", "dev", AID, "../x") == f"tenants/acme/dev/media_v2/{AID}/source.bin"


KEY = keys.source_key("acme", "dev", AID, "mp4")


def test_local_put_is_atomic_and_checksummed(tmp_path):
    store = LocalStore(tmp_path / "root")
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(100_000))
    size, digest = store.put_file(KEY, src)
    assert size == 100_000 and digest == hashlib.sha256(src.read_bytes()).hexdigest()
    assert store.exists(KEY) and store.size(KEY) == 100_000 and store.local_path(KEY).read_bytes() == src.read_bytes()
    assert [p.name for p in (tmp_path / "root").rglob("*") if p.is_file()] == ["source.mp4"]


def test_a_write_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "root")
    src = tmp_path / "a.bin"
    src.write_bytes(b"x" * 10_000)

    def half_then_fail(a, b):  # noqa: ANN001
        Path(b).write_bytes(b"x" * 5000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.shutil, "copyfile", half_then_fail)
    with pytest.raises(StorageError) as err:
        store.put_file(KEY, src)
    assert err.value.context["key"] == KEY and "No space left" in err.value.message
    assert not store.exists(KEY)
    assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []


def test_an_upload_over_the_limit_stores_nothing(tmp_path):
    store = LocalStore(tmp_path / "root")
    with pytest.raises(UploadTooLarge):
        store.put_stream(KEY, BytesIO(b"y" * 3_000_000), max_bytes=2_000_000)
    assert [p for p in (tmp_path / "root").rglob("*") if p.is_file()] == []


def test_a_symlink_in_the_store_cannot_lead_outside(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "tenants").mkdir(parents=True)
    outside.mkdir()
    (root / "tenants" / "acme").symlink_to(outside)
    store = LocalStore(root)
    src = tmp_path / "a.bin"
    src.write_bytes(b"z")
    with pytest.raises(StorageError):
        store.put_file(KEY, src)
    with pytest.raises(StorageError):
        store.exists(KEY)
    assert list(outside.rglob("*")) == []


# ---------------------------------------------------------------- S3 on a real server (moto) on loopback

@pytest.fixture(scope="module")
def s3():
    with moto_s3() as (client, _endpoint):
        yield client


def test_s3_round_trip_under_the_prefix(s3, tmp_path):
    store = S3Store("cutlite", "farm-a", client=s3, cache_dir=tmp_path / "cache")
    src = tmp_path / "a.bin"
    src.write_bytes(os.urandom(50_000))
    size, digest = store.put_file(KEY, src)
    assert size == 50_000 and digest == hashlib.sha256(src.read_bytes()).hexdigest()
    names = [o["Key"] for o in s3.list_objects_v2(Bucket="cutlite")["Contents"]]
    assert names == [f"farm-a/{KEY}"]
    assert store.exists(KEY) and store.size(KEY) == 50_000
    assert store.local_path(KEY).read_bytes() == src.read_bytes()
    store.delete(KEY)
    assert not store.exists(KEY) and store.size(KEY) is None


def test_s3_upload_over_the_limit_stores_nothing(s3, tmp_path):
    store = S3Store("cutlite", "farm-b", client=s3, cache_dir=tmp_path / "cache")
    with pytest.raises(UploadTooLarge):
        store.put_stream(KEY, BytesIO(b"y" * 3_000_000), max_bytes=1_000_000)
    assert s3.list_objects_v2(Bucket="cutlite", Prefix="farm-b/").get("KeyCount", 0) == 0


def test_s3_refuses_hostile_keys_before_any_request(s3, tmp_path):
    store = S3Store("cutlite", "farm-c", client=s3, cache_dir=tmp_path / "cache")
    with pytest.raises(ValidationError):
        store.exists("tenants/acme/dev/media_v2/../../x")


def test_s3_failure_is_a_storage_error_with_a_hint(tmp_path):
    import boto3
    from botocore.config import Config

    dead = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{free_port()}", aws_access_key_id="x",
                        aws_secret_access_key="x", region_name="us-east-1",
                        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}))
    store = S3Store("cutlite", "", client=dead, cache_dir=tmp_path / "cache")
    src = tmp_path / "a.bin"
    src.write_bytes(b"a")
    with pytest.raises(StorageError) as err:
        store.put_file(KEY, src)
    assert err.value.hint and err.value.context["retryable"] is True


def test_open_store_by_url(tmp_path):
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    assert isinstance(open_store("s3://bucket/prefix"), S3Store)
    with pytest.raises(StorageError):
        open_store("ftp://host/x")


# ---------------------------------------------------------------- where objects may live

def test_dev_uses_the_local_default(monkeypatch, tmp_path):
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path))
    monkeypatch.delenv("CUTLITE_STORAGE_URL", raising=False)
    assert storage_url("dev") == f"file://{tmp_path.resolve() / 'objects'}"


def test_prod_without_configured_storage_is_an_error(monkeypatch):
    monkeypatch.delenv("CUTLITE_STORAGE_URL", raising=False)
    monkeypatch.delenv("CUTLITE_ALLOW_LOCAL_STORAGE", raising=False)
    with pytest.raises(StorageError, match="no object store configured"):
        storage_url("prod")
    with pytest.raises(StorageError):
        storage_url("staging")
    monkeypatch.setenv("CUTLITE_ALLOW_LOCAL_STORAGE", "1")
    assert storage_url("staging").startswith("file://")


@pytest.mark.parametrize("url", ["file:///tmp/objects", "file:///var/tmp/x", "file:///dev/shm/x"])
def test_prod_refuses_a_temporary_folder_even_when_configured(monkeypatch, url):
    monkeypatch.setenv("CUTLITE_STORAGE_URL", url)
    with pytest.raises(StorageError, match="temporary"):
        storage_url("prod")


def test_prod_accepts_durable_storage(monkeypatch):
    monkeypatch.setenv("CUTLITE_STORAGE_URL", "s3://renders/prod")
    assert storage_url("prod") == "s3://renders/prod"
    monkeypatch.setenv("CUTLITE_STORAGE_URL", "file:///srv/cutlite/objects")
    assert storage_url("prod") == "file:///srv/cutlite/objects"


def test_a_prod_project_never_falls_back_to_local_storage(monkeypatch, tmp_path, media):
    """End to end: proxies for a prod asset with no storage configured fail, nothing is written."""
    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry

    monkeypatch.delenv("CUTLITE_STORAGE_URL", raising=False)
    monkeypatch.delenv("CUTLITE_ALLOW_LOCAL_STORAGE", raising=False)
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path))
    library = MediaLibrary(Registry(f"sqlite:///{tmp_path / 'r.db'}"))
    with pytest.raises(StorageError):
        library.register_file("acme", "prod", media["red"])
    assert not (tmp_path / "objects").exists()

"""The media_v2 registry, the same tests on SQLite and on Postgres.

Postgres is the machine's server (CUTLITE_TEST_POSTGRES_URL, default the local ``test``
database); its tests are skipped, with the reason, only where it cannot be reached.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import threading
import time
from pathlib import Path

import pydantic
import pytest
from sqlalchemy import inspect

from engines.media_v2 import keys
from engines.media_v2.models import Artifact, Asset, utc_now
from engines.media_v2.registry import Registry

PG_URL = os.environ.get("CUTLITE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg() -> str:
    return "postgresql+psycopg://" + PG_URL.removeprefix("postgresql://")


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'r.db'}"
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            pass
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "absent here"
        pytest.skip(f"Postgres not reachable at {PG_URL}: {exc}")
    return _pg()


@pytest.fixture
def tenant() -> str:
    return "t" + secrets.token_hex(6)  # Postgres keeps rows between runs: never collide with old ones


def asset(tenant: str, content: str = "a", env: str = "dev") -> Asset:
    aid = keys.new_asset_id()
    return Asset(id=aid, tenant=tenant, env=env, kind="video", content_hash=content * 64, original_name="x.mp4",
                 source_key=keys.source_key(tenant, env, aid, "mp4"), size=10, probe={"duration_seconds": 1.0},
                 created_at=utc_now())


def proxy(a: Asset, **meta: object) -> Artifact:
    m = {"profile_name": "draft_360p", "source_asset_id": a.id, "hw_encoder_used": "libx264", **meta}
    return Artifact(id=keys.new_artifact_id(), tenant=a.tenant, env=a.env, asset_id=a.id, kind="proxy",
                    profile="draft_360p", key=keys.proxy_key(a.tenant, a.env, a.id, "draft_360p"), size=5,
                    checksum="b" * 64, meta=m, created_at=utc_now())


def test_migrations_create_the_schema_and_run_again_safely(url):
    r = Registry(url)
    tables = set(inspect(r.engine).get_table_names())
    assert {"media_assets", "media_artifacts", "leases", "render_jobs", "render_chunks", "job_events",
            "chunk_cache", "alembic_version"} <= tables
    Registry(url)  # a second registry on the same database: nothing to do, no error


def test_same_bytes_same_asset_per_tenant(url, tenant):
    r = Registry(url)
    first, created = r.add_asset(asset(tenant))
    again, created_again = r.add_asset(asset(tenant))
    other, created_other = r.add_asset(asset(tenant + "x"))
    assert created and not created_again and again.id == first.id
    assert created_other and other.id != first.id


def test_reads_are_scoped_by_tenant_and_env(url, tenant):
    r = Registry(url)
    a, _ = r.add_asset(asset(tenant))
    assert r.get_asset(tenant, "dev", a.id).id == a.id
    assert r.get_asset(tenant + "x", "dev", a.id) is None
    assert r.get_asset(tenant, "prod", a.id) is None


def test_artifacts_upsert_by_key_and_filter_by_kind(url, tenant):
    r = Registry(url)
    a, _ = r.add_asset(asset(tenant))
    r.put_artifact(proxy(a, seconds=1))
    r.put_artifact(proxy(a, seconds=2))
    (only,) = r.artifacts(tenant, "dev", a.id, kind="proxy")
    assert only.meta["seconds"] == 2
    assert r.artifacts(tenant, "dev", a.id, kind="render") == []
    assert r.get_asset(tenant, "dev", a.id).artifacts == [only]


def test_artifact_models_refuse_bad_meta_and_foreign_keys(tenant):
    a = asset(tenant)
    with pytest.raises(pydantic.ValidationError, match="lacks"):
        Artifact(**{**proxy(a).model_dump(), "meta": {"profile_name": "draft_360p"}})
    foreign = keys.proxy_key("other", "dev", a.id, "draft_360p")
    with pytest.raises(pydantic.ValidationError, match="outside its tenant"):
        Artifact(**{**proxy(a).model_dump(), "key": foreign})


def test_leases(url, tenant):
    r = Registry(url)
    name = f"test:{tenant}"
    assert r.acquire_lease(name, "host-a:1:a", ttl=30)
    assert not r.acquire_lease(name, "host-b:2:b", ttl=30)
    assert r.acquire_lease(name, "host-a:1:a", ttl=30)  # re-entrant for its owner
    r.release_lease(name, "host-b:2:b")                 # not the owner: nothing happens
    assert r.lease_holder(name)["owner"] == "host-a:1:a"
    assert r.acquire_lease(name + ":short", "host-a:1:a", ttl=0.2)
    time.sleep(0.3)
    assert r.acquire_lease(name + ":short", "host-b:2:b", ttl=30)  # expired: taken over


def test_a_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(url, tenant):
    import socket

    r = Registry(url)
    dead = subprocess_pid_that_exited()
    name = f"dead:{tenant}"
    assert r.acquire_lease(name, f"{socket.gethostname()}:{dead}:zz", ttl=3600)
    assert r.acquire_lease(name, f"{socket.gethostname()}:{os.getpid()}:me", ttl=30)


def subprocess_pid_that_exited() -> int:
    import subprocess
    import sys

    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_one_of_eight_concurrent_takers_wins(url, tenant):
    r = Registry(url)
    wins: list[str] = []
    barrier = threading.Barrier(8)

    def take(i: int) -> None:
        barrier.wait()
        if Registry(url).acquire_lease(f"race:{tenant}", f"h:{i}:x", ttl=30):
            wins.append(str(i))

    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and r.lease_holder(f"race:{tenant}")["owner"] == f"h:{wins[0]}:x"


def _add_many(url: str, tenant: str, worker: int) -> int:
    r = Registry(url)
    for i in range(25):
        r.add_asset(asset(tenant).model_copy(update={"content_hash": f"{worker:02x}{i:02x}".ljust(64, "0")}))
    return 25


def test_four_processes_writing_at_once_lose_nothing(url, tenant):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        assert sum(pool.starmap(_add_many, [(url, tenant, w) for w in range(4)])) == 100
    r = Registry(url)
    with r.engine.connect() as conn:
        n = conn.exec_driver_sql("select count(*) from media_assets where tenant = "
                                 + ("?" if url.startswith("sqlite") else "%s"), (tenant,)).scalar()
    assert n == 100


def test_the_head_revision_constant_is_alembic_s_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from engines import database

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(database.__file__).parent / "migrations"))
    assert ScriptDirectory.from_config(cfg).get_current_head() == database.HEAD_REVISION


def test_a_current_schema_is_not_migrated_again(tmp_path, monkeypatch):
    from engines import database

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    engine = database._create(url)
    assert not database.schema_is_current(engine)
    database.migrate(engine)
    assert database.schema_is_current(engine)
    import alembic.command

    monkeypatch.setattr(alembic.command, "upgrade", lambda *a, **k: pytest.fail("migrated a current schema"))
    database.migrate(engine)


def test_sqlite_reads_give_what_sqlalchemy_reads(tmp_path, tenant):
    """The registry reads SQLite through sqlite3: the same rows, JSON decoded, as SQLAlchemy's."""
    from sqlalchemy import JSON

    from engines.media_v2 import db
    from engines.media_v2.registry import JSON_COLUMNS

    assert JSON_COLUMNS == {t.name: tuple(c.name for c in t.columns if isinstance(c.type, JSON))
                            for t in db.TABLES.values() if any(isinstance(c.type, JSON) for c in t.columns)}
    reg = Registry(f"sqlite:///{tmp_path / 'r.db'}")
    a = asset(tenant)
    reg.add_asset(a)
    reg.put_artifact(proxy(a, facts={"video": {"fps": "30000/1001"}, "duration": None}))
    reg.acquire_lease("lease-x", "me", 60)
    assert reg._reader is not None
    for table, where in (("media_assets", {"tenant": tenant, "env": "dev", "id": a.id}),
                         ("media_artifacts", {"tenant": tenant, "env": "dev", "asset_id": a.id}),
                         ("leases", {"name": "lease-x"})):
        assert reg._select(table, where) == db.select_rows(reg.engine, table, where)
    assert reg.get_asset(tenant, "dev", a.id).artifacts[0].meta["facts"]["video"]["fps"] == "30000/1001"


def test_a_process_that_only_reads_sqlite_never_imports_sqlalchemy(tmp_path, tenant):
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'r.db'}"
    a = asset(tenant)
    Registry(url).add_asset(a)
    code = ("import sys\nfrom engines.media_v2.registry import Registry\n"
            f"r = Registry({url!r})\nassert r.get_asset({tenant!r}, 'dev', {a.id!r}).id == {a.id!r}\n"
            "print('sqlalchemy' in sys.modules)\n"
            f"r.update_asset_meta({tenant!r}, 'dev', {a.id!r}, damage=[])\nprint('sqlalchemy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True"]  # a write loads it
    assert Registry(url).get_asset(tenant, "dev", a.id).meta == {"damage": []}


def test_a_database_file_deleted_under_a_running_process_is_created_again(tmp_path, tenant):
    """A state folder removed and made again (a bench's fresh home, a user clearing it): the next
    registry of the same URL migrates a new file instead of reading a missing one."""
    import shutil

    home = tmp_path / "home"
    url = f"sqlite:///{home / 'r.db'}"
    first = asset(tenant)
    Registry(url).add_asset(first)
    shutil.rmtree(home)
    home.mkdir()
    reg = Registry(url)
    assert reg.get_asset(tenant, "dev", first.id) is None
    second = asset(tenant, "b")
    assert reg.add_asset(second) == (second, True)
    assert Registry(url).get_asset(tenant, "dev", second.id).id == second.id

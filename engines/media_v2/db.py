"""The database: tables (SQLAlchemy Core), engines and migrations.

SQLite under CUTLITE_HOME by default, in WAL mode with a busy timeout so several processes
can share it; Postgres by URL. The schema comes only from Alembic migrations
(``engines/media_v2/migrations``), applied at start-up under a lock.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String,
                        Table, UniqueConstraint, create_engine, event, text)
from sqlalchemy.engine import Engine

metadata = MetaData()

assets = Table(
    "media_assets", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("original_name", String(255), nullable=False),
    Column("source_key", String(512), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("probe", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    UniqueConstraint("tenant", "env", "content_hash", name="uq_media_assets_content"),
)

artifacts = Table(
    "media_artifacts", metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("asset_id", String(32), ForeignKey("media_assets.id"), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("profile", String(32), nullable=True),
    Column("key", String(512), nullable=False, unique=True),
    Column("size", BigInteger, nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Index("ix_media_artifacts_asset", "tenant", "env", "asset_id", "kind"),
)

leases = Table(
    "leases", metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)

jobs = Table(
    "render_jobs", metadata,
    Column("id", String(80), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("env", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("profile", String(32), nullable=False),
    Column("params", JSON, nullable=False),
    Column("params_hash", String(64), nullable=False),
    Column("plan_hash", String(64), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("owner", String(120), nullable=True),
    Column("heartbeat_at", Float, nullable=True),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("error", JSON, nullable=True),
    Column("output_key", String(512), nullable=True),
    Column("timings", JSON, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)

chunks = Table(
    "render_chunks", metadata,
    Column("job_id", String(80), ForeignKey("render_jobs.id"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("start_frame", Integer, nullable=False),
    Column("end_frame", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("content_hash", String(64), nullable=True),
    Column("key", String(512), nullable=True),
    Column("checksum", String(64), nullable=True),
    Column("reused", Boolean, nullable=False, default=False),
    Column("seconds", Float, nullable=True),
    Column("worker", String(120), nullable=True),
    Column("error", JSON, nullable=True),
)

events = Table(
    "job_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String(80), nullable=False),
    Column("at", String(40), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data", JSON, nullable=False),
)

chunk_cache = Table(
    "chunk_cache", metadata,
    Column("tenant", String(63), primary_key=True),
    Column("env", String(8), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("key", String(512), nullable=False),
    Column("checksum", String(64), nullable=False),
    Column("frames", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """One migrated engine per URL per process."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = _create(url)
            migrate(engine)
        return engine


def _create(url: str) -> Engine:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API connection
            dbapi_conn.isolation_level = None  # pysqlite emits no BEGIN of its own; see "begin"
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")      # readers never block the writer
            cur.execute("PRAGMA busy_timeout=30000")    # wait for a writer instead of failing
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _immediate(conn):  # noqa: ANN001
            # take the write lock at BEGIN: no deadlock-prone read-then-upgrade between processes
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Alembic upgrade to head, serialised across processes (file lock / advisory lock)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    if engine.dialect.name == "sqlite":
        lock_path = Path(str(engine.url.database) + ".migrate.lock")
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with engine.connect() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
    else:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(727274)"))
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(727274)"))
                conn.commit()


JOB_LIMITS_LOCK = 727275


def serialize_limits(conn: Any) -> None:
    """Make this transaction the only one counting and changing job states right now.

    SQLite transactions here already begin IMMEDIATE (one writer at a time); on Postgres, READ
    COMMITTED would let two API processes both count "one slot free" and both take it, so the
    transaction takes an advisory lock held until it ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({JOB_LIMITS_LOCK})"))

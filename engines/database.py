"""The database: one SQLAlchemy engine per URL per process, and its migrations.

SQLite under CUTLITE_HOME by default, in WAL mode with a busy timeout so several processes
can share it; Postgres by URL. The schema comes only from Alembic migrations
(``engines/migrations``), applied at start-up under a lock. Each package declares its own tables
on ``metadata`` (``media_v2/db.py``, ``jobs/tables.py``); this module knows none of them.
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine

from engines.extras import require
from engines.sqlite_reads import HEAD_REVISION, sqlite_file

metadata = MetaData()

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def get_engine(url: str) -> Engine:
    """One migrated engine per URL per process; a SQLite file deleted since is created again (the
    pooled connections of the old engine would otherwise go on using the deleted file)."""
    with _lock:
        engine = _engines.get(url)
        path = sqlite_file(url)
        if engine is not None and path is not None and not path.exists():
            engine.dispose()
            engine = None
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
    if url.startswith("postgresql+psycopg"):
        require("psycopg", "postgres", "a postgresql:// CUTLITE_DATABASE_URL")
    return create_engine(url, pool_pre_ping=True)


def schema_is_current(engine: Engine) -> bool:
    """One query: the database already carries the newest migration. Saves every later process
    Alembic's import and script scan (about a tenth of a second on a cold start)."""
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # no table yet (a new database), or one we cannot read: migrate
        return False
    return version == HEAD_REVISION


def migrate(engine: Engine) -> None:
    """Alembic upgrade to head, serialised across processes (file lock / advisory lock); nothing
    when the schema is already current."""
    if schema_is_current(engine):
        return
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

"""Reads of the embedded SQLite database through the standard library's ``sqlite3``.

Importing SQLAlchemy costs a new process about 0.13 s: a quarter of the half second a cold
``cutlite preview`` may take, spent on a few equality lookups. So reads of a SQLite database
whose schema is current (the check ``engines.database.migrate`` makes before Alembic) go through
``sqlite3`` with the same connection settings (WAL, busy timeout); writes, migrations and
Postgres stay with SQLAlchemy (``engines.database``). Each read opens its own connection in
autocommit mode, so it sees every committed write, whatever the process or thread.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable

# The newest migration in engines/migrations/versions (a test holds this to Alembic's own head).
HEAD_REVISION = "0004_access"


def sqlite_file(url: str) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for any other database)."""
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(url.removeprefix("sqlite:///"))


class SqliteReader:
    """Equality selects on one SQLite file; JSON columns decoded as SQLAlchemy's ``JSON`` type stores them."""

    def __init__(self, path: Path, json_columns: dict[str, tuple[str, ...]]) -> None:
        self.path = path
        self.json_columns = json_columns

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path.resolve().as_uri() + "?mode=rw", uri=True, timeout=30, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=30000")  # wait for a writer instead of failing
        conn.row_factory = sqlite3.Row
        return conn

    def schema_is_current(self) -> bool:
        """The file exists and carries the newest migration (else SQLAlchemy creates or migrates it)."""
        if not self.path.is_file():
            return False
        try:
            conn = self._connect()
            try:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return False
        return row is not None and row[0] == HEAD_REVISION

    def select(self, table: str, where: dict[str, Any], *, order_by: Iterable[str] = (),
               limit: int | None = None) -> list[dict[str, Any]]:
        """Rows of ``table`` whose columns equal ``where``; names are this package's own, never input."""
        sql = f"SELECT * FROM {table} WHERE " + " AND ".join(f"{column} = ?" for column in where)
        if order_by:
            sql += " ORDER BY " + ", ".join(order_by)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        conn = self._connect()
        try:
            rows = conn.execute(sql, tuple(where.values())).fetchall()
        finally:
            conn.close()
        decoded = self.json_columns.get(table, ())
        return [{k: (json.loads(row[k]) if k in decoded and row[k] is not None else row[k]) for k in row.keys()}
                for row in rows]

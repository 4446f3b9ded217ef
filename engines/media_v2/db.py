"""The media_v2 tables (SQLAlchemy Core) and every statement the registry runs through SQLAlchemy.

The schema itself comes from the migrations (``engines/migrations``); ``engines.database``
owns the engine. The registry imports this module on its first write (or its first read of
Postgres): a process that only reads SQLite never loads SQLAlchemy (``registry.py``).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError  # the registry catches it from here

from engines.database import metadata
from engines.owners import owner_is_dead

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
    Column("meta", JSON, nullable=False, server_default="{}"),
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

TABLES = {table.name: table for table in (assets, artifacts, leases)}


def select_rows(engine: Engine, table: str, where: dict[str, Any], order_by: tuple[str, ...] = (),
                limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of ``table`` whose columns equal ``where``."""
    t = TABLES[table]
    query = select(t).where(and_(*(t.c[k] == v for k, v in where.items())))
    query = query.order_by(*(t.c[k] for k in order_by)).limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings().all()]


def insert_asset(engine: Engine, row: dict[str, Any]) -> None:
    """Insert an asset row (``IntegrityError`` when the tenant already has these bytes)."""
    with engine.begin() as conn:
        conn.execute(insert(assets).values(**row))


def merge_asset_meta(engine: Engine, tenant: str, env: str, asset_id: str, values: dict[str, Any]) -> bool:
    """Set keys of an asset's meta, keeping the rest; False when there is no such asset."""
    cond = and_(assets.c.tenant == tenant, assets.c.env == env, assets.c.id == asset_id)
    with engine.begin() as conn:
        row = conn.execute(select(assets.c.meta).where(cond)).first()
        if row is None:
            return False
        conn.execute(update(assets).where(cond).values(meta={**(row[0] or {}), **values}))
    return True


def replace_artifact(engine: Engine, row: dict[str, Any]) -> None:
    """The artifact row for its key, replacing the one there was."""
    with engine.begin() as conn:
        conn.execute(delete(artifacts).where(artifacts.c.key == row["key"]))
        conn.execute(insert(artifacts).values(**row))


def delete_artifact(engine: Engine, tenant: str, env: str, key: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(artifacts).where(and_(
            artifacts.c.tenant == tenant, artifacts.c.env == env, artifacts.c.key == key)))


def acquire_lease(engine: Engine, name: str, owner: str, ttl: float) -> bool:
    """Insert the lease, or take it over when it expired, is already ours or its owner died."""
    now = time.time()
    try:
        with engine.begin() as conn:
            conn.execute(insert(leases).values(name=name, owner=owner, expires_at=now + ttl))
        return True
    except IntegrityError:
        pass
    with engine.begin() as conn:
        taken = conn.execute(update(leases).where(and_(
            leases.c.name == name, (leases.c.expires_at < now) | (leases.c.owner == owner)))
            .values(owner=owner, expires_at=now + ttl))
        if taken.rowcount == 1:
            return True
        holder = conn.execute(select(leases.c.owner).where(leases.c.name == name)).scalar()
        if holder is not None and owner_is_dead(holder):
            taken = conn.execute(update(leases).where(and_(leases.c.name == name, leases.c.owner == holder))
                                 .values(owner=owner, expires_at=now + ttl))
            return taken.rowcount == 1
        return False


def release_lease(engine: Engine, name: str, owner: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(leases).where(and_(leases.c.name == name, leases.c.owner == owner)))

"""The media_v2 registry: assets, artifacts and leases, on SQLite or Postgres.

Every read is scoped by tenant and env: an asset of another tenant is simply not found.
Leases make "generate once" hold across threads, processes and machines: a named row with an
owner and an expiry; whoever inserts it (or finds it expired) holds it.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from engines.database import get_engine
from engines.model.scope import check_scope
from engines.owners import owner_is_dead
from engines.settings import database_url

from . import db
from .models import Artifact, Asset


class Registry:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine: Engine = get_engine(self.url)

    # ------------------------------------------------------------------ assets

    def add_asset(self, asset: Asset) -> tuple[Asset, bool]:
        """Insert; when the tenant already has these bytes, the existing asset. (asset, created)."""
        row = asset.model_dump(exclude={"artifacts", "schema_version"})
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(db.assets).values(**row))
            return asset, True
        except IntegrityError:
            existing = self.find_by_hash(asset.tenant, asset.env, asset.content_hash)
            if existing is None:
                raise
            return existing, False

    def find_by_hash(self, tenant: str, env: str, content_hash: str) -> Asset | None:
        row = self._first(db.assets, tenant, env, content_hash=content_hash)
        return Asset(**row) if row else None

    def find_by_name(self, tenant: str, env: str, original_name: str) -> Asset | None:
        """The first asset of the tenant registered under this file name (imports link media by name)."""
        row = self._first(db.assets, tenant, env, original_name=original_name)
        return Asset(**row) if row else None

    def _first(self, table: Any, tenant: str, env: str, **equal: Any) -> Any:
        """The first row of ``table`` in this tenant's scope whose columns equal ``equal``."""
        check_scope(tenant, env)
        cond = [table.c.tenant == tenant, table.c.env == env, *(table.c[k] == v for k, v in equal.items())]
        with self.engine.connect() as conn:
            return conn.execute(select(table).where(and_(*cond))).mappings().first()

    def get_asset(self, tenant: str, env: str, asset_id: str, *, with_artifacts: bool = True) -> Asset | None:
        row = self._first(db.assets, tenant, env, id=asset_id)
        if row is None:
            return None
        asset = Asset(**row)
        if with_artifacts:
            asset = asset.model_copy(update={"artifacts": self.artifacts(tenant, env, asset_id)})
        return asset

    def update_asset_meta(self, tenant: str, env: str, asset_id: str, **values: Any) -> Asset | None:
        """Set keys of an asset's meta (the rest is kept); the updated asset, or None if unknown."""
        check_scope(tenant, env)
        cond = and_(db.assets.c.tenant == tenant, db.assets.c.env == env, db.assets.c.id == asset_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(db.assets.c.meta).where(cond)).first()
            if row is None:
                return None
            conn.execute(update(db.assets).where(cond).values(meta={**(row[0] or {}), **values}))
        return self.get_asset(tenant, env, asset_id)

    # ------------------------------------------------------------------ artifacts

    def put_artifact(self, artifact: Artifact) -> Artifact:
        """Register an artifact; one per key (a regenerated object replaces its row)."""
        row = artifact.model_dump(exclude={"schema_version"})
        with self.engine.begin() as conn:
            conn.execute(delete(db.artifacts).where(db.artifacts.c.key == artifact.key))
            conn.execute(insert(db.artifacts).values(**row))
        return artifact

    def artifacts(self, tenant: str, env: str, asset_id: str, kind: str | None = None) -> list[Artifact]:
        check_scope(tenant, env)
        cond = [db.artifacts.c.tenant == tenant, db.artifacts.c.env == env, db.artifacts.c.asset_id == asset_id]
        if kind:
            cond.append(db.artifacts.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(select(db.artifacts).where(and_(*cond))
                                .order_by(db.artifacts.c.created_at, db.artifacts.c.id)).mappings().all()
        return [Artifact(**r) for r in rows]

    def artifact_by_key(self, tenant: str, env: str, key: str) -> Artifact | None:
        row = self._first(db.artifacts, tenant, env, key=key)
        return Artifact(**row) if row else None

    def delete_artifact(self, tenant: str, env: str, key: str) -> None:
        check_scope(tenant, env)
        with self.engine.begin() as conn:
            conn.execute(delete(db.artifacts).where(and_(
                db.artifacts.c.tenant == tenant, db.artifacts.c.env == env, db.artifacts.c.key == key)))

    # ------------------------------------------------------------------ leases

    def acquire_lease(self, name: str, owner: str, ttl: float) -> bool:
        """Hold ``name`` for ``ttl`` seconds if nobody else holds it (or their lease expired)."""
        now = time.time()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(db.leases).values(name=name, owner=owner, expires_at=now + ttl))
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:
            taken = conn.execute(update(db.leases).where(and_(
                db.leases.c.name == name, (db.leases.c.expires_at < now) | (db.leases.c.owner == owner)))
                .values(owner=owner, expires_at=now + ttl))
            if taken.rowcount == 1:
                return True
            holder = conn.execute(select(db.leases.c.owner).where(db.leases.c.name == name)).scalar()
            if holder is not None and owner_is_dead(holder):
                taken = conn.execute(update(db.leases).where(and_(db.leases.c.name == name,
                                                                  db.leases.c.owner == holder))
                                     .values(owner=owner, expires_at=now + ttl))
                return taken.rowcount == 1
            return False

    def release_lease(self, name: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(db.leases).where(and_(db.leases.c.name == name, db.leases.c.owner == owner)))

    def lease_holder(self, name: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(db.leases).where(db.leases.c.name == name)).mappings().first()
        return dict(row) if row else None

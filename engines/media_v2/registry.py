"""The media_v2 registry: assets, artifacts and leases, on SQLite or Postgres.

Every read is scoped by tenant and env: an asset of another tenant is simply not found.
Leases make "generate once" hold across threads, processes and machines: a named row with an
owner and an expiry; whoever inserts it (or finds it expired) holds it.

Reads of a SQLite database go through ``sqlite3`` (``engines.sqlite_reads``), so a short-lived
process that only looks assets up (a cold preview) never imports SQLAlchemy (~0.13 s); writes,
and every access to Postgres, go through SQLAlchemy (the statements are in ``db.py``), whose
engine is made, and the schema migrated, on first need.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engines.model.scope import check_scope
from engines.settings import database_url
from engines.sqlite_reads import SqliteReader, sqlite_file

from .models import Artifact, Asset

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

ASSETS, ARTIFACTS, LEASES = "media_assets", "media_artifacts", "leases"
JSON_COLUMNS = {ASSETS: ("probe", "meta"), ARTIFACTS: ("meta",)}  # the JSON columns of db.py (a test compares)


class Registry:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        path = sqlite_file(self.url)
        self._reader = SqliteReader(path, JSON_COLUMNS) if path is not None else None
        if self._reader is None or not self._reader.schema_is_current():
            _ = self.engine  # create or migrate the database now, before any read

    @property
    def engine(self) -> Engine:
        """SQLAlchemy's engine for this URL, made (and the schema migrated) on first use."""
        with self._lock:
            if self._engine is None:
                from engines.database import get_engine

                self._engine = get_engine(self.url)
            return self._engine

    @property
    def _db(self) -> ModuleType:
        from . import db

        return db

    def _select(self, table: str, where: dict[str, Any], *, order_by: tuple[str, ...] = (),
                limit: int | None = None) -> list[dict[str, Any]]:
        """Rows of ``table`` whose columns equal ``where``: sqlite3 on SQLite, SQLAlchemy elsewhere."""
        if self._reader is not None:
            return self._reader.select(table, where, order_by=order_by, limit=limit)
        return self._db.select_rows(self.engine, table, where, order_by, limit)

    def _first(self, table: str, tenant: str, env: str, **equal: Any) -> dict[str, Any] | None:
        """The first row of ``table`` in this tenant's scope whose columns equal ``equal``."""
        check_scope(tenant, env)
        rows = self._select(table, {"tenant": tenant, "env": env, **equal}, limit=1)
        return rows[0] if rows else None

    # ------------------------------------------------------------------ assets

    def add_asset(self, asset: Asset) -> tuple[Asset, bool]:
        """Insert; when the tenant already has these bytes, the existing asset. (asset, created)."""
        try:
            self._db.insert_asset(self.engine, asset.model_dump(exclude={"artifacts", "schema_version"}))
            return asset, True
        except self._db.IntegrityError:
            existing = self.find_by_hash(asset.tenant, asset.env, asset.content_hash)
            if existing is None:
                raise
            return existing, False

    def find_by_hash(self, tenant: str, env: str, content_hash: str) -> Asset | None:
        row = self._first(ASSETS, tenant, env, content_hash=content_hash)
        return Asset(**row) if row else None

    def find_by_name(self, tenant: str, env: str, original_name: str) -> Asset | None:
        """The first asset of the tenant registered under this file name (imports link media by name)."""
        row = self._first(ASSETS, tenant, env, original_name=original_name)
        return Asset(**row) if row else None

    def get_asset(self, tenant: str, env: str, asset_id: str, *, with_artifacts: bool = True) -> Asset | None:
        row = self._first(ASSETS, tenant, env, id=asset_id)
        if row is None:
            return None
        asset = Asset(**row)
        if with_artifacts:
            asset = asset.model_copy(update={"artifacts": self.artifacts(tenant, env, asset_id)})
        return asset

    def update_asset_meta(self, tenant: str, env: str, asset_id: str, **values: Any) -> Asset | None:
        """Set keys of an asset's meta (the rest is kept); the updated asset, or None if unknown."""
        check_scope(tenant, env)
        if not self._db.merge_asset_meta(self.engine, tenant, env, asset_id, values):
            return None
        return self.get_asset(tenant, env, asset_id)

    # ------------------------------------------------------------------ artifacts

    def put_artifact(self, artifact: Artifact) -> Artifact:
        """Register an artifact; one per key (a regenerated object replaces its row)."""
        self._db.replace_artifact(self.engine, artifact.model_dump(exclude={"schema_version"}))
        return artifact

    def artifacts(self, tenant: str, env: str, asset_id: str, kind: str | None = None) -> list[Artifact]:
        check_scope(tenant, env)
        where = {"tenant": tenant, "env": env, "asset_id": asset_id, **({"kind": kind} if kind else {})}
        return [Artifact(**r) for r in self._select(ARTIFACTS, where, order_by=("created_at", "id"))]

    def artifact_by_key(self, tenant: str, env: str, key: str) -> Artifact | None:
        row = self._first(ARTIFACTS, tenant, env, key=key)
        return Artifact(**row) if row else None

    def delete_artifact(self, tenant: str, env: str, key: str) -> None:
        check_scope(tenant, env)
        self._db.delete_artifact(self.engine, tenant, env, key)

    # ------------------------------------------------------------------ leases

    def acquire_lease(self, name: str, owner: str, ttl: float) -> bool:
        """Hold ``name`` for ``ttl`` seconds if nobody else holds it (or their lease expired)."""
        return self._db.acquire_lease(self.engine, name, owner, ttl)

    def release_lease(self, name: str, owner: str) -> None:
        self._db.release_lease(self.engine, name, owner)

    def lease_holder(self, name: str) -> dict[str, Any] | None:
        rows = self._select(LEASES, {"name": name}, limit=1)
        return rows[0] if rows else None

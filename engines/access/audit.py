"""The audit log: one row per mutating HTTP request (who, which route, which object, what status).

Written after the answer is sent, never with a secret in it: the key is named by its id. Read with
``cutlite audit``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from engines.database import get_engine
from engines.settings import database_url

from .keys import utc_now
from .tables import audit_log


class AuditLog:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()

    def record(self, *, method: str, route: str, status: int, key_id: str | None = None, tenant: str | None = None,
               env: str | None = None, obj: str | None = None) -> None:
        with get_engine(self.url).begin() as conn:
            conn.execute(insert(audit_log).values(at=utc_now(), key_id=key_id, tenant=tenant, env=env, method=method,
                                                  route=route[:200], object=(obj or None) and obj[:200], status=status))

    def list(self, *, tenant: str | None = None, env: str | None = None, key_id: str | None = None,
             limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` rows, oldest first."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        for column, value in (("tenant", tenant), ("env", env), ("key_id", key_id)):
            if value:
                query = query.where(audit_log.c[column] == value)
        with get_engine(self.url).connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return rows[::-1]

"""Per-tenant storage quota: ``CUTLITE_TENANT_QUOTA_BYTES`` (unset: none) over every object the
registry lists for a tenant and env (sources, proxies, renders, studio files).

Checked before anything is written: an upload whose ``Content-Length`` would pass it is refused
before its body is read, and a render is refused while the tenant is at or over it.
"""

from __future__ import annotations

import os

from sqlalchemy import func, select

from engines.database import get_engine
from engines.errors import QuotaExceeded, ValidationError
from engines.media_v2.db import artifacts
from engines.settings import database_url


def quota_bytes() -> int | None:
    raw = (os.environ.get("CUTLITE_TENANT_QUOTA_BYTES") or "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError([f"CUTLITE_TENANT_QUOTA_BYTES: a whole number of bytes (got {raw!r})"], stage="config")
    return int(raw)


def used_bytes(tenant: str, env: str, url: str | None = None) -> int:
    query = select(func.coalesce(func.sum(artifacts.c.size), 0)).where(artifacts.c.tenant == tenant,
                                                                        artifacts.c.env == env)
    with get_engine(url or database_url()).connect() as conn:
        return int(conn.execute(query).scalar() or 0)


def check_quota(tenant: str, env: str, incoming: int, *, what: str) -> None:
    """Nothing, or ``QuotaExceeded`` when ``incoming`` more bytes would pass the tenant's quota."""
    quota = quota_bytes()
    if quota is None:
        return
    used = used_bytes(tenant, env)
    if used + incoming > quota or (incoming == 0 and used >= quota):
        raise QuotaExceeded(f"{what} refused: tenant {tenant} ({env}) stores {used} bytes of its {quota}-byte quota"
                            + (f" and this would add {incoming}" if incoming else ""), stage="quota",
                            used_bytes=used, quota_bytes=quota,
                            hint="delete objects or ask for a larger CUTLITE_TENANT_QUOTA_BYTES")

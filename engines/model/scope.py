"""Who owns a thing: tenant and env names, and job ids, validated the same way everywhere.

Every key, query and request is scoped by (tenant, env); these patterns are what keeps a
tenant's name from ever leaving its own prefix (no ``..``, no upper case, no unicode).
"""

from __future__ import annotations

import re

from engines.errors import ValidationError

TENANT_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
ENVS = ("dev", "staging", "prod")
JOB_ID_RE = re.compile(r"(?!chunks$)[a-z0-9][a-z0-9_-]{2,63}")  # "chunks" is the chunk cache's folder
ASSET_ID_RE = re.compile(r"ast_[0-9a-f]{20}")  # a registered asset, as media_v2 names it


def check_scope(tenant: object, env: object) -> tuple[str, str]:
    problems = []
    if not isinstance(tenant, str) or not TENANT_RE.fullmatch(tenant):
        problems.append(f"tenant: invalid tenant {tenant!r}: must match {TENANT_RE.pattern}")
    if env not in ENVS:
        problems.append(f"env: invalid env {env!r}: must be one of {', '.join(ENVS)}")
    if problems:
        raise ValidationError(problems, stage="scope")
    return tenant, env  # type: ignore[return-value]

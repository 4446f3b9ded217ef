"""API keys: a secret shown once, only its SHA-256 kept; each key is one tenant, one env, one role.

The secret is 32 random bytes (``cl_`` + URL-safe base64), so a plain SHA-256 is enough: there is
nothing to guess that a slow hash would protect (unlike a password). A request's key is looked up
by its hash and the stored hash compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, update

from engines.database import get_engine
from engines.errors import NotFound, ValidationError
from engines.model.scope import check_scope
from engines.settings import database_url

from .tables import api_keys

ROLES = ("viewer", "editor", "admin")  # each may do what the one before it may, and more
PREFIX = "cl_"
LAST_USED_EVERY = 60.0  # seconds: how stale a key's `last_used_at` may be (one write a minute, not per request)


@dataclass(frozen=True)
class ApiKey:
    id: str
    tenant: str
    env: str
    role: str
    name: str
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    def allows(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class KeyStore:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def engine(self):  # noqa: ANN201 - sqlalchemy Engine
        return get_engine(self.url)

    def create(self, tenant: str, env: str, *, role: str = "editor", name: str = "",
               secret: str | None = None) -> tuple[ApiKey, str]:
        """A new key and its secret (the only time the secret exists outside the caller). ``secret`` lets
        an operator bring a secret made elsewhere (a secrets manager); it must look like one of ours."""
        tenant, env = check_scope(tenant, env)
        if role not in ROLES:
            raise ValidationError([f"role: must be one of {', '.join(ROLES)} (got {role!r})"], stage="keys")
        if secret is None:
            secret = new_secret()
        elif not secret.startswith(PREFIX) or len(secret) < len(PREFIX) + 32:
            raise ValidationError(["secret: must start with cl_ and carry at least 32 more characters"], stage="keys")
        key = ApiKey(id="key_" + secrets.token_hex(8), tenant=tenant, env=env, role=role,
                     name=(name or f"{role} key")[:120], created_at=utc_now())
        with self.engine.begin() as conn:
            conn.execute(insert(api_keys).values(secret_hash=hash_secret(secret), **key.to_dict()))
        return key, secret

    def list(self, tenant: str | None = None, env: str | None = None) -> list[ApiKey]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if tenant:
            query = query.where(api_keys.c.tenant == tenant)
        if env:
            query = query.where(api_keys.c.env == env)
        with self.engine.connect() as conn:
            return [_key(row) for row in conn.execute(query).mappings()]

    def active_count(self, env: str | None = None) -> int:
        query = select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_(None))
        if env:
            query = query.where(api_keys.c.env == env)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def get(self, key_id: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        return _key(row) if row else None

    def revoke(self, key_id: str) -> ApiKey:
        with self.engine.begin() as conn:
            done = conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                                .values(revoked_at=utc_now())).rowcount
        key = self.get(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id!r}", stage="keys", hint="cutlite keys list shows every key")
        if not done and key.revoked_at is None:  # pragma: no cover - a concurrent un-revoke does not exist
            raise NotFound(f"API key {key_id!r} could not be revoked", stage="keys")
        return key

    def authenticate(self, secret: str) -> ApiKey | None:
        """The active key whose secret this is, or None (unknown, malformed or revoked)."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        digest = hash_secret(secret)
        with self.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.secret_hash == digest)).mappings().first()
        if row is None or not hmac.compare_digest(row["secret_hash"], digest) or row["revoked_at"] is not None:
            return None
        self._touch(row["id"])
        return _key(row)

    def _touch(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._used.get(key_id, -LAST_USED_EVERY) < LAST_USED_EVERY:
                return
            self._used[key_id] = now
        with self.engine.begin() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=utc_now()))


def _key(row: Any) -> ApiKey:
    return ApiKey(**{k: row[k] for k in ("id", "tenant", "env", "role", "name", "created_at", "last_used_at",
                                         "revoked_at")})

"""The HTTP side of access: who a request is (``Gate.principal``, a FastAPI dependency), the studio's
session cookie, and the audit middleware. ``engines.api`` mounts it with a few lines.

Order of the checks: a key (401: none, unknown or revoked), its rate (429), ``X-Tenant``/``X-Env``
that differ from the key's (403), the role the route needs (403). Objects of another tenant are
never looked up outside the key's scope, so they answer 404 like ids that do not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engines.errors import Forbidden, Unauthorized

from .audit import AuditLog
from .keys import ApiKey, KeyStore
from .ratelimit import RateLimiter

# POSTs that only read: a dry-run plan, and opening a studio session (which sets a cookie, nothing else).
READ_POSTS = frozenset({"/video_render/plan", "/studio/api/session"})
COOKIE = "cutlite_studio"
COOKIE_TTL = 12 * 3600
READS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Principal:
    """The caller, as its key says: the same ``tenant``/``env`` attributes the routes used before keys."""

    tenant: str
    env: str
    role: str
    key_id: str


def required_role(method: str, route: str) -> str:
    if route.startswith("/access/"):
        return "admin"  # key management
    return "viewer" if method in READS or route in READ_POSTS else "editor"


class Gate:
    def __init__(self, secret: bytes, keys: KeyStore | None = None, limiter: RateLimiter | None = None) -> None:
        self.secret = secret
        self.keys = keys or KeyStore()
        self.limiter = limiter or RateLimiter()

    # ------------------------------------------------------------ the dependency

    def principal(self, request: Request) -> Principal:
        key = self._key(request)
        self.limiter.take(key.id)
        for header, want in (("x-tenant", key.tenant), ("x-env", key.env)):
            sent = request.headers.get(header)
            if sent is not None and sent != want:
                raise Forbidden(f"header {header.title()}: {sent[:70]!r} is not this API key's scope", stage="auth",
                                hint="send no X-Tenant/X-Env, or the tenant and env the key was made for")
        route = getattr(request.scope.get("route"), "path", request.url.path)
        need = required_role(request.method, route)
        if not key.allows(need):
            raise Forbidden(f"a {key.role} key may not {request.method} {route}", stage="auth",
                            hint=f"use a key with the {need} role or higher")
        who = Principal(key.tenant, key.env, key.role, key.id)
        request.state.principal = who
        return who

    def _key(self, request: Request) -> ApiKey:
        header = request.headers.get("authorization")
        if header is None and request.method in READS and request.url.path.startswith("/studio/api/"):
            cookie = request.cookies.get(COOKIE)
            if cookie:  # the studio's media (filmstrips, a native HLS player): the page's own cookie
                key = self._cookie_key(cookie)
                if key is not None:
                    return key
        if header is None:
            raise Unauthorized("an API key is required: send Authorization: Bearer <key>", stage="auth",
                               hint="cutlite keys create --tenant T --env E prints one")
        scheme, _, secret = header.partition(" ")
        key = self.keys.authenticate(secret.strip()) if scheme.lower() == "bearer" else None
        if key is None:
            raise Unauthorized("the API key is unknown or revoked", stage="auth",
                               hint="send Authorization: Bearer <key> with an active key (cutlite keys list)")
        return key

    # ------------------------------------------------------------ the studio's cookie

    def cookie_value(self, key_id: str, now: float | None = None) -> str:
        expires = int(now if now is not None else time.time()) + COOKIE_TTL
        return f"{key_id}.{expires}.{self._cookie_sig(key_id, expires)}"

    def _cookie_sig(self, key_id: str, expires: int) -> str:
        return hmac.new(self.secret, f"studio\n{key_id}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def _cookie_key(self, value: str) -> ApiKey | None:
        """The active key a cookie was issued to, while the cookie is unexpired and unchanged."""
        key_id, _, rest = value.partition(".")
        expires, _, sig = rest.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        if not hmac.compare_digest(self._cookie_sig(key_id, int(expires)), sig):
            return None
        key = self.keys.get(key_id)
        return key if key is not None and key.revoked_at is None else None

    def set_cookie(self, response: Response, who: Principal, secure: bool) -> None:
        response.set_cookie(COOKIE, self.cookie_value(who.key_id), max_age=COOKIE_TTL, httponly=True,
                            samesite="strict", secure=secure, path="/studio/api/")


class AuditMiddleware:
    """Records every request that is not a read, after its answer: key id, route, object, status.

    The object is the route's path parameters, else the ``id`` (or ``session``) of a JSON answer
    (what a POST created)."""

    def __init__(self, app: ASGIApp, log: AuditLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 500, "body": b"", "json": False}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                ctype = dict(message.get("headers") or []).get(b"content-type", b"")
                seen["json"] = ctype.startswith(b"application/json")
            elif message["type"] == "http.response.body" and seen["json"] and len(seen["body"]) < 65536:
                seen["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            from starlette.concurrency import run_in_threadpool

            await run_in_threadpool(self._record, scope, seen)

    def _record(self, scope: Scope, seen: dict[str, Any]) -> None:
        who = (scope.get("state") or {}).get("principal")
        route = getattr(scope.get("route"), "path", None) or scope.get("path", "")
        obj = "/".join(str(v) for v in (scope.get("path_params") or {}).values()) or _created(seen)
        try:
            self.log.record(method=scope["method"], route=route, status=int(seen["status"]), obj=obj,
                            key_id=getattr(who, "key_id", None), tenant=getattr(who, "tenant", None),
                            env=getattr(who, "env", None))
        except Exception:  # noqa: BLE001 - an audit write that fails must not turn an answer into an error
            import logging

            logging.getLogger("cutlite.audit").exception("audit write failed for %s %s", scope["method"], route)


def _created(seen: dict[str, Any]) -> str | None:
    if not seen["json"] or not seen["body"]:
        return None
    try:
        doc = json.loads(seen["body"])
    except ValueError:
        return None
    if isinstance(doc, dict):
        value = doc.get("id") or doc.get("session") or (doc.get("key") or {}).get("id")
        return str(value) if value else None
    return None

"""Key management over HTTP, for ``admin`` keys: their own tenant and env's keys, nothing wider.

``GET /access/keys`` lists them, ``POST /access/keys`` makes one (the secret is in that answer only),
``POST /access/keys/{key_id}/revoke`` revokes one; another scope's key id is a 404.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict

from engines.errors import NotFound

from .keys import KeyStore


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str = "editor"
    name: str = ""


def keys_router(scope: Callable[..., Any], keys: KeyStore) -> APIRouter:
    router = APIRouter()

    @router.get("/access/keys")
    def list_keys(sc: Any = Depends(scope)) -> dict[str, Any]:
        return {"keys": [k.to_dict() for k in keys.list(sc.tenant, sc.env)]}

    @router.post("/access/keys", status_code=201)
    def create_key(body: NewKey, sc: Any = Depends(scope)) -> dict[str, Any]:
        key, secret = keys.create(sc.tenant, sc.env, role=body.role, name=body.name)
        return {"key": key.to_dict(), "secret": secret}

    @router.post("/access/keys/{key_id}/revoke")
    def revoke_key(key_id: str, sc: Any = Depends(scope)) -> dict[str, Any]:
        key = keys.get(key_id)
        if key is None or (key.tenant, key.env) != (sc.tenant, sc.env):
            raise NotFound(f"no API key {key_id[:40]!r}", stage="keys")
        return {"key": keys.revoke(key_id).to_dict()}

    return router

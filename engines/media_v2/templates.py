"""Stored templates: a tenant's template projects in the object store, named by their content.

The id is ``tpl_`` + the first 20 hex digits of the sha256 of the template's canonical JSON (keys
sorted), so storing the same template again gives the same id and nothing new.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from engines.errors import NotFound

from . import keys
from .storage import ObjectStore


def template_id(doc: dict[str, Any]) -> str:
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "tpl_" + hashlib.sha256(canonical.encode()).hexdigest()[:20]


def put_template(store: ObjectStore, tenant: str, env: str, doc: dict[str, Any]) -> tuple[str, bool]:
    """Store ``doc``; (its id, whether it was new)."""
    tid = template_id(doc)
    key = keys.template_key(tenant, env, tid)
    if store.exists(key):
        return tid, False
    with tempfile.TemporaryDirectory(prefix="cutlite-template-") as work:
        path = Path(work) / "template.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        store.put_file(key, path, move=True)
    return tid, True


def get_template(store: ObjectStore, tenant: str, env: str, tid: str) -> dict[str, Any]:
    """The stored template; NotFound for an id the tenant has not stored (or another tenant's)."""
    key = keys.template_key(tenant, env, tid)
    if not store.exists(key):
        raise NotFound(f"no template {tid}", stage="templates")
    return json.loads(store.local_path(key).read_text(encoding="utf-8"))

"""Object keys, built only from validated parts, so nothing a tenant sends leaves its prefix.

    tenants/{tenant}/{env}/media_v2/{asset_id}/source.{ext}
    tenants/{tenant}/{env}/media_v2/{asset_id}/proxy_{profile}.mp4
    tenants/{tenant}/{env}/media_v2/{asset_id}/filmstrip.jpg | filmstrip.vtt | waveform.json  (studio)
    tenants/{tenant}/{env}/media_v2/renders/{job_id}/output.mp4  (output.webm, .mov, .gif, .m4a: the profile's)
    tenants/{tenant}/{env}/media_v2/templates/{template_id}.json
"""

from __future__ import annotations

import re
import secrets

from engines.errors import ValidationError
from engines.ffmpeg.profiles import PROFILES
from engines.model.scope import ASSET_ID_RE, JOB_ID_RE, check_scope

ARTIFACT_ID_RE = re.compile(r"art_[0-9a-f]{20}")
EXT_RE = re.compile(r"[a-z0-9]{1,8}")
# what a whole key may look like; checked again by every store before touching anything
KEY_RE = re.compile(r"tenants/[a-z0-9][a-z0-9-]{0,62}/(dev|staging|prod)/media_v2/"
                    r"(ast_[0-9a-f]{20}/(source\.[a-z0-9]{1,8}|proxy_[a-z0-9_]{1,32}\.mp4|filmstrip\.(jpg|vtt)|waveform\.json)"
                    r"|renders/(?!chunks/)[a-z0-9][a-z0-9_-]{2,63}/(?!\.)[a-z0-9_.-]{1,64}"
                    r"|renders/chunks/[0-9a-f]{64}\.(mp4|mov|webm)"
                    r"|templates/tpl_[0-9a-f]{20}\.json)")


def new_asset_id() -> str:
    return "ast_" + secrets.token_hex(10)


def new_artifact_id() -> str:
    return "art_" + secrets.token_hex(10)


def check_asset_id(asset_id: object) -> str:
    if not isinstance(asset_id, str) or not ASSET_ID_RE.fullmatch(asset_id):
        raise ValidationError([f"asset_id: invalid asset id {asset_id!r}"], stage="scope")
    return asset_id


def tenant_prefix(tenant: str, env: str) -> str:
    check_scope(tenant, env)
    return f"tenants/{tenant}/{env}/media_v2/"


def source_key(tenant: str, env: str, asset_id: str, ext: str) -> str:
    ext = (ext or "bin").lower()
    if not EXT_RE.fullmatch(ext):
        ext = "bin"
    return tenant_prefix(tenant, env) + f"{check_asset_id(asset_id)}/source.{ext}"


def proxy_key(tenant: str, env: str, asset_id: str, profile: str) -> str:
    if profile not in PROFILES:
        raise ValidationError([f"profile: unknown profile {profile!r}"], stage="scope")
    return tenant_prefix(tenant, env) + f"{check_asset_id(asset_id)}/proxy_{profile}.mp4"


STUDIO_NAMES = ("filmstrip.jpg", "filmstrip.vtt", "waveform.json")


def studio_key(tenant: str, env: str, asset_id: str, name: str) -> str:
    """The studio's derived objects of an asset (thumbnail sprite, its cues, audio peaks)."""
    if name not in STUDIO_NAMES:
        raise ValidationError([f"name: unknown studio object {name!r}"], stage="scope")
    return tenant_prefix(tenant, env) + f"{check_asset_id(asset_id)}/{name}"


def render_key(tenant: str, env: str, job_id: str, name: str = "output.mp4") -> str:
    if not JOB_ID_RE.fullmatch(job_id) or not re.fullmatch(r"(?!\.)[a-z0-9_.-]{1,64}", name) or ".." in name:
        raise ValidationError([f"job_id: invalid job id or file name {job_id!r}/{name!r}"], stage="scope")
    return tenant_prefix(tenant, env) + f"renders/{job_id}/{name}"


def chunk_key(tenant: str, env: str, content_hash: str, container: str = "mp4") -> str:
    """A rendered chunk, content-addressed so that any job of the tenant can reuse it."""
    if not re.fullmatch(r"[0-9a-f]{64}", content_hash) or container not in ("mp4", "mov", "webm"):
        raise ValidationError([f"chunk hash: invalid {content_hash!r}.{container}"], stage="scope")
    return tenant_prefix(tenant, env) + f"renders/chunks/{content_hash}.{container}"


def check_key(key: str) -> str:
    """Every store calls this before any I/O: the key must be one the builders above make."""
    if not isinstance(key, str) or not KEY_RE.fullmatch(key) or "/../" in key:
        raise ValidationError([f"key: refusing object key {key!r}"], stage="storage")
    return key


TEMPLATE_ID_RE = re.compile(r"tpl_[0-9a-f]{20}")


def template_key(tenant: str, env: str, template_id: str) -> str:
    """A stored template project (``POST /templates``), named by its content."""
    if not isinstance(template_id, str) or not TEMPLATE_ID_RE.fullmatch(template_id):
        raise ValidationError([f"template_id: invalid template id {template_id!r}"], stage="scope")
    return tenant_prefix(tenant, env) + f"templates/{template_id}.json"

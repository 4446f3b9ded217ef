"""media_v2 models: an Asset (a tenant's media file and its probe facts) and its Artifacts
(source, proxy, render objects in the store). Tenant and env are validated on every model."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from engines.model.scope import check_scope

from .keys import check_key

SCHEMA = "media_v2/1"


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class _Scoped(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tenant: str
    env: str

    @model_validator(mode="after")
    def _scope(self) -> "_Scoped":
        check_scope(self.tenant, self.env)
        return self


class Artifact(_Scoped):
    """An object in the store. Proxy and render artifacts carry ``meta`` with at least
    ``profile_name``, ``source_asset_id`` (proxies) and ``hw_encoder_used``."""

    schema_version: str = SCHEMA
    id: str
    asset_id: str | None
    kind: Literal["source", "proxy", "render", "filmstrip", "waveform", "captions"]  # captions: a render's SRT/VTT sidecar
    profile: str | None = None
    key: str
    size: int
    checksum: str  # sha256 of the bytes
    meta: dict[str, Any] = {}
    created_at: str

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return check_key(v)

    @model_validator(mode="after")
    def _meta(self) -> "Artifact":
        if not self.key.startswith(f"tenants/{self.tenant}/{self.env}/media_v2/"):
            raise ValueError("artifact key outside its tenant's prefix")
        if self.kind in ("proxy", "render"):
            missing = [k for k in ("profile_name", "hw_encoder_used") if k not in self.meta]
            if self.kind == "proxy" and "source_asset_id" not in self.meta:
                missing.append("source_asset_id")
            if missing:
                raise ValueError(f"{self.kind} artifact meta lacks {', '.join(missing)}")
        return self


class Asset(_Scoped):
    schema_version: str = SCHEMA
    id: str
    kind: Literal["video", "audio", "image", "lut"]  # lut: a .cube 3D LUT (checked, never probed)
    content_hash: str
    original_name: str
    source_key: str
    size: int
    probe: dict[str, Any]
    created_at: str
    meta: dict[str, Any] = {}  # learnt after registration: "damage" (spans a full decode found)
    artifacts: list[Artifact] = []

    @field_validator("probe")
    @classmethod
    def _no_path(cls, v: dict[str, Any]) -> dict[str, Any]:
        """Probe facts never carry a server path (rows stored before this rule included)."""
        return {k: x for k, x in v.items() if k != "path"}

    @property
    def duration(self) -> float | None:
        return self.probe.get("duration_seconds")

"""The media library: registry + object store, the one place that turns files into assets.

Registration is keyed by content hash per tenant and env, so the same bytes are never
registered twice. The source is copied into the store (``.../{asset_id}/source.{ext}``) and
probed before the asset row exists: a crash in between leaves at most an unreferenced object,
never an asset without its source.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO

from engines.errors import AssetError, AssetNotFound, MediaTooLong, StorageError
from engines.ffmpeg.damage import DamageSpan
from engines.ffmpeg.probe import MediaInfo, probe
from engines.model.cube import MAX_BYTES, CubeError, check_cube_bytes, is_cube
from engines.model.project import Project
from engines.settings import storage_url

from . import identities, keys
from .models import Artifact, Asset, utc_now
from .registry import Registry
from .storage import ObjectStore, copy_limited, open_store, sha256_file

DEFAULT_MAX_UPLOAD = 2 * 1024**3


def max_upload_bytes() -> int:
    return int(os.environ.get("CUTLITE_MAX_UPLOAD_BYTES") or DEFAULT_MAX_UPLOAD)


DEFAULT_MAX_SECONDS = 4 * 3600


def max_media_seconds() -> float:
    """The longest medium accepted (``CUTLITE_MAX_MEDIA_SECONDS``, default 4 h): a tiny file can
    claim days of duration and make every proxy and render of it run for days."""
    return float(os.environ.get("CUTLITE_MAX_MEDIA_SECONDS") or DEFAULT_MAX_SECONDS)


class MediaLibrary:
    def __init__(self, registry: Registry | None = None, stores: dict[str, ObjectStore] | None = None) -> None:
        self.registry = registry or Registry()
        self._stores: dict[str, ObjectStore] = dict(stores or {})
        self._lock = threading.Lock()

    def store(self, env: str) -> ObjectStore:
        """The object store for ``env`` (policy in ``engines.settings.storage_url``)."""
        with self._lock:
            if env not in self._stores:
                self._stores[env] = open_store(storage_url(env))
            return self._stores[env]

    # ------------------------------------------------------------------ registration

    def register_file(self, tenant: str, env: str, path: str | Path, *, original_name: str | None = None,
                      move: bool = False) -> tuple[Asset, bool]:
        """The asset for this file's bytes, registering it if new. (asset, created)."""
        keys.check_scope(tenant, env)
        src = Path(path)
        if not src.is_file():
            raise AssetError(f"file not found: {src}", stage="register", path=str(src))
        if not move:  # a local file registered before and unchanged: no full hash (identities.py)
            known = identities.known_asset(tenant, env, src)
            asset = self.registry.get_asset(tenant, env, known) if known else None
            if asset is not None and self.store(env).exists(asset.source_key):
                return asset, False
        digest = sha256_file(src)
        existing = self.registry.find_by_hash(tenant, env, digest)
        if existing is not None and self.store(env).exists(existing.source_key):
            if not move:
                identities.remember(tenant, env, src, existing.id)
            return existing, False
        name = original_name or src.name
        if is_cube(name):  # a LUT: checked as one (the line that is wrong), never probed
            try:
                if src.stat().st_size > MAX_BYTES:
                    raise CubeError(f"LUT file of {src.stat().st_size} bytes is over the {MAX_BYTES} byte limit")
                lut = check_cube_bytes(src.read_bytes())
            except CubeError as exc:
                raise AssetError(f"{_safe_name(name)}: {exc}", stage="register") from None
            kind, facts = "lut", {"lut_size": lut.size}
        else:
            info = probe(src)  # refuse what is not media before anything is stored
            kind, facts = info.kind, info.facts()
        if kind != "lut" and info.duration is not None and info.duration > max_media_seconds():
            raise MediaTooLong(f"{_safe_name(original_name or src.name)} lasts {float(info.duration):.0f} s, longer "
                             f"than the {max_media_seconds():.0f} s accepted", stage="register",
                             hint="trim the file, or raise CUTLITE_MAX_MEDIA_SECONDS")
        asset_id = existing.id if existing else keys.new_asset_id()
        ext = Path(name).suffix.lstrip(".").lower() or "bin"
        key = existing.source_key if existing else keys.source_key(tenant, env, asset_id, ext)
        size, checksum = self.store(env).put_file(key, src, move=move)
        asset = Asset(id=asset_id, tenant=tenant, env=env, kind=kind, content_hash=checksum,
                      original_name=_safe_name(name), source_key=key, size=size, probe=facts,
                      created_at=utc_now())
        asset, created = self.registry.add_asset(asset) if existing is None else (existing, False)
        self.registry.put_artifact(Artifact(
            id=keys.new_artifact_id(), tenant=tenant, env=env, asset_id=asset.id, kind="source", key=key,
            size=size, checksum=checksum, meta={"original_name": asset.original_name}, created_at=utc_now()))
        if not move:
            identities.remember(tenant, env, src, asset.id)
        return asset, created

    def register_upload(self, tenant: str, env: str, stream: BinaryIO, filename: str) -> tuple[Asset, bool]:
        """Stream an upload to a local spool (size-limited), then register it like a file."""
        keys.check_scope(tenant, env)
        with tempfile.TemporaryDirectory(prefix="cutlite-upload-") as spool:
            dest = Path(spool) / ("upload" + _safe_suffix(filename))
            with open(dest, "wb") as out:
                copy_limited(stream, out, max_upload_bytes(), filename)
            return self.register_file(tenant, env, dest, original_name=filename, move=True)

    # ------------------------------------------------------------------ lookups

    def get_asset(self, tenant: str, env: str, asset_id: str) -> Asset:
        keys.check_scope(tenant, env)
        asset = self.registry.get_asset(tenant, env, asset_id) if keys.ASSET_ID_RE.fullmatch(asset_id) else None
        if asset is None:
            raise AssetNotFound(f"asset {asset_id} not found", stage="lookup", asset_id=asset_id)
        return asset

    def source_path(self, asset: Asset) -> Path:
        try:
            return self.store(asset.env).local_path(asset.source_key)
        except StorageError as exc:
            raise AssetError(f"the source of asset {asset.id} is missing from the store", stage="lookup",
                             asset_id=asset.id, hint="re-upload the file") from exc

    # ------------------------------------------------------------------ damage

    def record_damage(self, asset: Asset, spans: list[DamageSpan], found_by: str) -> Asset:
        """Store what a full decode of the asset's source found (an empty list: it decoded clean)."""
        updated = self.registry.update_asset_meta(asset.tenant, asset.env, asset.id,
                                                  damage=[s.to_dict() for s in spans], damage_found_by=found_by)
        return updated or asset

    def _registered(self, project: Project, asset_id: str) -> Asset | None:
        """A project's ``asset_id`` in its tenant/env (None when malformed or unknown)."""
        if not keys.ASSET_ID_RE.fullmatch(asset_id):
            return None
        return self.registry.get_asset(project.tenant, project.env, asset_id, with_artifacts=False)

    def damage_of(self, project: Project, asset_id: str) -> tuple[DamageSpan, ...]:
        """``sources.DamageLookup``: the damaged spans known for a project's ``asset_id``."""
        return known_damage(self._registered(project, asset_id))

    def facts_of(self, project: Project, asset_id: str, path: str) -> MediaInfo | None:
        """``sources.FactsLookup``: a project's ``asset_id`` as registered (``registered_facts``):
        a render, and every worker that rebuilds a job's plan, need not probe it again."""
        asset = self._registered(project, asset_id)
        return registered_facts(asset, Path(path)) if asset else None

    def lookup(self, project: Project, asset_id: str) -> str | None:
        """``sources.AssetLookup``: the local file behind a project's ``asset_id`` (same tenant/env)."""
        try:
            return str(self.source_path(self.get_asset(project.tenant, project.env, asset_id)))
        except AssetError:
            return None


def registered_facts(asset: Asset, path: Path) -> MediaInfo | None:
    """The source's probe facts as registered, for ``path`` (its object in the store: the bytes
    never change under a key), when they hold: the file has the registered size and the facts have
    every field today's probe gives (older rows are probed again). Saves a probe, and PyAV's import."""
    try:
        if path.stat().st_size == asset.size:
            return MediaInfo.from_facts(asset.probe, str(path))
    except (OSError, KeyError, TypeError, ValueError):
        pass
    return None


def known_damage(asset: Asset | None) -> tuple[DamageSpan, ...]:
    """The damaged spans stored in an asset's meta (none when never scanned or clean)."""
    return tuple(DamageSpan.from_dict(d) for d in (asset.meta.get("damage") or [])) if asset else ()


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")).replace("\x00", "")
    return base[:200] or "upload"


def _safe_suffix(name: str) -> str:
    suffix = Path(_safe_name(name)).suffix.lower()
    return suffix if keys.EXT_RE.fullmatch(suffix.lstrip(".") or "-") else ".bin"


"""Derived objects of an asset (filmstrip sprite and cues, audio peaks), made once and reused.

Like proxies: reused by key after checking that every object exists with its registered size
and was made by the current ``format``; otherwise made under a registry lease, so concurrent
requests (threads, processes, machines) make it once. Objects are written into a private work
folder, stored atomically, and registered last: a failure leaves nothing registered.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from engines.errors import AssetNotReady
from engines.media_v2 import keys
from engines.media_v2.library import MediaLibrary
from engines.media_v2.models import Artifact, Asset, utc_now
from engines.owners import lease_owner

Make = Callable[[Path], dict[str, Any]]  # writes one file per name into the folder; returns meta


def existing(library: MediaLibrary, asset: Asset, names: list[str], fmt: int) -> list[Artifact] | None:
    found = []
    for name in names:
        key = keys.studio_key(asset.tenant, asset.env, asset.id, name)
        art = library.registry.artifact_by_key(asset.tenant, asset.env, key)
        if art is None or art.meta.get("format") != fmt or library.store(asset.env).size(key) != art.size:
            return None
        found.append(art)
    return found


def ensure(library: MediaLibrary, asset: Asset, kind: str, names: list[str], fmt: int, make: Make, *,
           lease_wait: float = 300.0, ttl: float = 600.0) -> list[Artifact]:
    """The artifacts ``names`` of ``asset``: reused, or made by ``make`` under a lease."""
    lease = f"studio:{keys.studio_key(asset.tenant, asset.env, asset.id, names[0])}"
    owner = lease_owner()
    deadline = time.monotonic() + lease_wait
    pause = threading.Event()
    while True:
        found = existing(library, asset, names, fmt)
        if found is not None:
            return found
        if library.registry.acquire_lease(lease, owner, ttl):
            try:
                return existing(library, asset, names, fmt) or _make(library, asset, kind, names, fmt, make)
            finally:
                library.registry.release_lease(lease, owner)
        if time.monotonic() > deadline:
            raise AssetNotReady(f"waited {lease_wait:.0f} s for another request to make the {kind} of {asset.id}",
                             stage="studio", retryable=True)
        pause.wait(0.2)


def _make(library: MediaLibrary, asset: Asset, kind: str, names: list[str], fmt: int, make: Make) -> list[Artifact]:
    store = library.store(asset.env)
    with tempfile.TemporaryDirectory(prefix="cutlite-studio-") as work:
        meta = {**make(Path(work)), "format": fmt, "source_asset_id": asset.id}
        stored = []
        for name in names:
            key = keys.studio_key(asset.tenant, asset.env, asset.id, name)
            size, checksum = store.put_file(key, Path(work) / name, move=True)
            stored.append((key, size, checksum))
    return [library.registry.put_artifact(Artifact(
        id=keys.new_artifact_id(), tenant=asset.tenant, env=asset.env, asset_id=asset.id, kind=kind, key=key,
        size=size, checksum=checksum, meta=meta, created_at=utc_now())) for key, size, checksum in stored]

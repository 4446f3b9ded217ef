"""A local file's registration found by a cheap identity before any full hash.

Registering a local file means hashing all of its bytes (the registry is content-addressed). A
preview of a project of local files would hash every source on every cold start: seconds for
camera files, for a window that renders in a few hundred milliseconds. So each registration also
notes the file's cheap identity — size, modification time and a hash of three 64 KiB samples
(start, middle, end) — under ``CUTLITE_HOME/cache``; a later lookup of the same path whose cheap
identity still matches returns the asset without reading the whole file. Anything that differs
(an edited, replaced or touched file) falls back to the full hash. The note is local to this
machine, like the path it describes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engines import cache_notes

SAMPLE = 64 * 1024


def cheap_identity(path: Path) -> str:
    """``size:mtime_ns:sampled-hash`` of a file."""
    st = os.stat(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for offset in sorted({0, max(0, st.st_size // 2 - SAMPLE // 2), max(0, st.st_size - SAMPLE)}):
            f.seek(offset)
            h.update(f.read(SAMPLE))
    return f"{st.st_size}:{st.st_mtime_ns}:{h.hexdigest()[:32]}"


NOTES = "file-identities.json"


def _entry(tenant: str, env: str, path: Path) -> str:
    return f"{tenant}/{env}:{os.path.realpath(path)}"


def known_asset(tenant: str, env: str, path: Path) -> str | None:
    """The asset id last registered for this path, if the file's cheap identity is unchanged."""
    note = cache_notes.read(NOTES).get(_entry(tenant, env, path))
    if not note:
        return None
    try:
        same = note.get("identity") == cheap_identity(path)
    except OSError:
        return None
    return note.get("asset_id") if same else None


def remember(tenant: str, env: str, path: Path, asset_id: str) -> None:
    """Note the registration; a folder that cannot be written only costs a full hash next time."""
    try:
        identity = cheap_identity(path)
    except OSError:
        return
    cache_notes.update(NOTES, _entry(tenant, env, path), {"identity": identity, "asset_id": asset_id})

"""What every new process would otherwise ask the ffmpeg binary: where the bundled one lives and
which version it is, kept on disk.

Locating imageio-ffmpeg's bundled binary runs it once (``ffmpeg -version``, to validate it) and the
runner runs it again for its version: ~30 ms of a cold ``cutlite preview`` that renders in a few
hundred. Both answers are stored under ``CUTLITE_HOME/cache`` with the binary's identity (real
path, size, modification time); a binary that changed in any of these is asked again. A folder
that cannot be written only costs the next process those runs.
"""

from __future__ import annotations

import os
from typing import Any

from engines import cache_notes

NOTES = "ffmpeg-binaries.json"


def _identity(binary: str) -> list[Any] | None:
    try:
        st = os.stat(binary)
    except OSError:
        return None
    return [os.path.realpath(binary), st.st_size, st.st_mtime_ns]


def recall(fact: str) -> str | None:
    """The binary path or value noted for ``fact``, if that binary is unchanged since."""
    note = cache_notes.read(NOTES).get(fact)
    if not isinstance(note, dict) or not note.get("binary"):
        return None
    same = note.get("identity") is not None and note.get("identity") == _identity(note["binary"])
    return note.get("value") if same else None


def note(fact: str, binary: str, value: str) -> None:
    """Keep ``value`` for ``fact``, valid while ``binary`` stays the same file."""
    identity = _identity(binary)
    if identity is not None:
        cache_notes.update(NOTES, fact, {"binary": binary, "identity": identity, "value": value})

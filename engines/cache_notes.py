"""Small JSON notes under ``CUTLITE_HOME/cache`` that spare a new process work it did before.

Each note file is one JSON object, read whole and updated atomically (written aside, then renamed)
under a process-wide lock. Every note is a hint keyed by what it depends on, checked by its reader:
a missing, unreadable or unwritable file only costs the work it would have saved.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from engines.settings import home

_lock = threading.Lock()


def read(name: str) -> dict[str, Any]:
    """The notes in ``cache/{name}`` ({} when absent or unreadable)."""
    try:
        doc = json.loads((home() / "cache" / name).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def update(name: str, key: str, value: Any) -> None:
    """Set ``key`` in ``cache/{name}``; a folder that cannot be written is left as it is."""
    target = home() / "cache" / name
    try:
        with _lock:
            doc = read(name)
            doc[key] = value
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(doc))
            os.replace(tmp, target)
    except OSError:
        pass

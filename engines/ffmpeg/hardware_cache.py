"""The hardware report kept on disk, so a new process does not repeat the trial encodes.

Trial-encoding every listed GPU encoder costs a few hundred milliseconds per process: more than a
short preview renders in. The report is stored under ``CUTLITE_HOME/cache`` keyed by what decides
it: the ffmpeg binary (path, size, modification time), the GPU device nodes present, and the
driver versions the kernel reports. Any of them changing makes a new key, so a report is never
reused for another binary or another GPU set-up; ``cutlite doctor --refresh`` probes again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from glob import glob
from pathlib import Path
from typing import Any

from engines.settings import home

CACHE_VERSION = 1
DEVICE_GLOBS = ("/dev/dri/*", "/dev/nvidia*", "/dev/nvhost*")
DRIVER_FILES = ("/proc/driver/nvidia/version", "/sys/module/i915/version", "/sys/module/amdgpu/version")


def machine_identity(ffmpeg: str) -> str | None:
    """What the hardware report depends on, as one hash; None when the binary cannot be examined
    (then nothing is cached on disk)."""
    try:
        st = os.stat(ffmpeg)
    except OSError:
        return None
    drivers = {}
    for name in DRIVER_FILES:
        try:
            drivers[name] = Path(name).read_text(errors="replace")[:400]
        except OSError:
            continue
    doc = {"version": CACHE_VERSION, "ffmpeg": [os.path.realpath(ffmpeg), st.st_size, st.st_mtime_ns],
           "devices": sorted(p for g in DEVICE_GLOBS for p in glob(g)), "drivers": drivers}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def cache_path(identity: str) -> Path:
    return home() / "cache" / f"hardware-{identity}.json"


def load(identity: str) -> dict[str, Any] | None:
    """The stored report for ``identity``, or None (absent, unreadable or of another version)."""
    try:
        doc = json.loads(cache_path(identity).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("identity") == identity else None


def store(identity: str, report: Any) -> None:
    """Write the report atomically; a folder that cannot be written only costs the next process a probe."""
    path = cache_path(identity)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"identity": identity, **asdict(report)}))
        os.replace(tmp, path)
    except OSError:
        pass

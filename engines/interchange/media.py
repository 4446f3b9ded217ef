"""Finding an imported timeline's media on this machine.

Timelines name their media with paths from the machine they were made on (``C:/Users/...``,
``/Volumes/...``). A path that exists here (absolute, or relative to the timeline's folder) is
kept; otherwise the file is looked up by its name under each ``--media-root`` in order, then by
an optional resolver (the HTTP import asks media_v2 for an asset of the tenant with that name).
What is still not found stays an asset whose file is missing, named in a warning: a preview draws
it as a slate, a render refuses until the file is there (``--media-root`` or media_v2).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable

from .document import file_name

# file name -> an asset reference ({"asset_id": ...}) or None
Resolver = Callable[[str], dict[str, str] | None]


def index_roots(roots: Iterable[str | Path]) -> dict[str, str]:
    """file name (case-folded) -> first path with that name, walking each root in order."""
    found: dict[str, str] = {}
    for root in roots:
        for folder, dirs, files in os.walk(Path(root).expanduser()):
            dirs.sort()
            for name in sorted(files):
                found.setdefault(name.casefold(), str(Path(folder, name).resolve()))
    return found


def resolve_media(assets: dict[str, dict[str, Any]], *, base_dir: Path | None, media_roots: Iterable[str | Path] = (),
                  resolver: Resolver | None = None, local_files: bool = True) -> list[str]:
    """Rewrite each ``{"path": ...}`` asset in place to a file found here; warnings for the rest.

    ``local_files=False`` (HTTP): nothing on the server's disk is looked at and a missing asset
    keeps only its file name, so no server path can reach the response.
    """
    warnings: list[str] = []
    roots = list(media_roots)
    by_name = index_roots(roots) if local_files and roots else {}
    for name, ref in assets.items():
        original = ref.get("path")
        if not isinstance(original, str):
            continue
        if local_files:
            direct = Path(original).expanduser()
            if not direct.is_absolute() and base_dir is not None:
                direct = base_dir / direct
            if _is_file(direct):
                ref["path"] = str(direct.resolve())
                continue
        wanted = file_name(original)
        hit = by_name.get(wanted.casefold())
        if hit:
            ref["path"] = hit
            continue
        registered = resolver(wanted) if resolver else None
        if registered:
            assets[name] = registered
            continue
        if not local_files:
            ref["path"] = wanted
        where = f" under {len(roots)} media root(s)" if roots else " (give --media-root to look it up by name)"
        warnings.append(f"assets.{name}: media \"{original if local_files else wanted}\" not found{where}; "
                        f"previews show a missing-media slate; a render needs the file")
    return warnings


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False

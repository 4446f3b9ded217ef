"""Interchange: other editors' timelines in, OpenTimelineIO out.

``import_timeline`` reads a CapCut/JianYing draft (``draft_content.json``, ``draft_info.json`` or
the draft folder), an OTIO file, or, with the ``interchange`` extra, a CMX3600 EDL, FCP 7 XML,
FCPXML or Kdenlive project, and returns a validated project document with every warning about
what could not be carried over. ``export_otio`` writes a project as OTIO (``otio_export``).
Pure code and file reading: nothing here runs ffmpeg.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from engines.documents import read_json_file
from engines.errors import CutliteError, ValidationError
from engines.model.project import load_project

from . import capcut
from .media import Resolver, resolve_media
from .otio_import import ADAPTERS, read_timeline, timeline_to_project

__all__ = ["ImportResult", "import_timeline", "is_importable", "IMPORT_SUFFIXES"]

IMPORT_SUFFIXES = tuple(sorted(ADAPTERS))
DEFAULT_TENANT, DEFAULT_ENV = "local", "dev"


@dataclass
class ImportResult:
    project: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def is_importable(path: str | Path) -> bool:
    """A file (or draft folder) that ``import_timeline`` reads rather than a cutlite project."""
    p = Path(path)
    if p.is_dir():
        return any((p / name).is_file() for name in capcut.DRAFT_FILES)
    if p.name in capcut.DRAFT_FILES or p.suffix.lower() in ADAPTERS:
        return True
    return p.suffix.lower() == ".json" and p.is_file() and _is_draft_json(p)


def import_timeline(path: str | Path, media_roots: Iterable[str | Path] = (), tenant: str | None = None,
                    env: str | None = None, *, resolver: Resolver | None = None, local_files: bool = True,
                    name: str | None = None) -> ImportResult:
    """Read a timeline file into a validated project document; never writes anything.

    ``local_files=False`` (HTTP uploads): media is looked up only through ``resolver`` and a missing
    asset keeps only its file name. ``name`` is the file's original name when ``path`` is a
    temporary copy."""
    p = Path(path)
    shown = name or p.name
    if p.is_dir():
        project_id = _project_id(p.name)
    elif Path(shown).name in capcut.DRAFT_FILES:
        project_id = _project_id(p.parent.name if name is None else "imported")
    else:
        project_id = _project_id(Path(shown).stem)
    try:
        doc, warnings, base = _convert(p, shown, project_id, name, tenant, env)
    except CutliteError:
        raise
    except Exception as exc:  # noqa: BLE001 - a file shaped in a way no importer expects: say so, no traceback
        raise ValidationError([f"{shown}: cannot import: the file is not shaped as its format says "
                               f"({type(exc).__name__}: {exc})"], stage="import") from None
    warnings += resolve_media(doc["assets"], base_dir=base if local_files else None, media_roots=media_roots,
                              resolver=resolver, local_files=local_files)
    if not doc["assets"]:
        del doc["assets"]  # (a timeline of text only)
    try:
        load_project(doc)
    except ValidationError as exc:
        raise ValidationError([f"{shown}: imported timeline is not a valid project: {p}" for p in exc.problems],
                              stage="import") from None
    return ImportResult(doc, warnings)


def _convert(p: Path, shown: str, project_id: str, name: str | None, tenant: str | None,
             env: str | None) -> tuple[dict[str, Any], list[str], Path]:
    if p.suffix.lower() == ".json" and p.is_file() and p.name not in capcut.DRAFT_FILES:
        try:  # a .json the loader refuses says why, rather than "not a timeline"
            read_json_file(p, stage="import", what=shown)
        except ValidationError as exc:
            raise ValidationError([f"{shown}: {problem}" for problem in exc.problems], stage="import") from None
    if p.is_dir() or p.name in capcut.DRAFT_FILES or (p.suffix.lower() == ".json" and _is_draft_json(p)):
        draft, file = capcut.read_draft(p)
        doc, warnings = capcut.draft_to_project(draft, project_id=project_id, tenant=tenant or DEFAULT_TENANT,
                                                env=env or DEFAULT_ENV, source=str(name or file))
        base = file.parent
    elif p.suffix.lower() in ADAPTERS:
        if not p.exists():
            raise ValidationError([f"{shown}: no such file"], stage="import")
        timeline, warnings = read_timeline(p)
        doc, more = timeline_to_project(timeline, project_id=project_id, tenant=tenant, env=env, source=shown)
        warnings += more
        base = p.parent
    else:
        raise ValidationError([f"{shown}: not a timeline cutlite can import (OpenTimelineIO "
                               f"{', '.join(IMPORT_SUFFIXES)}, or a CapCut/JianYing draft)"], stage="import")
    return doc, warnings, base


def _is_draft_json(path: Path) -> bool:
    """A ``.json`` under another name that is a draft (and not a cutlite project). A file the loader
    refuses is not one: reading it as a project then says why."""
    try:
        doc = read_json_file(path, stage="import")
    except CutliteError:
        return False
    return capcut.looks_like_draft(doc) and "schema_version" not in doc


def _project_id(stem: str) -> str:
    ident = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:64]
    return ident if ident and ident[0].isalnum() else "imported"

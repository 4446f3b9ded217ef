"""Reading timeline files with OpenTimelineIO: ``.otio``/``.otioz``/``.otiod`` natively, EDL, FCP 7
XML, FCPXML and Kdenlive through the adapter plugins of the ``interchange`` extra.

An adapter's own exception becomes a ValidationError naming the file; a missing plugin is a
MissingDependency naming the extra. Two kinds of real files need help: an EDL, which does not say
its rate (tried at the common rates), and OTIO written by a newer OTIO (``Marker.3``), read as
the schema version this OTIO knows.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from engines.documents import read_json, read_json_file
from engines.errors import DocumentTooLarge, MissingDependency, ValidationError
from engines.settings import max_document_bytes

from .document import exact_rate

# file suffix -> (OTIO adapter, the module of its plugin, the format's name)
ADAPTERS = {
    ".otio": ("otio_json", None, "OpenTimelineIO"),
    ".otioz": ("otioz", None, "OpenTimelineIO (zipped)"),
    ".otiod": ("otiod", None, "OpenTimelineIO (directory)"),
    ".edl": ("cmx_3600", "otio_cmx3600_adapter", "CMX3600 EDL"),
    ".xml": ("fcp_xml", "otio_fcp_adapter", "FCP 7 XML"),
    ".fcpxml": ("fcpx_xml", "otio_fcpx_xml_adapter", "FCPXML"),
    ".kdenlive": ("kdenlive", "otio_kdenlive_adapter", "Kdenlive"),
}
# newer OTIO schema versions that this OTIO cannot read, and how to read them as the older one
_DOWNGRADES = {"Marker.3": "Marker.2"}


def otio_module() -> Any:
    import opentimelineio as otio  # a core dependency; imported late, it takes ~0.1 s
    return otio


def read_timeline(path: Path) -> tuple[Any, list[str]]:
    """The OTIO Timeline in ``path`` (the first one of a collection) and reading warnings."""
    suffix = path.suffix.lower()
    if suffix not in ADAPTERS:
        raise ValidationError([f"{path.name}: not a timeline cutlite can import (known: "
                               f"{', '.join(sorted(ADAPTERS))}, CapCut/JianYing drafts)"], stage="import")
    adapter, module, fmt = ADAPTERS[suffix]
    check_limits(path)
    otio = otio_module()
    warnings: list[str] = []
    if module is not None:
        try:
            # the Kdenlive plugin prints a banner when imported: keep stdout for --json
            with contextlib.redirect_stdout(io.StringIO()):
                importlib.import_module(module)
        except ImportError:
            raise MissingDependency(module, "interchange", f"importing {fmt} ({suffix}) files") from None
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if suffix == ".otio":
                result = _read_otio_json(path, warnings)
            elif adapter == "cmx_3600":
                result = _read_edl(path, warnings)
            else:
                result = otio.adapters.read_from_file(str(path), adapter_name=adapter)
    except (ValidationError, MissingDependency, DocumentTooLarge):
        raise
    except Exception as exc:  # an adapter's own error: the file, not a traceback
        raise ValidationError([f"{path.name}: cannot read as {fmt}: {type(exc).__name__}: {exc}"],
                              stage="import") from None
    if isinstance(result, otio.schema.Timeline):
        return result, warnings
    timelines = list(result.find_children(descended_from_type=otio.schema.Timeline)) \
        if hasattr(result, "find_children") else []
    if not timelines:
        raise ValidationError([f"{path.name}: the {fmt} file holds no timeline (a {type(result).__name__})"],
                              stage="import")
    if len(timelines) > 1:
        warnings.append(f"$: the file holds {len(timelines)} timelines; imported the first, "
                        f"\"{timelines[0].name}\"")
    return timelines[0], warnings


def check_limits(path: Path) -> None:
    """The file within the document limits before OTIO (whose JSON reader is not ours) sees it: an
    OTIO document (``.otio``, or the ``content.otio`` of a bundle) through the one JSON loader, any
    other format by its size."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".otio":
            read_json_file(path, stage="import", what=path.name)
        elif suffix == ".otiod" and path.is_dir():
            read_json_file(path / "content.otio", stage="import", what=f"{path.name}/content.otio")
        elif suffix == ".otioz" and path.is_file():
            _check_otioz(path)
        elif path.is_file() and path.stat().st_size > max_document_bytes():
            raise DocumentTooLarge(f"{path.name} is {path.stat().st_size} bytes; at most {max_document_bytes()} "
                                   f"are read (CUTLITE_MAX_DOCUMENT_BYTES)", stage="import")
    except ValidationError as exc:
        raise ValidationError([f"{path.name}: {p}" for p in exc.problems], stage="import") from None


def _check_otioz(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("content.otio")
            if info.file_size > max_document_bytes():  # a zip says how big a member unpacks to
                raise DocumentTooLarge(f"{path.name}/content.otio unpacks to {info.file_size} bytes; at most "
                                       f"{max_document_bytes()} are read (CUTLITE_MAX_DOCUMENT_BYTES)", stage="import")
            raw = z.read(info)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationError([f"$: not an OTIO bundle ({exc})"], stage="import") from None
    read_json(raw, stage="import", what=f"{path.name}/content.otio")


def _read_otio_json(path: Path, warnings: list[str]) -> Any:
    otio = otio_module()
    text = path.read_text(encoding="utf-8")
    try:
        return otio.adapters.read_from_string(text, "otio_json")
    except otio.exceptions.UnsupportedSchemaError:
        doc = read_json(text, stage="import", what=path.name)
        changed = _downgrade(doc)
        if not changed:
            raise
        warnings.append(f"$: written by a newer OpenTimelineIO ({', '.join(sorted(changed))}); read as "
                        f"{', '.join(sorted(_DOWNGRADES[s] for s in changed))}")
        return otio.adapters.read_from_string(json.dumps(doc), "otio_json")


def _read_edl(path: Path, warnings: list[str]) -> Any:
    """An EDL does not say its rate: try 24 (the adapter's default), then the other common rates.

    A wrong rate shows either as a timecode frame past the rate ("rate") or, where a dissolve's length
    rounds differently, as source and record durations that "don't match": both try the next rate.
    """
    otio = otio_module()
    first: Exception | None = None
    for rate in (24, 25, 30, 30000 / 1001, 24000 / 1001, 50, 60):
        try:
            result = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=rate)
        except (ValueError, otio.exceptions.OTIOError) as exc:  # the adapter's EDLParseError is an OTIOError
            if not any(sign in str(exc).lower() for sign in ("rate", "don't match")):
                raise
            first = first or exc
            continue
        if rate != 24:
            warnings.append(f"$: the EDL's timecodes do not fit 24 fps; read at {exact_rate(rate)} fps")
        return result
    assert first is not None
    raise first


def _downgrade(node: Any, changed: set[str] | None = None) -> set[str]:
    """Rewrite newer schemas in place as the older version (Marker.3's colour object -> its name)."""
    changed = set() if changed is None else changed
    if isinstance(node, dict):
        schema = node.get("OTIO_SCHEMA")
        if schema in _DOWNGRADES:
            changed.add(schema)
            node["OTIO_SCHEMA"] = _DOWNGRADES[schema]
            if isinstance(node.get("color"), dict):
                node["color"] = str(node["color"].get("name") or "RED").upper()
        for v in node.values():
            _downgrade(v, changed)
    elif isinstance(node, list):
        for v in node:
            _downgrade(v, changed)
    return changed

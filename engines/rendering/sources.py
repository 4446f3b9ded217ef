"""Gathering what a plan needs from the outside world: asset files, probe facts, fonts.

This is the I/O half of planning. It never stops at the first problem: a dry run lists
every missing or unreadable asset at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from engines.errors import AssetError
from engines.ffmpeg.probe import MediaInfo, probe
from engines.model.cube import MAX_BYTES, CubeError, check_cube_bytes, is_cube
from engines.model.project import Clip, Project
from engines.planning.gathered import Sources
from engines.planning.media_rules import check_media
from engines.planning.styled_text import is_styled
from engines.planning.text import DEFAULT_FONT

_BUNDLED = Path(DEFAULT_FONT).parent
BUNDLED_FACES = {(True, False): str(_BUNDLED / "DejaVuSans-Bold.ttf"), (False, True): str(_BUNDLED / "DejaVuSans-Oblique.ttf"),
                 (True, True): str(_BUNDLED / "DejaVuSans-BoldOblique.ttf")}
_STYLE_SUFFIXES = {(True, False): ("bold",), (False, True): ("italic", "oblique"),
                   (True, True): ("bolditalic", "boldoblique")}
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
             "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")

# asset_id -> local file path of its source (media_v2 plugs in here); None when unknown.
AssetLookup = Callable[[Project, str], str | None]
# asset_id -> the damaged spans a full decode of its source found (media_v2's asset meta)
DamageLookup = Callable[[Project, str], tuple[Any, ...]]
# (project, asset_id, its local file) -> the facts kept when it was registered, when they hold
FactsLookup = Callable[[Project, str, str], MediaInfo | None]


def slate_missing_media(project: Project, sources: Sources) -> None:
    """Media that cannot be found becomes a slate ("MEDIA MISSING", silence for its sound) with a
    warning naming it, instead of a blocking problem: how an imported timeline whose files did not
    all come along still renders. Problems with the media that was found still block."""
    used = sorted({c.asset for _, _, c in project.clip_paths() if c.asset})
    for name in used:
        if name in sources.media:
            continue
        mine = [p for p in sources.problems if p.startswith((f"assets.{name}.", f"assets.{name}:"))]
        sources.problems = [p for p in sources.problems if p not in mine]
        why = "; ".join(mine) or f"assets.{name}: not resolved"
        sources.warnings.append(f"{why}; shown as a slate (MEDIA MISSING)")
        sources.slates[name] = f"MEDIA MISSING\n{name}"


def used_assets(project: Project) -> list[str]:
    """Every asset a clip reads: its media, and the image of an image canvas."""
    used = {c.asset for _, _, c in project.clip_paths() if c.asset}
    used |= {a for _, _, c in project.clip_paths() if (a := getattr(c.canvas, "asset", None))}
    return sorted(used)


def local_paths_allowed(project: Project) -> bool:
    """Local ``path`` assets: dev only, unless CUTLITE_ALLOW_LOCAL_PATHS=1 says otherwise."""
    return project.env == "dev" or os.environ.get("CUTLITE_ALLOW_LOCAL_PATHS") == "1"


def asset_file(project: Project, name: str, base: Path, lookup: AssetLookup | None, out: Sources) -> str | None:
    """The local file of asset ``name`` (a dev project's path, or a registered asset's file), or None
    with the problem named in ``out.problems``."""
    ref = project.assets[name]
    if ref.path is not None:
        if not local_paths_allowed(project):
            out.problems.append(f"assets.{name}.path: local file paths are allowed in dev only "
                                f"(env is {project.env}); register the file in media_v2 and use asset_id")
            return None
        return str((base / ref.path).resolve())
    path = lookup(project, ref.asset_id or "") if lookup else None
    if path is None:
        out.problems.append(f"assets.{name}.asset_id: unknown asset \"{ref.asset_id}\" for tenant "
                            f"{project.tenant}/{project.env}")
    return path


def gather_sources(project: Project, base_dir: str | Path, *, lookup: AssetLookup | None = None,
                   prober: Callable[[str], MediaInfo] = probe, damage: DamageLookup | None = None,
                   facts: FactsLookup | None = None) -> Sources:
    """Every used asset's local file and facts: a registered asset's from its registration
    (``facts``), others probed."""
    base = Path(base_dir)
    out = Sources()
    used = used_assets(project)
    probed: dict[str, MediaInfo] = {}
    for name in used:
        ref = project.assets.get(name)
        if ref is None:
            continue  # reported by validation
        where = f"assets.{name}"
        path = asset_file(project, name, base, lookup, out)
        if path is None:
            continue
        if is_cube(path):
            out.problems.append(f"{where}: a .cube LUT, not media: a clip's filters use it "
                                f"({{\"type\": \"lut\", \"asset\": \"{name}\"}})")
            continue
        try:
            info = probed.get(path) or (facts(project, ref.asset_id, path) if facts and ref.asset_id else None) \
                or prober(path)
        except AssetError as exc:
            out.problems.append(f"{where}: {exc.message}")
            continue
        probed[path] = info
        if damage is not None and ref.asset_id:
            info = replace(info, damage=damage(project, ref.asset_id))
        out.media[name] = info
    out.problems += check_media(project, out.media)
    gather_fonts(project, base, out)
    gather_effect_files(project, base, out, lookup)
    return out


def gather_effect_files(project: Project, base: Path, out: Sources, lookup: AssetLookup | None = None) -> None:
    """Files the clips' effects read (``Effect.assets``: LUTs), resolved into ``out.files``; a LUT's
    ``.cube`` text is checked (``model.cube``) so a bad one is refused by the line that is wrong,
    before ffmpeg starts. They are never probed: they are not media."""
    for _, _, clip in project.clip_paths():
        for effect in clip.filters:
            for name in effect.assets():
                if name in out.files or name not in project.assets:
                    continue  # done, or reported by validation
                path = asset_file(project, name, base, lookup, out)
                if path is None:
                    continue
                if effect.type == "lut" and (problem := _check_lut(path)):
                    out.problems.append(f"assets.{name}: {problem}")
                    continue
                out.files[name] = path


def _check_lut(path: str) -> str | None:
    """Why the file is no usable .cube LUT, or None."""
    try:
        size = os.path.getsize(path)
        if size > MAX_BYTES:
            return f"LUT file of {size} bytes is over the {MAX_BYTES} byte limit"
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"cannot read the LUT file: {exc.strerror or exc}"
    try:
        check_cube_bytes(data)
    except CubeError as exc:
        return str(exc)
    return None


def gather_fonts(project: Project, base: Path, out: Sources) -> None:
    """Each text clip's font file; a styled clip's face and metrics too (``text_faces.py``)."""
    out.fonts[""] = DEFAULT_FONT
    for path, _, clip in project.clip_paths():
        if not clip.is_text:
            continue
        if clip.font:
            _gather_font(base, out, path, clip)
        if is_styled(clip):
            from .text_faces import text_face  # fontTools is loaded only for styled text

            regular = out.fonts.get(clip.id, DEFAULT_FONT)
            family = clip.font if clip.id in out.fonts and clip.font and not _is_file(clip.font) else None
            out.text_faces[clip.id] = text_face(regular, styled_face_file(regular, family, clip.bold, clip.italic),
                                                clip.text or "")


def _is_file(font: str) -> bool:
    return "/" in font or "\\" in font or font.lower().endswith((".ttf", ".otf", ".ttc"))


def _gather_font(base: Path, out: Sources, path: str, clip: Clip) -> None:
    font = clip.font or ""
    if _is_file(font):
        file = (base / font).resolve()
        if file.is_file():
            out.fonts[clip.id] = str(file)
        else:
            out.problems.append(f"{path}.font: font file not found: {font}")
        return
    found = find_font_family(font)
    if found:
        out.fonts[clip.id] = found
    else:
        out.warnings.append(f"{path}.font: no font named \"{font}\" on this machine; using DejaVu Sans")


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_font_family(family: str) -> str | None:
    """A font file whose name is the family's (``DejaVu Sans`` -> ``DejaVuSans.ttf``), regular first."""
    want = _norm(family)
    if want == _norm("DejaVu Sans"):
        return DEFAULT_FONT
    for d in FONT_DIRS:
        root = Path(d).expanduser()
        if not root.is_dir():
            continue
        for file in sorted(root.rglob("*")):
            if file.suffix.lower() in (".ttf", ".otf") and _norm(file.stem) in (want, want + "regular"):
                return str(file)
    return None


def styled_face_file(regular: str, family: str | None, bold: bool, italic: bool) -> str:
    """The file of the family's bold / italic face (``regular`` itself when there is none: libass
    synthesises it). The bundled DejaVu Sans has its faces beside it; a system family's are files
    named ``<Family>-Bold``, ``-Italic``/``-Oblique``, ``-BoldItalic``/``-BoldOblique``."""
    if not (bold or italic):
        return regular
    if regular == DEFAULT_FONT:
        return BUNDLED_FACES[(bold, italic)]
    if family is None:
        return regular
    want = {_norm(family) + s for s in _STYLE_SUFFIXES[(bold, italic)]}
    want |= {_norm(family) + "regular" + s for s in _STYLE_SUFFIXES[(bold, italic)]}
    for d in FONT_DIRS:
        root = Path(d).expanduser()
        if not root.is_dir():
            continue
        for file in sorted(root.rglob("*")):
            if file.suffix.lower() in (".ttf", ".otf") and _norm(file.stem) in want:
                return str(file)
    return regular

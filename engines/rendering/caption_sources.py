"""What captions need from the outside world: subtitle files' text and font chains (I/O half).

A track's font chain is its chosen font, then the bundled DejaVu Sans (Latin, Greek, Cyrillic,
Arabic, Hebrew, symbols), then Noto Sans CJK (Chinese, Japanese, Korean) and Symbola (emoji,
drawn as outlines: libass does not draw colour-bitmap emoji fonts). The fallbacks are system
packages (Debian ``fonts-noto-cjk`` and ``fonts-symbola``; ``make test`` installs them where it
can); a missing one is a warning naming the package, and its scripts show as boxes.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from engines.model.project import Project
from engines.planning.captions import CaptionSources, FontFace
from engines.planning.text import DEFAULT_FONT

from .sources import FONT_DIRS, AssetLookup, Sources, _norm, asset_file, find_font_family

MAX_SUBTITLE_BYTES = 5 * 1024 * 1024
# (file names to look for, family inside the file, Debian package): the fallbacks, in order
FALLBACKS = (
    (("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "NotoSansSC-Regular.otf"), "Noto Sans CJK SC",
     "fonts-noto-cjk"),
    (("Symbola_hint.ttf", "Symbola.ttf"), "Symbola", "fonts-symbola"),
)
FALLBACK_ENV = "CUTLITE_CAPTION_FONTS"  # extra folder searched first for the fallback files


def gather_captions(project: Project, base: Path, out: Sources, lookup: AssetLookup | None = None) -> CaptionSources:
    """Read every captions track's subtitle files and build its font chain; problems and
    warnings go to ``out``."""
    files: dict[str, str] = {}
    fonts: dict[str, tuple[FontFace, ...]] = {}
    for path, track in project.caption_tracks():
        for ci, clip in enumerate(track.clips):
            if clip.asset is None or clip.asset in files or clip.asset not in project.assets:
                continue
            text = _read_subtitle_file(project, base, clip.asset, f"{path}.clips[{ci}]", out, lookup)
            if text is not None:
                files[clip.asset] = text
        style_font = track.style.font if track.style else "DejaVu Sans"
        chain, warnings = font_chain(style_font)
        fonts[track.id] = chain
        out.warnings += [f"{path}.style.font: {w}" for w in warnings]
    captions = CaptionSources(files, fonts)
    out.captions = captions
    return captions


def _read_subtitle_file(project: Project, base: Path, name: str, where: str, out: Sources,
                        lookup: AssetLookup | None) -> str | None:
    file = asset_file(project, name, base, lookup, out)
    if file is None:
        return None
    try:
        size = os.path.getsize(file)
        if size > MAX_SUBTITLE_BYTES:
            out.problems.append(f"assets.{name}: subtitle file of {size} bytes is over the "
                                f"{MAX_SUBTITLE_BYTES} byte limit ({where})")
            return None
        data = Path(file).read_bytes()
    except OSError as exc:
        out.problems.append(f"assets.{name}: cannot read the subtitle file for {where}: {exc.strerror}")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        out.problems.append(f"assets.{name}: the subtitle file for {where} is not UTF-8 (byte {exc.start})")
        return None


def font_chain(style_font: str) -> tuple[tuple[FontFace, ...], list[str]]:
    """The chain for a chosen family and warnings about what is missing."""
    warnings = []
    chain = []
    chosen = find_font_family(style_font)
    for names, family, _ in FALLBACKS:  # a fallback named as the style's font leads the chain
        found = _find_file(names) if chosen is None and _norm(family) == _norm(style_font) else None
        if found:
            chain.append(_face(found, family))
    if chosen is None and not chain:
        warnings.append(f"no font named \"{style_font}\" on this machine; using DejaVu Sans")
    for file in dict.fromkeys([chosen or DEFAULT_FONT, DEFAULT_FONT]):
        chain.append(_face(file, None))
    for names, family, package in FALLBACKS:
        found = _find_file(names)
        if found is not None and any(face.file == found for face in chain):
            continue
        if found is None:
            warnings.append(f"fallback font {family} not found (install the {package} package): "
                            f"characters only it has show as boxes")
            continue
        chain.append(_face(found, family))
    return tuple(chain), warnings


@functools.lru_cache(maxsize=32)
def _face(file: str, family: str | None) -> FontFace:
    """A font file's family (the one named, for a collection) and cmap (read once per process)."""
    from fontTools.ttLib import TTCollection, TTFont

    if file.lower().endswith(".ttc"):
        collection = TTCollection(file, lazy=True)
        fonts = collection.fonts
    else:
        fonts = [TTFont(file, lazy=True)]
    font = fonts[0]
    for f in fonts:
        if family is None or _family(f) == family:
            font = f
            break
    return FontFace(_family(font), file, frozenset(font.getBestCmap() or {}))


def _family(font) -> str:  # noqa: ANN001 - a fontTools TTFont
    name = font["name"]
    return str(name.getDebugName(16) or name.getDebugName(1))


def _find_file(names: tuple[str, ...]) -> str | None:
    return _search(names, os.environ.get(FALLBACK_ENV, ""))


@functools.lru_cache(maxsize=16)
def _search(names: tuple[str, ...], extra: str) -> str | None:
    roots = [extra] + list(FONT_DIRS)
    for d in roots:
        if not d:
            continue
        root = Path(d).expanduser()
        if not root.is_dir():
            continue
        for name in names:
            hits = sorted(root.rglob(name))
            if hits:
                return str(hits[0])
    return None

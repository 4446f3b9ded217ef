"""The metrics of the face a styled text clip is drawn with: gathered from its font file
(``engines.rendering.text_faces``), read by the layout in ``styled_text.py`` (planning reads no files)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextFace:
    """The face a styled text clip is drawn and measured with (gathered from its font file)."""
    family: str          # what libass selects it by (``\\fn``)
    file: str            # the face's file (the family's bold/italic face when there is one)
    files: tuple[str, ...]  # every file linked for it (the regular face and the styled one)
    upem: int
    ascent: int          # usWinAscent: what libass places a line's top by
    descent: int         # usWinDescent
    advances: dict[int, int] = field(default_factory=dict, compare=False)  # code point -> font units
    default_advance: int = 0  # for a character the face lacks (drawn by a fallback: an estimate)

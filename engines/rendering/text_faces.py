"""The face of a styled text clip and its metrics (I/O half of ``planning.styled_text``).

Bold and italic use the family's own faces when there are files for them: the bundled DejaVu
Sans comes with its Bold, Oblique and Bold Oblique faces (``engines/planning/fonts``, DejaVu's
licence); a system family is looked for as ``<Family>-Bold``, ``-Italic``/``-Oblique``,
``-BoldItalic``/``-BoldOblique`` files in the font folders. A family (or a font file) without the
face is emboldened / slanted by libass (synthesised), measured with its regular advances. The
files are found by ``sources.styled_face_file``; this module reads their metrics (fontTools).
"""

from __future__ import annotations

import functools

from engines.planning.text_face import TextFace


def text_face(regular: str, styled: str, text: str) -> TextFace:
    """The face drawn for a clip whose regular face is the file ``regular`` and whose bold /
    italic face is ``styled`` (the same file when synthesised), measured for ``text``."""
    upem, ascent, descent, name, advances, default = _metrics(styled)
    if styled != regular:
        name = _metrics(regular)[3]  # libass selects by the family name and the weight / slant
    return TextFace(name, styled, tuple(dict.fromkeys((regular, styled))), upem, ascent, descent,
                    {ord(c): advances.get(ord(c), default) for c in set(text)}, default)


@functools.lru_cache(maxsize=32)
def _metrics(file: str) -> tuple[int, int, int, str, dict[int, int], int]:
    from fontTools.ttLib import TTCollection, TTFont

    font = TTCollection(file, lazy=True).fonts[0] if file.lower().endswith(".ttc") else TTFont(file, lazy=True)
    names = font["name"]
    family = str(names.getDebugName(16) or names.getDebugName(1))
    hmtx = font["hmtx"]
    cmap = font.getBestCmap() or {}
    advances = {cp: hmtx[glyph][0] for cp, glyph in cmap.items()}
    os2 = font["OS/2"] if "OS/2" in font else None
    hhea = font["hhea"]
    ascent = os2.usWinAscent if os2 is not None and os2.usWinAscent else hhea.ascent
    descent = os2.usWinDescent if os2 is not None and os2.usWinDescent else -hhea.descent
    default = hmtx[".notdef"][0] if ".notdef" in hmtx.metrics else font["head"].unitsPerEm // 2
    return font["head"].unitsPerEm, ascent, descent, family, advances, default

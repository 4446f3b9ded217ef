"""Captions tracks as an ASS script that libass burns in over the composed picture (pure).

- Cues come from subtitle files (SRT, VTT, ASS: read by pysubs2, shifted by the clip's
  ``start``; the file's own markup is dropped, its text kept) and from inline cues.
- Timing is on the frame grid: a cue is visible on exactly the frames whose time lies in
  ``[start, end)``, i.e. frames ``ceil(start * fps)`` up to ``ceil(end * fps)``. ASS counts
  centiseconds, so each boundary is written half a frame before its first frame (rounded to
  10 ms: up to 100 fps that stays strictly between the two frames' times). A window (chunk,
  range preview) counts from its own first frame: the same cues land on the same frames.
- The spoken word: one event per stretch between word boundaries, the whole cue each time with
  that word in ``highlight_color``. ASS karaoke (``\\k``) keeps every word already sung in the
  highlight and counts centiseconds from the event start; separate events give exactly "only
  the word being spoken", on exact frames, with an identical layout (only a colour changes).
- Text is literal: braces become ``\\{``/``\\}`` and every backslash is followed by a word
  joiner (U+2060, invisible), so neither override tags nor ``\\N``/``\\h`` are interpreted.
- Any script: each character is drawn with the first font of the track's chain that has it
  (the chosen font, DejaVu Sans, then the CJK and emoji fallbacks), switched with ``\\fn``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

from engines.errors import ValidationError
from engines.model.project import CaptionStyle, Clip, Project, Track

if TYPE_CHECKING:  # pysubs2 is imported where it is used: a plan without captions does not load it
    import pysubs2

WORD_JOINER = "\u2060"
# characters that take the font of their neighbours (spaces, joiners, variation selectors)
_NEUTRAL = {0x200B, 0x200C, 0x200D, 0x2060, 0xFE0E, 0xFE0F}
CAPTION_FONTS_DIR = "capfonts"  # folder of the work folder that libass reads fonts from
_MARKUP = re.compile(r"\{\\[ibus][01]\}")  # what pysubs2 makes of SRT/VTT <i>, <b>, <u>, <s>


@dataclass(frozen=True)
class FontFace:
    """A font libass can select by ``family``, the file it is in and the code points it draws."""
    family: str
    file: str
    coverage: frozenset[int] = field(repr=False, compare=False)


@dataclass(frozen=True)
class CaptionSources:
    """What captions need from outside: subtitle files' text by asset name, font chains by track id."""
    files: dict[str, str] = field(default_factory=dict)
    fonts: dict[str, tuple[FontFace, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Word:
    start: Fraction  # timeline seconds
    end: Fraction
    text: str


@dataclass(frozen=True)
class Cue:
    start: Fraction  # timeline seconds, half-open [start, end)
    end: Fraction
    text: str
    words: tuple[Word, ...] = ()


# ---------------------------------------------------------------- cues

def read_subtitles(text: str, where: str) -> list[tuple[Fraction, Fraction, str]]:
    """(start, end, plain text) of every dialogue cue of an SRT, VTT or ASS document."""
    import pysubs2

    try:
        subs = pysubs2.SSAFile.from_string(text)
    except Exception as exc:  # pysubs2 raises several kinds for unreadable documents
        raise ValidationError([f"{where}: not a readable SRT, VTT or ASS subtitle file ({exc})"],
                              stage="plan") from None
    cues = []
    for ev in subs.events:
        if ev.is_comment or ev.end <= ev.start:
            continue
        if subs.format == "ass" or subs.format == "ssa":
            plain = ev.plaintext.strip()  # an ASS file's override tags are its own markup
        else:
            # SRT/VTT: drop only the tags pysubs2 made of <i>, <b>, <u>, <s>; braces are text
            plain = _MARKUP.sub("", ev.text).replace("\\N", "\n").replace("\\n", "\n").strip()
        if plain:
            cues.append((Fraction(ev.start, 1000), Fraction(ev.end, 1000), plain))
    return cues


def track_cues(project: Project, track: Track, path: str, files: dict[str, str]) -> list[Cue]:
    """The cues of a captions track on the timeline, by start time."""
    cues: list[Cue] = []
    for ci, clip in enumerate(track.clips):
        if clip.asset is not None:
            text = files.get(clip.asset)
            if text is None:
                raise ValidationError([f"assets.{clip.asset}: not resolved (missing or unreadable)"], stage="plan")
            cues += [Cue(clip.start + s, clip.start + e, t)
                     for s, e, t in read_subtitles(text, f"{path}.clips[{ci}] (assets.{clip.asset})")]
        else:
            cues.append(_inline_cue(clip))
    return sorted(cues, key=lambda c: (c.start, c.end))


def _inline_cue(clip: Clip) -> Cue:
    assert clip.text is not None and clip.duration is not None, "validated by load_project"
    words = tuple(Word(clip.start + w.start, clip.start + w.end, w.text) for w in clip.words)
    return Cue(clip.start, clip.start + clip.duration, clip.text, words)


def first_frame(t: Fraction, fps: Fraction) -> int:
    """The first frame whose time ``n / fps`` is at or after ``t``."""
    return math.ceil(t * fps)


# ---------------------------------------------------------------- the ASS script

def _ass_color(hex_rgb: str) -> pysubs2.Color:
    import pysubs2

    return pysubs2.Color(int(hex_rgb[1:3], 16), int(hex_rgb[3:5], 16), int(hex_rgb[5:7], 16), 0)


def _tag_color(hex_rgb: str) -> str:
    return f"&H{hex_rgb[5:7]}{hex_rgb[3:5]}{hex_rgb[1:3]}&".upper()


def _boundary_ms(frame: int, fps: Fraction) -> int:
    """ASS time (ms, a multiple of 10) that lies between frame-1 and frame: half a frame before."""
    if frame <= 0:
        return 0
    return 10 * round((Fraction(2 * frame - 1, 2) / fps) * 100)


def _escape_char(ch: str) -> str:
    if ch == "\\":
        return "\\" + WORD_JOINER  # "\N", "\h", "\{" ... can never form
    if ch in "{}":
        return "\\" + ch           # libass draws \{ and \} as braces
    if ch == "\n":
        return "\\N"
    if ch in "\r":
        return ""
    if ch == "\t":
        return " "
    return ch


def _font_of(ch: str, chain: tuple[FontFace, ...], current: str) -> str:
    cp = ord(ch)
    if ch.isspace() or cp in _NEUTRAL or 0x1F3FB <= cp <= 0x1F3FF:
        return current
    for face in chain:
        if cp in face.coverage:
            return face.family
    return current


def ass_text(text: str, chain: tuple[FontFace, ...], highlight: tuple[int, int] | None = None,
             colors: tuple[str, str] = ("#FFFFFF", "#FFD400")) -> str:
    """Literal ``text`` as ASS event text, with font switches and ``text[a:b]`` highlighted."""
    primary = chain[0].family if chain else ""
    out: list[str] = []
    font, lit = primary, False
    for i, ch in enumerate(text):
        want_font = _font_of(ch, chain, font)
        want_lit = highlight is not None and highlight[0] <= i < highlight[1]
        tags = ""
        if want_font != font:
            tags += f"\\fn{want_font}"
        if want_lit != lit:
            tags += f"\\1c{_tag_color(colors[1] if want_lit else colors[0])}"
        if tags:
            out.append("{" + tags + "}")
        font, lit = want_font, want_lit
        out.append(_escape_char(ch))
    return "".join(out)


def _word_spans(cue: Cue) -> list[tuple[int, int] | None]:
    """Where each word is in the cue's text (in order); None for one that is not there."""
    spans: list[tuple[int, int] | None] = []
    cursor = 0
    for w in cue.words:
        at = cue.text.find(w.text, cursor)
        if at < 0:
            spans.append(None)
            continue
        spans.append((at, at + len(w.text)))
        cursor = at + len(w.text)
    return spans


def _segments(cue: Cue, fps: Fraction) -> list[tuple[int, int, tuple[int, int] | None]]:
    """(first frame, end frame, highlighted span) pieces that cover the cue's frames."""
    a, b = first_frame(cue.start, fps), first_frame(cue.end, fps)
    if not cue.words:
        return [(a, b, None)] if b > a else []
    cuts = {a, b}
    for w in cue.words:
        cuts |= {min(max(first_frame(w.start, fps), a), b), min(max(first_frame(w.end, fps), a), b)}
    spans = _word_spans(cue)
    pieces = []
    bounds = sorted(cuts)
    for s, e in zip(bounds, bounds[1:]):
        lit = None
        for w, span in zip(cue.words, spans):
            if span is not None and first_frame(w.start, fps) <= s < first_frame(w.end, fps):
                lit = span
        pieces.append((s, e, lit))
    return pieces


def build_ass(track: Track, cues: list[Cue], chain: tuple[FontFace, ...], *, width: int, height: int,
              scale_y: Fraction, fps: Fraction, base: int, frames: int) -> str | None:
    """The ASS script for the output frames ``[base, base + frames)`` (absolute frame numbers;
    the script's clock starts at ``base``); None when no cue shows in them."""
    import pysubs2

    style = track.style or CaptionStyle()
    ssa = pysubs2.SSAFile()
    ssa.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0",
                     "ScaledBorderAndShadow": "yes", "YCbCr Matrix": "None"})
    family = chain[0].family if chain else style.font
    size = float(Fraction(style.font_size) * scale_y)
    side = round(width * (1 - style.max_width) / 2)
    box = style.background is not None
    ssa.styles = {"Default": pysubs2.SSAStyle(
        fontname=family, fontsize=size, primarycolor=_ass_color(style.color),
        secondarycolor=_ass_color(style.highlight_color),
        outlinecolor=_ass_color(style.background if box else style.outline_color),  # type: ignore[arg-type]
        backcolor=_ass_color(style.outline_color), bold=False,
        # an opaque box (3) is drawn in the outline colour, the outline width around the text
        borderstyle=3 if box else 1,
        outline=float(Fraction(max(style.outline, style.font_size / 6) if box else style.outline) * scale_y),
        shadow=float(Fraction(style.shadow) * scale_y),
        alignment={"bottom": pysubs2.Alignment.BOTTOM_CENTER, "top": pysubs2.Alignment.TOP_CENTER,
                   "middle": pysubs2.Alignment.MIDDLE_CENTER}[style.position],
        marginl=side, marginr=side, marginv=round(height * style.margin), encoding=1)}
    events = []
    for cue in cues:
        for a, b, lit in _segments(cue, fps):
            a, b = max(a, base), min(b, base + frames)
            if b <= a:
                continue
            start = _boundary_ms(a - base, fps)
            end = _boundary_ms(b - base, fps) if b < base + frames else \
                10 * math.ceil(Fraction(frames + 1, fps) * 100)
            events.append(pysubs2.SSAEvent(start=start, end=end, layer=0, style="Default",
                                           text=ass_text(cue.text, chain, lit, (style.color, style.highlight_color))))
    if not events:
        return None
    ssa.events = events
    return ssa.to_string("ass")


# ---------------------------------------------------------------- sidecars

def _stamp(frame: int, fps: Fraction, sep: str) -> str:
    ms = round(Fraction(frame) / fps * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def sidecars(cues: list[Cue], fps: Fraction, frames: int) -> dict[str, str]:
    """``captions.srt`` and ``captions.vtt`` of the cues as rendered (frame-exact times, cut at the end)."""
    srt, vtt = [], ["WEBVTT", ""]
    n = 0
    for cue in cues:
        a, b = first_frame(cue.start, fps), min(first_frame(cue.end, fps), frames)
        if b <= a:
            continue
        n += 1
        srt += [str(n), f"{_stamp(a, fps, ',')} --> {_stamp(b, fps, ',')}", cue.text.replace("\r", ""), ""]
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "")
        text = "\n".join(line if line.strip() else "\u00a0" for line in text.split("\n"))  # no blank line ends a cue
        vtt += [f"{_stamp(a, fps, '.')} --> {_stamp(b, fps, '.')}", text, ""]
    return {"captions.srt": "\n".join(srt), "captions.vtt": "\n".join(vtt)}

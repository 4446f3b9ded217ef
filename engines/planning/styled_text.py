"""Styled text clips (stroke, shadow, box, alignment, wrapping, bold/italic, in/out animations)
drawn by libass from an ASS script that holds one static picture a frame (pure).

Why libass and not ``drawtext``: libass draws an outline, a blurred shadow (``\\blur``), bold and
italic faces (synthesised when the family has none) and vector drawings (the rounded box, ``\\p1``)
in one filter; drawtext has no shadow blur, no rounded box and no way to reveal a text character by
character without one filter a character. Plain text (none of the fields below) keeps ``drawtext``
(``text.py``), so its plans do not change.

- **Frame-exact, window-identical.** Nothing is left to libass's clock: the state of every frame
  (position, scale, opacity, characters shown) is worked out here from the clip's own frame number
  (``head + i``, exact ``Fraction`` seconds), and each run of frames with the same state is one
  event whose boundaries sit half a frame before its first frame (``captions._boundary_ms``). A
  window (chunk, range preview) counts its events from its own first frame and gets the same
  states on the same frames, so the same pixels.
- **Layout is done here** from the face's metrics (gathered by ``engines.rendering.text_faces``:
  advance widths, win ascent/descent as libass reads them): lines are wrapped greedily at spaces
  (a word wider than the limit is broken between characters) to ``max_width × W``, each line is
  an event of its own positioned with ``\\pos`` (top-left/centre/right: ``\\an7/8/9``), ``line_spacing``
  times the line height apart; the block is centred at (``x``, ``y``). Widths are the sum of the
  advances (kerning is not counted: a pixel or two at large sizes, inside any box padding).
- Layers of an event group: the box (a rounded rectangle drawing), the shadow (a copy of the text
  and its stroke in the shadow colour, offset and blurred), the text (fill and ``\\bord`` stroke).
- Text is literal (``captions.ass_text``: braces and backslashes can never form tags).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from engines.model.project import Clip
from engines.model.timebase import frames_to_seconds
from engines.model.timeline import PlacedClip

from .captions import _boundary_ms, ass_text
from .filtergraph import quote
from .graph import Graph, Out
from .text_face import TextFace

TEXT_FONTS_DIR = "textfonts"  # folder of the work folder libass reads the text faces from
SLIDE = Fraction(1, 10)  # slides travel a tenth of the output height (slide_up) or width (slide_left)
_C1 = 1.70158            # pop: "ease out back" overshoot (about 10 % at its peak)
_C3 = _C1 + 1


def is_styled(clip: Clip) -> bool:
    """A text clip that uses any styling or animation field, or has more than one line (lines line
    up by ``align``, centred by default): drawn by libass, not drawtext."""
    return "\n" in (clip.text or "") or any(v is not None for v in (clip.stroke, clip.shadow, clip.box, clip.max_width, clip.animation_in,
                                       clip.animation_out)) \
        or clip.bold or clip.italic or clip.align != "center" or clip.line_spacing != 1


# ---------------------------------------------------------------- layout

def _width(face: TextFace, text: str, em: float) -> float:
    return sum(face.advances.get(ord(c), face.default_advance) for c in text) * em / face.upem


def wrap(text: str, face: TextFace, em: float, limit: float | None) -> list[tuple[int, int]]:
    """The lines of ``text`` as (start, end) character ranges: its own line breaks, then greedy
    wrapping at spaces to ``limit`` pixels (a word wider than the limit breaks between characters).
    The space a line breaks at belongs to no line."""
    lines: list[tuple[int, int]] = []
    start = 0
    for para in text.split("\n"):
        end = start + len(para)
        if limit is None or _width(face, para, em) <= limit:
            lines.append((start, end))
        else:
            a = start
            while a < end:
                b = a
                last_space = -1
                while b < end and (b == a or _width(face, text[a:b + 1], em) <= limit):
                    if text[b] == " " and b > a:
                        last_space = b
                    b += 1
                if b < end and last_space > a and text[b] != " ":
                    b = last_space  # break at the last space that fits
                lines.append((a, b))
                a = b
                while a < end and text[a] == " ":
                    a += 1  # the spaces at a break belong to no line
        start = end + 1
    return lines


@dataclass(frozen=True)
class Layout:
    lines: tuple[tuple[int, int], ...]
    widths: tuple[float, ...]
    line_height: float  # ascent + descent, pixels
    step: float         # from one line's top to the next's
    width: float        # the block: widest line
    height: float

    def top(self, i: int) -> float:
        return -self.height / 2 + i * self.step


def layout(clip: Clip, face: TextFace, em: float, out_width: int) -> Layout:
    text = (clip.text or "").replace("\r", "").replace("\t", " ")
    limit = float(clip.max_width * out_width) if clip.max_width is not None else None
    lines = wrap(text, face, em, limit)
    widths = tuple(_width(face, text[a:b], em) for a, b in lines)
    lh = (face.ascent + face.descent) * em / face.upem
    step = lh * clip.line_spacing
    return Layout(tuple(lines), widths, lh, step, max(widths, default=0.0), lh + (len(lines) - 1) * step)


# ---------------------------------------------------------------- animation

def _ease_out_cubic(p: float) -> float:
    return 1 - (1 - p) ** 3


def _ease_out_back(p: float) -> float:
    return 1 + _C3 * (p - 1) ** 3 + _C1 * (p - 1) ** 2


@dataclass(frozen=True)
class FrameState:
    dx: float = 0.0      # pixels
    dy: float = 0.0
    scale: float = 1.0
    alpha: float = 1.0   # times the clip's opacity
    shown: int | None = None  # characters shown (typewriter), None: all


def animation_state(clip: Clip, t: Fraction, out: Out) -> FrameState:
    """The animations' effect at the clip's second ``t`` (an exact frame time): an entrance over
    ``[0, d_in)``, an exit over ``[D - d_out, D)`` (validation keeps them apart). ``p`` runs
    0 -> 1 into the clip's place; an exit's ``p`` is the time left over ``d_out``: it leaves the
    way it would come in, except the slides, which carry on up / to the left."""
    if clip.animation_in is not None and t < clip.animation_in.duration:
        anim, p_exact, away = clip.animation_in, t / clip.animation_in.duration, 1
    elif clip.animation_out is not None and (clip.duration or 0) - t < clip.animation_out.duration:
        anim, p_exact, away = clip.animation_out, ((clip.duration or 0) - t) / clip.animation_out.duration, -1
    else:
        return FrameState()
    p = float(max(p_exact, Fraction(0)))
    if anim.type == "fade":
        return FrameState(alpha=p)
    if anim.type == "slide_up":
        return FrameState(dy=away * float(out.height * SLIDE) * (1 - _ease_out_cubic(p)))
    if anim.type == "slide_left":
        return FrameState(dx=away * float(out.width * SLIDE) * (1 - _ease_out_cubic(p)))
    if anim.type == "pop":
        return FrameState(scale=_ease_out_back(p))
    return FrameState(shown=math.floor(len(_typed(clip.text or "")) * max(p_exact, Fraction(0))))  # typewriter


def _typed(text: str) -> list[int]:
    """Indices of the characters the typewriter counts (every one but line breaks)."""
    return [i for i, c in enumerate(text) if c not in "\r\n"]


# ---------------------------------------------------------------- the ASS script

def _color(hex_rgb: str) -> str:
    return f"&H{hex_rgb[5:7]}{hex_rgb[3:5]}{hex_rgb[1:3]}&".upper()


def _alpha(a: float) -> str:
    return f"&H{255 - max(0, min(255, round(255 * a))):02X}&"


def _n(x: float) -> str:
    """A coordinate with at most 3 decimals (libass works in 1/64 pixels)."""
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _rounded_rect(w: float, h: float, r: float) -> str:
    """An ASS drawing (``\\p1``, origin top-left) of a w × h rectangle with corners of radius r."""
    r = max(0.0, min(r, w / 2, h / 2))
    if r <= 0:
        return f"m 0 0 l {_n(w)} 0 {_n(w)} {_n(h)} 0 {_n(h)}"
    k = r * (1 - 0.5522847498)  # cubic Bézier control points for a quarter circle
    return (f"m {_n(r)} 0 l {_n(w - r)} 0 b {_n(w - k)} 0 {_n(w)} {_n(k)} {_n(w)} {_n(r)} "
            f"l {_n(w)} {_n(h - r)} b {_n(w)} {_n(h - k)} {_n(w - k)} {_n(h)} {_n(w - r)} {_n(h)} "
            f"l {_n(r)} {_n(h)} b {_n(k)} {_n(h)} 0 {_n(h - k)} 0 {_n(h - r)} "
            f"l 0 {_n(r)} b 0 {_n(k)} {_n(k)} 0 {_n(r)} 0")


def _line_text(text: str, a: int, b: int, shown: int | None, typed: list[int]) -> str:
    """Line ``text[a:b]`` as event text; with a typewriter count, the characters past it are
    drawn fully transparent (the line keeps its layout)."""
    if shown is None or shown >= len(typed):
        return ass_text(text[a:b], ())
    cut = typed[shown] if shown < len(typed) else b  # first hidden character
    cut = min(max(cut, a), b)
    visible, hidden = ass_text(text[a:cut], ()), ass_text(text[cut:b], ())
    return visible + ("{\\alpha&HFF&}" + hidden if hidden else "")


def frame_events(clip: Clip, face: TextFace, lay: Layout, out: Out, em: float, cx: float, cy: float,
                 opacity: float, state: FrameState) -> list[str]:
    """The events (layer, text) of one frame, as ``layer,text`` strings."""
    alpha = opacity * state.alpha
    s = state.scale
    if alpha <= 0 or s <= 0.001 or state.shown == 0 and clip.box is None:
        return []
    text = (clip.text or "").replace("\r", "").replace("\t", " ")
    typed = _typed(text)
    ox, oy = cx + state.dx, cy + state.dy
    k = float(out.scale_y)
    events = []
    if clip.box is not None and clip.box.opacity > 0:
        pad = clip.box.padding * k
        w, h = (lay.width + 2 * pad) * s, (lay.height + 2 * pad) * s
        events.append(f"0,{{\\an7\\pos({_n(ox - w / 2)},{_n(oy - h / 2)})\\bord0\\shad0\\blur0"
                      f"\\1c{_color(clip.box.color)}\\1a{_alpha(alpha * clip.box.opacity)}\\p1}}"
                      f"{_rounded_rect(w, h, clip.box.radius * k * s)}")
    if state.shown == 0:
        return events
    an, xs = {"left": (7, -lay.width / 2), "center": (8, 0.0), "right": (9, lay.width / 2)}[clip.align]
    fs = em * (face.ascent + face.descent) / face.upem
    common = (f"\\fn{_family(face)}\\fs{_n(fs)}\\b{int(clip.bold)}\\i{int(clip.italic)}"
              f"\\fscx{_n(100 * s)}\\fscy{_n(100 * s)}\\an{an}\\shad0")
    bord = clip.stroke.width * k * s if clip.stroke is not None else 0.0
    for i, (a, b) in enumerate(lay.lines):
        body = _line_text(text, a, b, state.shown, typed)
        if not body:
            continue
        x, y = ox + xs * s, oy + lay.top(i) * s
        if clip.shadow is not None:
            sh = clip.shadow
            events.append(f"1,{{\\pos({_n(x + sh.x * k * s)},{_n(y + sh.y * k * s)}){common}"
                          f"\\bord{_n(bord)}\\blur{_n(sh.blur * k * s)}\\1c{_color(sh.color)}\\3c{_color(sh.color)}"
                          f"\\alpha{_alpha(alpha)}}}{body}")
        stroke = f"\\3c{_color(clip.stroke.color)}" if clip.stroke is not None else ""
        events.append(f"2,{{\\pos({_n(x)},{_n(y)}){common}\\bord{_n(bord)}\\blur0\\1c{_color(clip.color)}{stroke}"
                      f"\\alpha{_alpha(alpha)}}}{body}")
    return events


def _family(face: TextFace) -> str:
    """The family name as it can sit in a tag and a style line (a name with ``{}\\,`` is not one
    libass could be asked for anyway)."""
    return "".join(c for c in face.family if c not in "{}\\,")


def _stamp(ms: int) -> str:
    cs = ms // 10
    h, cs = divmod(cs, 360000)
    m, cs = divmod(cs, 6000)
    sec, cs = divmod(cs, 100)
    return f"{h}:{m:02d}:{sec:02d}.{cs:02d}"


def build_text_ass(pc: PlacedClip, face: TextFace, out: Out) -> str:
    """The ASS script of a styled text clip for this stream (frame 0 = the stream's first frame;
    the clip's frames are ``[pc.start, pc.end)``, its own frame ``pc.head`` first)."""
    clip = pc.clip
    em = float(Fraction(clip.font_size) * out.scale_y)
    lay = layout(clip, face, em, out.width)
    runs: list[tuple[int, int, tuple[str, ...]]] = []
    for i in range(pc.frames):
        t = frames_to_seconds(pc.head + i, out.fps) + pc.offset
        cx = out.width * clip.x.value_at(t)
        cy = out.height * clip.y.value_at(t)
        events = tuple(frame_events(clip, face, lay, out, em, cx, cy, clip.opacity.value_at(t),
                                    animation_state(clip, t, out)))
        if runs and runs[-1][2] == events:
            runs[-1] = (runs[-1][0], pc.start + i + 1, events)
        else:
            runs.append((pc.start + i, pc.start + i + 1, events))
    lines = ["[Script Info]", "ScriptType: v4.00+", f"PlayResX: {out.width}", f"PlayResY: {out.height}",
             "WrapStyle: 2", "ScaledBorderAndShadow: yes", "YCbCr Matrix: None", "",
             "[V4+ Styles]",
             "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
             "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
             "MarginL, MarginR, MarginV, Encoding",
             f"Style: Default,{_family(face)},{_n(em)},&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,0,0,0,0,100,100,0,0,"
             "1,0,0,7,0,0,0,1", "",
             "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]
    for a, b, events in runs:
        start, end = _stamp(_boundary_ms(a, out.fps)), _stamp(_boundary_ms(b, out.fps))
        for ev in events:
            layer, body = ev.split(",", 1)
            lines.append(f"Dialogue: {layer},{start},{end},Default,,0,0,0,,{body}")
    return "\n".join(lines) + "\n"


def draw_styled_text(g: Graph, pc: PlacedClip, out: Out, base: str, face: TextFace) -> str:
    name = f"text_{pc.clip.id}.ass"
    g.files[name] = build_text_ass(pc, face, out)
    for file in face.files:
        if file not in g.links:
            link = f"{TEXT_FONTS_DIR}/{file.rsplit('/', 1)[-1]}"
            if link in g.links.values():  # another file of the same name (another folder)
                link = f"{TEXT_FONTS_DIR}/{len(g.links)}_{file.rsplit('/', 1)[-1]}"
            g.links[file] = link
    return g.add([base], [f"ass=filename={quote(name)}:fontsdir={TEXT_FONTS_DIR}:shaping=complex",
                          f"format={out.pix_fmt}"], "txt")

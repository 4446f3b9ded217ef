"""Text clips drawn with ``drawtext`` from a work file (literal text, never filter syntax); a styled,
animated or multi-line one is drawn by libass instead (``styled_text.py``)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from engines.errors import ValidationError
from engines.model.timeline import PlacedClip

from .filtergraph import piecewise_linear, quote
from .graph import Graph, Out
from .motion import clip_clock, curve
from .opacity import timeline_points
from .styled_text import draw_styled_text, is_styled

DEFAULT_FONT = str(Path(__file__).parent / "fonts" / "DejaVuSans.ttf")  # bundled, with its licence


def font_name(g: Graph, clip_id: str) -> str:
    """The work-folder name of a clip's font file (the default font unless it names one)."""
    path = g.fonts.get(clip_id) or g.fonts.get("") or DEFAULT_FONT
    return g.links.setdefault(path, f"font{len(g.links)}{font_suffix(path)}")


def draw_text(g: Graph, pc: PlacedClip, out: Out, base: str) -> str:
    clip = pc.clip
    if is_styled(clip):  # stroke, shadow, box, layout, faces, animations: libass (styled_text.py)
        face = g.text_faces.get(clip.id)
        if face is None:
            raise ValidationError([f"{pc.path}: the font of a styled text clip was not gathered"], stage="plan")
        return draw_styled_text(g, pc, out, base, face)
    text_file = f"text_{clip.id}.txt"
    g.files[text_file] = clip.text or ""
    font = font_name(g, clip.id)
    size = max(1, round(Fraction(clip.font_size) * out.scale_y))
    if clip.x.constant is not None and clip.y.constant is not None:
        cx: int | str = round(Fraction(out.width) * Fraction(clip.x.constant))
        cy: int | str = round(Fraction(out.height) * Fraction(clip.y.constant))
    else:  # keyframed: on the timeline's clock, like the opacity
        clock = clip_clock(pc, out, "t", pc.head - pc.start)
        cx, cy = f"round({out.width}*{curve(clip.x, clock)})", f"round({out.height}*{curve(clip.y, clock)})"
    alpha = piecewise_linear(timeline_points(pc, clip.opacity.points, out.fps), "t") if clip.opacity.linear else \
        curve(clip.opacity, clip_clock(pc, out, "t", pc.head - pc.start))  # eased: on the clip's frame clock
    color = "0x" + clip.color[1:].upper()
    opts = [f"textfile={quote(text_file)}", f"fontfile={quote(font)}", "expansion=none",
            f"fontsize={size}", f"fontcolor={color}", f"alpha={alpha}",
            f"x={cx}-text_w/2", f"y={cy}-text_h/2", f"enable=between(n\\,{pc.start}\\,{pc.end - 1})"]
    return g.add([base], ["drawtext=" + ":".join(opts)], "txt")


def font_suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind("."):].lower() if "." in name else ".ttf"

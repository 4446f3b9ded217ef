"""A clip's ``blend`` mode: how its colours combine with what is below it.

Drawn for an overlay clip (over the picture composed below it), a clip of a higher video track
(over the tracks below, ``blend_track``) and a clip of the bottom video track (over the
background colour, ``dressing``). The formulas are defined on RGB, so the blended frames are worked in RGB (``gbrp``, 8 bits a
channel: BT.709 limited range in, full-range RGB, the same matrix back), by ffmpeg's ``blend``
with what is below as its first (top) input and the clip as its second: ``overlay`` decides by
the colour below (``below < 1/2``: ``2 below clip``, else ``1 - 2 (1 - below)(1 - clip)``), as
image editors do. The clip's alpha (its opacity and mask) then mixes the blended colour with what
is below: ``below (1 - a) + blend(below, clip) a``. Only the clip's own frames pass through RGB:
the frames before and after it are cut off and joined back untouched, so they keep the pixels
they have without the blend. ``normal`` is the plain ``overlay`` of the tracks and never comes
here.
"""

from __future__ import annotations

from engines.model.timebase import fraction_text
from engines.model.timeline import PlacedClip

from .color import BT709_TAGS, pinned_format
from .filtergraph import rate
from .graph import Graph, Out
from .transitions import concat_labels, cut_at

MODES = {"multiply": "multiply", "screen": "screen", "overlay": "overlay", "darken": "darken",
         "lighten": "lighten", "add": "addition", "difference": "difference"}

ACCURATE = "flags=accurate_rnd+full_chroma_int"  # swscale's fast YUV-RGB path is off by 2-3 code values
TO_RGB = f"scale=in_color_matrix=bt709:in_range=tv:out_range=pc:{ACCURATE},format=gbrp"
FROM_RGB = f"scale=out_color_matrix=bt709:out_range=tv:{ACCURATE}"


def blend_over(g: Graph, below: str, above: str, mode: str, out: Out, fmt: str) -> str:
    """``above`` (a full frame with alpha) blended by ``mode`` over ``below`` (a full opaque frame),
    both on the same clock; the result pinned to ``fmt`` and tagged BT.709."""
    b1, b2, a1, a2 = g.label("bb"), g.label("bb"), g.label("ba"), g.label("ba")
    g.chains.append(f"[{below}]split[{b1}][{b2}]")
    g.chains.append(f"[{above}]split[{a1}][{a2}]")
    below_rgb = g.add([b1], [TO_RGB], "br")
    above_rgb = g.add([a1], [TO_RGB], "br")
    alpha = g.add([a2], ["alphaextract"], "bal")
    alpha_fmt = "yuva420p10le" if out.pix_fmt.endswith("10le") else "yuva420p"
    mixed = g.add([below_rgb, above_rgb], [f"blend=all_mode={MODES[mode]}", FROM_RGB, pinned_format(alpha_fmt)], "bm")
    mixed = g.add([mixed, alpha], ["alphamerge", pinned_format(alpha_fmt), BT709_TAGS], "bm")
    layout = "yuv420p10" if out.pix_fmt.endswith("10le") else "yuv420"
    return g.add([b2, mixed], [f"overlay=format={layout}:eof_action=pass", pinned_format(fmt), BT709_TAGS], "bl")


def background(g: Graph, frames: int, out: Out, color: str | None = None) -> str:
    """The background colour (or ``color``) for ``frames`` frames: what is below a bottom-track clip."""
    return g.add([], [f"color=c={color or out.background}:s={out.width}x{out.height}:r={rate(out.fps)}",
                      pinned_format(out.pix_fmt), BT709_TAGS, f"trim=end_frame={frames}",
                      f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "bg")


def transparent_frame(g: Graph, frames: int, out: Out, first: int = 0) -> str:
    """A fully transparent frame for ``frames`` frames, its first at frame ``first``."""
    return g.add([], [f"color=c=black@0:s={out.width}x{out.height}:r={rate(out.fps)}", pinned_format("yuva420p"),
                      BT709_TAGS, f"trim=end_frame={frames}", f"settb={fraction_text(1 / out.fps)}",
                      f"setpts=N+{first}" if first else "setpts=N"], "tf")


def blend_overlay(g: Graph, base: str, placed: str, pc: PlacedClip, x: int | str, y: int | str, out: Out,
                  total: int) -> str:
    """An overlay clip (``placed``: its picture with its opacity, on the timeline's clock) blended
    over the composed picture ``base`` (``total`` frames): only the clip's frames are blended."""
    head, rest = cut_at(g, base, pc.start, total, out)
    assert rest is not None
    mid, tail = cut_at(g, rest, pc.frames, total - pc.start, out)
    assert mid is not None
    layout = "yuv420p10" if out.pix_fmt.endswith("10le") else "yuv420"
    # placed by ``overlay`` on a transparent frame (where the frame is transparent, overlay takes
    # the picture's colours as they are, partly transparent or not), on the timeline's clock
    frame = transparent_frame(g, pc.frames, out, pc.start)
    above = g.add([frame, placed], [f"overlay=x={x}:y={y}:format={layout}:eof_action=pass:repeatlast=0",
                                    f"settb={fraction_text(1 / out.fps)}", "setpts=N",
                                    pinned_format("yuva420p"), BT709_TAGS], "ba")
    mid_label = g.add([mid], [f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "bmid")
    blended = blend_over(g, mid_label, above, pc.clip.blend, out, out.pix_fmt)
    return concat_labels(g, [label for label in (head, blended, tail) if label is not None], out)



def blend_track(g: Graph, base: str, track: str, blended: list[PlacedClip], out: Out, total: int) -> str:
    """A higher video track (``track``: full frames with alpha) over the tracks below (``base``):
    ``overlay`` where its clips blend normally, ``blend_over`` on the frames of each clip that has
    a blend mode; both streams are cut at those clips' bounds and the pieces joined back."""
    segments: list[tuple[int, int, str | None]] = []
    cursor = 0
    for pc in sorted(blended, key=lambda p: p.start):
        a, b = max(pc.start, cursor), min(pc.end, total)
        if a >= b:
            continue
        if a > cursor:
            segments.append((cursor, a, None))
        segments.append((a, b, pc.clip.blend))
        cursor = b
    if cursor < total:
        segments.append((cursor, total, None))
    pieces = []
    below: str | None = base
    above: str | None = track
    for a, b, mode in segments:
        assert below is not None and above is not None
        below_piece, below = cut_at(g, below, b - a, total - a, out)
        above_piece, above = cut_at(g, above, b - a, total - a, out)
        assert below_piece is not None and above_piece is not None
        if mode is None:
            pieces.append(g.add([below_piece, above_piece], ["overlay=0:0:eof_action=pass", pinned_format(out.pix_fmt)],
                                "vt"))
        else:
            pieces.append(blend_over(g, below_piece, above_piece, mode, out, out.pix_fmt))
    return concat_labels(g, pieces, out)

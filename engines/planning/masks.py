"""A clip's ``mask`` (``engines.model.looks.Mask``) as an alpha plane: what part of its picture
shows.

The mask is drawn by ``geq`` on a one-plane (gray) picture of the clip's size, then
``alphamerge``d into the picture (multiplied with the alpha it already has, where it may have one).
A steady mask is drawn once, one frame that ``alphamerge`` holds for every frame of the clip (its
cost is one frame's ``geq``: nothing per frame but the merge); only a mask with a keyframed field
is drawn every frame, on the clip's own clock (``motion.clip_clock``), so a frame shows the same
mask in a full render, a chunk and a preview window.

Conventions (all in the clip's picture, ``W`` x ``H`` pixels, pixel centres at ``X + 1/2``):

- the shape's centre is (``x W``, ``y H``); ``rotation`` turns the shape clockwise (degrees, as
  the clip's own rotation) about that centre;
- ``rectangle``: ``width W`` by ``height H``; ``ellipse``: the ellipse inscribed in that box;
- ``linear``: the line through the centre at ``rotation`` (0: horizontal); the side below it
  shows (after a turn, the side the line's "down" normal points to);
- ``mirror``: the band ``height H`` wide centred on that line shows;
- ``feather``: the edge becomes a linear ramp ``feather * min(W, H)`` pixels wide, centred on
  the shape's edge (half inside, half outside); 0 is a hard edge (a pixel shows when its centre
  is strictly inside). For the ellipse the distance to the edge is measured radially, scaled by
  the shorter semi-axis (exact for a circle);
- ``invert``: shows what would be hidden, and hides what would show.
"""

from __future__ import annotations

import math

from engines.ffmpeg.probe import MediaInfo
from engines.model.fields import Keyframes
from engines.model.looks import Mask
from engines.model.timebase import fraction_text
from engines.model.timeline import PlacedClip

from .filtergraph import num, rate
from .graph import Graph, Out
from .motion import clip_clock, const, curve

# pixel formats that carry an alpha (or a transparent palette entry): the mask multiplies it
_ALPHA_FORMATS = ("yuva", "rgba", "bgra", "argb", "abgr", "gbrap", "ya8", "ya16", "pal8")


def animated(mask: Mask) -> bool:
    return any(kf.constant is None for kf in mask.keyframed().values())


def may_have_alpha(info: MediaInfo | None, pc: PlacedClip) -> bool:
    """The clip's picture may be partly transparent before its mask (an image with alpha, a key)."""
    v = info.video if info is not None else None
    fmt = v.pix_fmt if v is not None else ""
    return any(a in fmt for a in _ALPHA_FORMATS) or any(e.type == "chroma_key" for e in pc.clip.filters)


def mask_expr(mask: Mask, w: int, h: int, clock: str | None, peak: int = 255) -> str:
    """``geq``'s value for the pixel (X, Y): ``peak`` where the mask shows, 0 where it hides."""
    def field(name: str) -> str:
        kf: Keyframes = getattr(mask, name)
        if kf.constant is not None:
            return num(kf.constant)
        assert clock is not None, "an animated mask needs the clip's clock"
        return curve(kf, clock)

    rot = mask.rotation
    if rot.constant is not None:
        a = math.radians(rot.constant)
        cos, sin = const(math.cos(a)), const(math.sin(a))
    else:
        cos, sin = f"cos({field('rotation')}*PI/180)", f"sin({field('rotation')}*PI/180)"
    # registers 7, 8: the pixel's centre in the shape's own axes (u along the turned x axis, v down)
    dx, dy = f"(X+0.5-{w}*{field('x')})", f"(Y+0.5-{h}*{field('y')})"
    local = f"st(7\\,{dx}*{cos}+{dy}*{sin})\\;st(8\\,{dy}*{cos}-{dx}*{sin})\\;"
    hw, hh = f"({w}*{field('width')}/2)", f"({h}*{field('height')}/2)"
    if mask.shape == "rectangle":
        d = f"min({hw}-abs(ld(7))\\,{hh}-abs(ld(8)))"
    elif mask.shape == "ellipse":
        d = (f"(1-hypot(ld(7)/max({hw}\\,1e-9)\\,ld(8)/max({hh}\\,1e-9)))*min({hw}\\,{hh})")
    elif mask.shape == "linear":
        d = "ld(8)"
    else:  # mirror
        d = f"{hh}-abs(ld(8))"
    feather = mask.feather
    if feather.constant == 0.0:
        shown = f"gt({d}\\,0)"
    else:
        f = f"({field('feather')}*{min(w, h)})"
        shown = f"if(gt({f}\\,0)\\,clip(0.5+{d}/max({f}\\,1e-9)\\,0\\,1)\\,gt({d}\\,0))"
    if mask.invert:
        shown = f"(1-{shown})"
    return f"{local}round({peak}*{shown})"


def mask_source(g: Graph, pc: PlacedClip, mask: Mask, w: int, h: int, out: Out, gray: str) -> str:
    """The mask as a gray stream of the clip's size: one frame when steady, else one a frame."""
    peak = 1023 if gray.endswith("10le") else 255
    steady = not animated(mask)
    frames = 1 if steady else pc.frames
    clock = None if steady else clip_clock(pc, out, "T", pc.head)
    return g.add([], [f"color=c=black:s={w}x{h}:r={rate(out.fps)}", f"format={gray}", f"trim=end_frame={frames}",
                      f"settb={fraction_text(1 / out.fps)}", "setpts=N",
                      f"geq=lum={mask_expr(mask, w, h, clock, peak)}"], "mk")


def apply_mask(g: Graph, picture: str, pc: PlacedClip, info: MediaInfo | None, w: int, h: int, out: Out,
               fmt: str) -> str:
    """``picture`` (``fmt``, with alpha, ``w`` x ``h``, on the clip's clock: frame 0 is the clip's
    frame ``head``) with its alpha multiplied by the clip's mask."""
    mask = pc.clip.mask
    assert mask is not None
    gray = "gray10le" if fmt.endswith("10le") else "gray"
    m = mask_source(g, pc, mask, w, h, out, gray)
    if may_have_alpha(info, pc):
        whole, alpha = g.label("mp"), g.label("ma")
        g.chains.append(f"[{picture}]split[{whole}][{alpha}]")
        a = g.add([alpha], ["alphaextract", f"format={gray}"], "ma")
        m = g.add([a, m], ["blend=all_mode=multiply"], "mk")
        picture = whole
    return g.add([picture, m], ["alphamerge"], "msk")

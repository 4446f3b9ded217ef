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

from .color import BT709_TAGS, pinned_format
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


def mask_expr(mask: Mask, w: int, h: int, clock: str | None, peak: int = 255, px: str = "X+0.5",
              py: str = "Y+0.5") -> str:
    """``geq``'s value for the pixel (X, Y): ``peak`` where the mask shows, 0 where it hides.
    ``px``, ``py``: the pixel centre's coordinates (``separable`` puts one of them at the shape's
    centre)."""
    def field(name: str) -> str:
        kf: Keyframes = getattr(mask, name)
        if kf.constant is not None:
            return num(kf.constant)
        assert clock is not None, "an animated mask needs the clip's clock"
        return curve(kf, clock)

    rot = mask.rotation
    if rot.constant is not None and rot.constant % 90 == 0:  # exactly: no 6e-17 where a 0 is meant
        cos, sin = {0: ("1", "0"), 1: ("0", "1"), 2: ("(-1)", "0"), 3: ("0", "(-1)")}[int(rot.constant // 90) % 4]
    elif rot.constant is not None:
        a = math.radians(rot.constant)
        cos, sin = const(math.cos(a)), const(math.sin(a))
    else:
        cos, sin = f"cos({field('rotation')}*PI/180)", f"sin({field('rotation')}*PI/180)"
    # registers 7, 8: the pixel's centre in the shape's own axes (u along the turned x axis, v down)
    dx, dy = f"({px}-{w}*{field('x')})", f"({py}-{h}*{field('y')})"
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


def separable(mask: Mask) -> tuple[bool, bool] | None:
    """Whether the mask's alpha is a function of X alone and of Y alone, combined by a minimum
    (a maximum when inverted): (depends on X, depends on Y); None when it is not (an ellipse, a
    turn that is not a multiple of 90 degrees or that is keyframed).

    Why it is exact: the alpha is ``g(min(tx(X), ty(Y)))`` with ``g`` monotonic (the feather's
    clipped ramp, rounded) and each term largest at the shape's centre, so drawing one row with
    ``Y`` at the centre (``g(min(tx(X), ty_max))``) and one column with ``X`` there and taking the
    smaller of the two gives every pixel's value, to the bit."""
    rot = mask.rotation.constant
    if mask.shape == "ellipse" or rot is None or rot % 90 != 0:
        return None
    turned = int(rot // 90) % 2 == 1  # the shape's v axis lies along X
    if mask.shape == "rectangle":
        return True, True
    return (True, False) if turned else (False, True)  # linear, mirror: v alone


def mask_source(g: Graph, pc: PlacedClip, mask: Mask, w: int, h: int, out: Out, gray: str) -> str:
    """The mask as a gray stream of the clip's size: one frame when steady, else one a frame.

    A keyframed mask is drawn by ``geq`` every frame, which costs an expression per pixel (about
    0.3 us at 1080p: 0.2 s a frame); where the shape allows (``separable``) only one row and one
    column are drawn, each stretched to the picture (``scale`` by pixel repetition) and the two
    combined by ``blend`` (``darken``; ``lighten`` when inverted): the same values."""
    peak = 1023 if gray.endswith("10le") else 255
    steady = not animated(mask)
    frames = 1 if steady else pc.frames
    clock = None if steady else clip_clock(pc, out, "T", pc.head)

    def drawn(size: str, px: str = "X+0.5", py: str = "Y+0.5", stretch: bool = False) -> str:
        return g.add([], [f"color=c=black:s={size}:r={rate(out.fps)}", f"format={gray}", f"trim=end_frame={frames}",
                          f"settb={fraction_text(1 / out.fps)}", "setpts=N",
                          f"geq=lum={mask_expr(mask, w, h, clock, peak, px, py)}",
                          f"scale={w}:{h}:flags=neighbor" if stretch else None], "mk")

    axes = separable(mask) if not steady else None
    if axes is None:
        return drawn(f"{w}x{h}")
    parts = []
    if axes[0]:  # one row, at the shape's centre line
        parts.append(drawn(f"{w}x1", py=f"{h}*{_field(mask, 'y', clock)}", stretch=True))
    if axes[1]:
        parts.append(drawn(f"1x{h}", px=f"{w}*{_field(mask, 'x', clock)}", stretch=True))
    if len(parts) == 1:
        return parts[0]
    return g.add(parts, [f"blend=all_mode={'lighten' if mask.invert else 'darken'}"], "mk")


def _field(mask: Mask, name: str, clock: str | None) -> str:
    kf: Keyframes = getattr(mask, name)
    return num(kf.constant) if kf.constant is not None else curve(kf, clock or "")


def apply_mask(g: Graph, picture: str, pc: PlacedClip, info: MediaInfo | None, w: int, h: int, out: Out,
               fmt: str, multiply: bool = False) -> str:
    """``picture`` (``fmt``, with alpha, ``w`` x ``h``, on the clip's clock: frame 0 is the clip's
    frame ``head``) with its alpha multiplied by the clip's mask."""
    mask = pc.clip.mask
    assert mask is not None
    gray = "gray10le" if fmt.endswith("10le") else "gray"
    m = mask_source(g, pc, mask, w, h, out, gray)
    if multiply or may_have_alpha(info, pc):
        whole, alpha = g.label("mp"), g.label("ma")
        g.chains.append(f"[{picture}]split[{whole}][{alpha}]")
        a = g.add([alpha], ["alphaextract", f"format={gray}"], "ma")
        m = g.add([a, m], ["blend=all_mode=multiply"], "mk")
        picture = whole
    return g.add([picture, m], ["alphamerge"], "msk")


def masked(g: Graph, source: str, filters: list[str | None], pc: PlacedClip, info: MediaInfo | None, w: int, h: int,
           out: Out, fmt: str) -> str:
    """``filters`` on ``source`` (a ``w`` x ``h`` picture with alpha on the clip's clock), then the
    clip's mask multiplied into its alpha (which may already hold its opacity): a moving clip's."""
    label = g.add([source], [*filters, pinned_format(fmt), BT709_TAGS], "v")
    return g.add([apply_mask(g, label, pc, info, w, h, out, fmt, multiply=True)], [pinned_format(fmt), BT709_TAGS], "v")

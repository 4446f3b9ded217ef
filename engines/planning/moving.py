"""A clip whose position, scale or rotation is keyframed: each frame sized, turned and placed by
expressions ffmpeg evaluates once a frame."""

from __future__ import annotations

import math
from fractions import Fraction

from engines.ffmpeg.probe import MediaInfo
from engines.ffmpeg.profiles import nearest_even
from engines.model.fields import Keyframes
from engines.model.timebase import fraction_text
from engines.model.timeline import PlacedClip

from .color import BT709_TAGS, pinned_format, to_bt709
from .filtergraph import rate
from .graph import Graph, Out
from .looks import effect_filters
from .masks import masked
from .motion import clip_clock, curve
from .opacity import moving_opacity
from .reading import conform, decode_filters, flip_filters, source_crop


def moving_picture(g: Graph, pc: PlacedClip, read: PlacedClip, idx: int, info: MediaInfo, out: Out, *,
                   overlay: bool, transparent_bg: bool) -> tuple[str, int | str, int | str]:
    """A clip whose position, scale or rotation is keyframed (or that is turned).

    The picture is fitted once into the box at scale 1 (cover's crop taken from the source), then
    each frame is scaled by its own factor (``scale`` with ``eval=frame``: one resample a frame,
    like the fit it replaces), turned (``rotate``, into a transparent square) and placed by
    ``overlay`` at an expression of time: ffmpeg evaluates every curve once a frame, no per-frame
    work happens outside it. Rotation comes before a changing scale (``rotate`` keeps the size it
    was configured with). Video-track clips are placed on a canvas of the background colour.
    """
    clip = pc.clip
    v = info.video
    assert v is not None
    local = clip_clock(pc, out, "t", pc.head)  # the clip's chain: its first frame is the clip's frame ``head``
    default = 0.25 if overlay else 1.0
    scale = clip.scale if clip.scale is not None else Keyframes(points=((Fraction(0), default),))
    crop, size = source_crop(v, clip)
    src_w, src_h = size or v.display_size
    box_w, box_h = nearest_even(out.width), nearest_even(out.height)
    if clip.fit == "cover":
        # crop the source to the box's shape first, so the one scale below is the whole fit
        f = max(Fraction(box_w, src_w), Fraction(box_h, src_h))
        w1, h1 = min(nearest_even(src_w * f), box_w), min(nearest_even(src_h * f), box_h)
        cw, ch = max(2, nearest_even(Fraction(w1) / f)), max(2, nearest_even(Fraction(h1) / f))
        if (cw, ch) != (nearest_even(src_w), nearest_even(src_h)):
            crop.append(f"crop={min(cw, src_w)}:{min(ch, src_h)}")
    elif clip.fit == "contain":
        f = min(Fraction(box_w, src_w), Fraction(box_h, src_h))
        w1, h1 = nearest_even(src_w * f), nearest_even(src_h * f)
    else:
        w1, h1 = box_w, box_h
    rotation = clip.rotation
    turning = rotation.constant != 0.0
    pic_fmt = "yuva420p10le" if out.pix_fmt.endswith("10le") else "yuva420p"
    filters: list[str | None] = [*decode_filters(read, info, out), *crop]
    src = f"{idx}:{v.index}"
    s_expr = curve(scale, local)

    def sized(w: int, h: int) -> str:
        if scale.constant is not None:
            k = Fraction(scale.constant)
            return f"scale={max(2, nearest_even(w * k))}:{max(2, nearest_even(h * k))}"
        return f"scale=w=max(2\\,2*round({w}*({s_expr})/2)):h=max(2\\,2*round({h}*({s_expr})/2)):eval=frame"

    k = Fraction(scale.constant) if scale.constant is not None else Fraction(1)
    looks = {"width": max(2, nearest_even(w1 * k)), "height": max(2, nearest_even(h1 * k)), "scale_y": out.scale_y,
             "alpha": True}
    static_eq = effect_filters(g, clip.filters, clock=None, **looks)
    # filters that keep the size they were configured with (rotate, eq, flip, geq, lut) all run
    # before a scale that changes frame by frame
    steady = [*effect_filters(g, clip.filters, clock=local, pc=pc, fps=out.fps, **looks),
              *(moving_opacity(g, pc, out) if overlay else [])]
    if scale.constant is not None:
        filters += [sized(w1, h1) + to_bt709(v), "setsar=1", *flip_filters(clip), *static_eq, pinned_format(pic_fmt),
                    BT709_TAGS, *conform(read, pc, out), *steady]
        if clip.mask is not None:  # the mask is the picture's: it moves, grows and turns with it
            src, filters = masked(g, src, filters, pc, info, looks["width"], looks["height"], out, pic_fmt), []
        if turning:
            s = Fraction(scale.constant)
            side = nearest_even(math.ceil(math.hypot(nearest_even(w1 * s), nearest_even(h1 * s))))
            filters.append(rotate_filter(rotation, local, side))
    elif turning or static_eq or steady or clip.flip != "none" or clip.mask is not None:
        # fitted once, coloured, faded, masked and turned at that size, then scaled frame by frame
        filters += [f"scale={w1}:{h1}{to_bt709(v)}", "setsar=1", *flip_filters(clip), *static_eq, pinned_format(pic_fmt),
                    BT709_TAGS, *conform(read, pc, out), *steady]
        if clip.mask is not None:
            src, filters = masked(g, src, filters, pc, info, w1, h1, out, pic_fmt), []
        side = nearest_even(math.ceil(math.hypot(w1, h1))) if turning else 0
        filters += [rotate_filter(rotation, local, side), sized(side, side)] if turning else [sized(w1, h1)]
    else:
        # the common zoom: one resample a frame, fit and zoom together
        filters += [*conform(read, pc, out), sized(w1, h1) + to_bt709(v), "setsar=1"]
    filters += [pinned_format(pic_fmt), BT709_TAGS]
    label = g.add([src], filters, "v")
    if overlay:
        # placed by the overlay, whose ``t`` is the composed picture's: frame ``start`` is the clip's ``head``
        timeline = clip_clock(pc, out, "t", pc.head - pc.start)
        return (label, position_expr(clip.x, timeline, out.width, "overlay_w"),
                position_expr(clip.y, timeline, out.height, "overlay_h"))
    fmt = "yuva420p" if transparent_bg else out.pix_fmt
    canvas = g.add([], [f"color=c={'black@0' if transparent_bg else out.background}:s={out.width}x{out.height}"
                        f":r={rate(out.fps)}", pinned_format(fmt), BT709_TAGS, f"trim=end_frame={pc.frames}",
                        f"settb={fraction_text(1 / out.fps)}", "setpts=N"], "cv")
    blend = "yuv420p10" if out.pix_fmt.endswith("10le") else "yuv420"
    placed = g.add([canvas, label], [f"overlay=x={position_expr(clip.x, local, out.width, 'overlay_w')}"
                                     f":y={position_expr(clip.y, local, out.height, 'overlay_h')}"
                                     f":eval=frame:format={blend}:eof_action=pass",
                                     pinned_format(fmt), BT709_TAGS], "mv")
    return placed, 0, 0


def rotate_filter(rotation: Keyframes, clock: str, side: int) -> str:
    """Clockwise degrees about the centre, into a transparent ``side``-pixel square."""
    return f"rotate=a={curve(rotation, clock)}*PI/180:ow={side}:oh={side}:c=black@0"


def position_expr(kf: Keyframes, clock: str, extent: int, size_var: str) -> str:
    """The top-left coordinate that puts the picture's centre at the keyframed fraction."""
    return f"round({extent}*{curve(kf, clock)}-{size_var}/2)"

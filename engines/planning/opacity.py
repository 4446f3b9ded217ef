"""A clip's opacity (a number or keyframes) as the cheapest exact filters on its alpha."""

from __future__ import annotations

from fractions import Fraction

from engines.model.timebase import frames_to_seconds, to_ffmpeg_seconds
from engines.model.timeline import PlacedClip

from .filtergraph import num, quote
from .graph import Graph, Out


def timeline_points(pc: PlacedClip, points: tuple[tuple[Fraction, float], ...], fps: Fraction):
    """Keyframes (relative to the clip's start) on this timeline's clock."""
    origin = frames_to_seconds(pc.origin, fps) - pc.offset
    return [(origin + t, v) for t, v in points]


def opacity_filters(g: Graph, pc: PlacedClip, out: Out) -> str | None:
    """Alpha scaled by the clip's opacity curve, each piece by the cheapest exact filter.

    A flat piece is a lookup table on alpha (``lut``: one table read a pixel; the other planes
    pass as ``val``, unclipped); only a ramp needs ``geq``'s per-pixel expression, and only on
    its own frames (``enable``): on the reference edit a 0.5 s fade-in under a 16.5 s logo at 0.8
    cost 2.9 s of CPU as one ``geq`` over every frame, the whole render's margin over a
    hand-written command. Both truncate ``alpha × value`` the same way, so the pixels do not
    change. Pieces are half-open in the frame's time ``t`` (``gte``/``lt`` on the same bound), so
    a frame on a keyframe belongs to exactly one of them.
    """
    kf = pc.clip.opacity
    if kf.constant == 1.0:
        return None
    if kf.constant is not None:
        return alpha_lut(kf.constant, None, None)
    if not kf.linear:  # eased: a table a frame (the stream's frame 0 is the clip's at ``start``)
        return ",".join(opacity_table(g, pc, out, pc.start))
    points = timeline_points(pc, kf.points, out.fps)
    pieces = [(None, points[0][0], points[0][1], points[0][1])]
    pieces += [(t0, t1, v0, v1) for (t0, v0), (t1, v1) in zip(points, points[1:]) if t1 > t0]
    pieces.append((points[-1][0], None, points[-1][1], points[-1][1]))
    first, end = frames_to_seconds(pc.start, out.fps), frames_to_seconds(pc.end, out.fps)
    filters = []
    for lo, hi, v0, v1 in pieces:
        if (hi is not None and hi <= first) or (lo is not None and lo >= end):
            continue  # no frame of the clip is in it
        if v0 != v1:
            ramp = f"{num(v0)}+({num(v1 - v0)})*(T-{to_ffmpeg_seconds(lo)})/{to_ffmpeg_seconds(hi - lo)}"
            filters.append(f"geq=lum=lum(X\\,Y):cb=cb(X\\,Y):cr=cr(X\\,Y):a=alpha(X\\,Y)*({ramp})"
                           f":enable={enable_between(lo, hi)}")
        elif v0 != 1.0:
            filters.append(alpha_lut(v0, lo, hi))
    return ",".join(filters) or None


def enable_between(lo: Fraction | None, hi: Fraction | None) -> str:
    """Timeline ``enable`` for ``lo <= t < hi`` (an open end where ``None``)."""
    terms = ([f"gte(t\\,{to_ffmpeg_seconds(lo)})"] if lo is not None else []) + \
            ([f"lt(t\\,{to_ffmpeg_seconds(hi)})"] if hi is not None else [])
    return "*".join(terms)


def alpha_lut(value: float, lo: Fraction | None, hi: Fraction | None) -> str:
    enable = enable_between(lo, hi)
    return f"lut=y=val:u=val:v=val:a=val*{num(value)}" + (f":enable={enable}" if enable else "")


def moving_opacity(g: Graph, pc: PlacedClip, out: Out) -> list[str]:
    """A moving overlay's opacity, in its own chain at a steady size (``lut`` keeps the size it was
    configured with): a table for a constant, a table changed every frame for a curve."""
    kf = pc.clip.opacity
    if kf.constant == 1.0:
        return []
    if kf.constant is not None:
        return [alpha_lut(kf.constant, None, None)]
    return opacity_table(g, pc, out, 0)


def opacity_table(g: Graph, pc: PlacedClip, out: Out, first: int) -> list[str]:
    """An eased opacity curve as an alpha table (``lut``) that ``sendcmd`` sets before each frame
    whose value changes, the values worked out here from the clip's own frame numbers (the model's
    curve): one table of 256 entries a frame, where a per-pixel expression (``geq``) would solve
    the curve for every pixel. The stream's frame ``i`` is at ``(first + i) / fps``; a command is
    timed half a frame before its frame, so no rounding puts it on the wrong one."""
    kf = pc.clip.opacity
    name = g.label("op")
    lines, last = [], None
    for i in range(pc.frames):
        value = round(kf.value_at(frames_to_seconds(pc.head + i, out.fps) + pc.offset), 6)
        if value != last:
            at = frames_to_seconds(first + i, out.fps) - Fraction(1, 2) / out.fps
            lines.append(f"{to_ffmpeg_seconds(max(Fraction(0), at))} lut@{name} a val*{num(value)};")
            last = value
    cmd = f"opacity_{pc.clip.id}.cmd"
    g.files[cmd] = "\n".join(lines) + "\n"
    first_value = kf.value_at(frames_to_seconds(pc.head, out.fps) + pc.offset)
    return [f"sendcmd=f={quote(cmd)}", f"lut@{name}=y=val:u=val:v=val:a=val*{num(round(first_value, 6))}"]

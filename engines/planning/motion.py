"""Keyframes and speed ramps as ffmpeg expressions, evaluated by ffmpeg once per frame.

Each expression follows ``engines.model.motion`` step for step (the same bisection, the same
polynomials, the constants written with every digit), so what ffmpeg draws is what the model
computes. Commas and semicolons are escaped: the text sits inside a filter option of a graph.
"""

from __future__ import annotations

from fractions import Fraction

from engines.model.fields import Keyframes
from engines.model.motion import BISECTIONS, Ease, TimeMap, bezier_of, coefficients, integral_coefficients
from engines.model.timebase import to_ffmpeg_seconds
from engines.model.timeline import PlacedClip

from .filtergraph import num, piecewise_linear
from .graph import Out


def const(x: float) -> str:
    """A double written so that ffmpeg reads back the same value."""
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def horner(c: tuple[float, ...], s: str) -> str:
    """``c[0] s + c[1] s^2 + ...`` in the order ``motion.poly`` computes it."""
    acc = ""
    for k in reversed(c):
        acc = f"({const(k)})*{s}" if not acc else f"({acc}+{const(k)})*{s}"
    return acc


def _solve(c: tuple[float, ...], target: str) -> str:
    """Bisection for ``s`` with ``poly(c, s) = target``; leaves ``s`` in register 3."""
    return (f"st(4\\,{target})\\;st(0\\,0)\\;st(1\\,1)\\;st(2\\,0)\\;"
            f"while(lt(ld(2)\\,{BISECTIONS})\\,st(3\\,(ld(0)+ld(1))/2)\\;"
            f"if(lt({horner(c, 'ld(3)')}\\,ld(4))\\,st(0\\,ld(3))\\,st(1\\,ld(3)))\\;st(2\\,ld(2)+1))\\;"
            f"st(3\\,(ld(0)+ld(1))/2)")


def progress_expr(ease: Ease, u: str) -> str:
    """``motion.progress`` as an expression in the segment's progress ``u``."""
    if ease == "linear":
        return u
    if ease == "hold":
        return "0"
    x1, y1, x2, y2 = bezier_of(ease)  # type: ignore[misc]
    return f"({_solve(coefficients(x1, x2), u)}\\;{horner(coefficients(y1, y2), 'ld(3)')})"


def keyframe_expr(points: list[tuple[Fraction, float]], eases: tuple[Ease, ...], var: str) -> str:
    """The keyframed value at ``var`` seconds (keys on the same clock): linear keys exactly as
    ``filtergraph.piecewise_linear`` writes them, eased segments through ``progress_expr``."""
    if not eases or all(e == "linear" for e in eases):
        return piecewise_linear(points, var)
    if len({v for _, v in points}) == 1:
        return num(points[0][1])
    expr = num(points[-1][1])
    for i in reversed(range(len(points) - 1)):
        (t0, v0), (t1, v1) = points[i], points[i + 1]
        if t1 == t0:
            seg = num(v1)
        else:
            u = f"({var}-{to_ffmpeg_seconds(t0)})/{to_ffmpeg_seconds(t1 - t0)}"
            seg = f"{const(v0)}+({const(v1 - v0)})*{progress_expr(eases[i], u)}"
        expr = f"if(lt({var}\\,{to_ffmpeg_seconds(t1)})\\,{seg}\\,{expr})"
    return f"if(lt({var}\\,{to_ffmpeg_seconds(points[0][0])})\\,{num(points[0][1])}\\,{expr})"


def ramp_timeline_expr(ramp: TimeMap, r: str) -> str:
    """``TimeMap.timeline``: the clip's timeline seconds at which the source has advanced ``r``
    seconds (register 5 holds ``r``)."""
    pts = ramp.points
    expr = f"{const(float(pts[-1][0]))}+(ld(5)-{const(ramp.at_key[-1])})/{const(pts[-1][1])}"
    for i in reversed(range(len(pts) - 1)):
        (t0, v0), (t1, v1) = pts[i], pts[i + 1]
        d = float(t1 - t0)
        ease = ramp.eases[i]
        if ease == "hold":
            seg = f"{const(float(t0))}+(ld(5)-{const(ramp.at_key[i])})/{const(v0)}"
        else:
            b = bezier_of(ease)
            assert b is not None
            cx = coefficients(b[0], b[2])
            c = tuple(v0 * a + (v1 - v0) * p for a, p in zip(cx + (0.0, 0.0, 0.0), integral_coefficients(ease)))
            target = f"(ld(5)-{const(ramp.at_key[i])})/{const(d)}"
            s = "ld(3)" if ease == "linear" else horner(cx, "ld(3)")
            seg = f"({_solve(c, target)}\\;{const(float(t0))}+{const(d)}*{s})"
        expr = f"if(lt(ld(5)\\,{const(ramp.at_key[i + 1])})\\,{seg}\\,{expr})"
    expr = f"if(lt(ld(5)\\,{const(ramp.at_key[0])})\\,ld(5)/{const(pts[0][1])}\\,{expr})"
    return f"st(5\\,{r})\\;{expr}"


def clip_clock(pc: PlacedClip, out: Out, var: str, frames_before: int) -> str:
    """The clip's own seconds as an expression, from a stream time ``var`` whose frame 0 is the
    clip's frame ``frames_before``: the frame index is rounded to a whole number first, so the
    clip's frame ``c`` gives the same double ``c / fps`` in every window and chunk (keys shifted
    by a window's start would round differently, a code value here and there)."""
    n, d = out.fps.numerator, out.fps.denominator
    frame = f"round({var}*{n}/{d})" + (f"+{frames_before}" if frames_before > 0 else
                                        f"-{-frames_before}" if frames_before < 0 else "")
    offset = f"+{const(float(pc.offset))}" if pc.offset else ""
    return f"({frame})*{d}/{n}{offset}"


def curve(kf: Keyframes, clock: str) -> str:
    """A keyframed field as an expression of the clip's seconds (register 6 holds them)."""
    if kf.constant is not None:
        return num(kf.constant)
    return f"(st(6\\,{clock})\\;{keyframe_expr(list(kf.points), kf.eases, 'ld(6)')})"

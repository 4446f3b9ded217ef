"""Keyframe easing and the speed ramp's time map: the math, kept pure and shared.

The model evaluates a curve at a time (clip lengths, the studio's preview, tests); planning writes
the same curve as an ffmpeg expression (``engines.planning.motion``). Both follow one recipe, step
for step, so a value the engine draws is the value the model computes:

- an ease is a CSS cubic Bézier ``(x1, y1, x2, y2)`` from (0, 0) to (1, 1); ``linear`` is the
  progress itself and ``hold`` keeps the first value until the next key;
- the Bézier is solved for its parameter by bisection, a fixed ``BISECTIONS`` steps (2^-40 of a
  segment: far below a pixel or a sample, and no iteration count that depends on the frame, so
  neighbouring frames cannot jitter);
- a speed ramp's source time is the integral of speed, exact per segment: with ``u = x(s)``
  the integral of ``y`` over ``u`` is the polynomial ``∫ y(s) x'(s) ds`` (degree 6).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Union

Bezier = tuple[float, float, float, float]
Ease = Union[str, Bezier]

EASE_NAMES = ("linear", "hold", "ease_in", "ease_out", "ease_in_out")
# the CSS timing functions of the same names
PRESETS: dict[str, Bezier] = {"ease_in": (0.42, 0.0, 1.0, 1.0), "ease_out": (0.0, 0.0, 0.58, 1.0),
                              "ease_in_out": (0.42, 0.0, 0.58, 1.0)}
# x(s) = s and y(s) = s exactly: linear written as a Bézier (the speed integral uses it)
LINEAR_BEZIER: Bezier = (1 / 3, 1 / 3, 2 / 3, 2 / 3)
BISECTIONS = 40


def bezier_of(ease: Ease) -> Bezier | None:
    """The control points of an ease (``None`` for ``hold``)."""
    if ease == "hold":
        return None
    if ease == "linear":
        return LINEAR_BEZIER
    if isinstance(ease, str):
        return PRESETS[ease]
    return ease


def coefficients(p1: float, p2: float) -> tuple[float, float, float]:
    """``3 p1 s (1-s)^2 + 3 p2 s^2 (1-s) + s^3`` as ``c1 s + c2 s^2 + c3 s^3``."""
    return 3 * p1, 3 * p2 - 6 * p1, 3 * p1 - 3 * p2 + 1


def poly(c: tuple[float, ...], s: float) -> float:
    """``c[0] s + c[1] s^2 + ...`` by Horner, in the order the ffmpeg expression uses."""
    acc = 0.0
    for k in reversed(c):
        acc = (acc + k) * s
    return acc


def solve(cx: tuple[float, ...], target: float) -> float:
    """The parameter ``s`` in [0, 1] where the increasing polynomial ``cx`` reaches ``target``."""
    lo, hi = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = (lo + hi) / 2
        if poly(cx, mid) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def progress(ease: Ease, u: float) -> float:
    """How far (0..1) a segment's value has moved at ``u`` (0..1) of its time."""
    if ease == "linear":
        return u
    if ease == "hold":
        return 0.0
    x1, y1, x2, y2 = bezier_of(ease)  # type: ignore[misc]
    return poly(coefficients(y1, y2), solve(coefficients(x1, x2), u))


def value_at(points: tuple[tuple[Fraction, float], ...], eases: tuple[Ease, ...], t: Fraction) -> float:
    """A keyframed value at ``t`` seconds: flat before the first and after the last key; each
    segment ``[t0, t1)`` shaped by its first key's ease."""
    if t < points[0][0]:
        return points[0][1]
    for i, ((t0, v0), (t1, v1)) in enumerate(zip(points, points[1:])):
        if t < t1:
            ease = eases[i] if eases else "linear"
            return v0 + (v1 - v0) * progress(ease, float((t - t0) / (t1 - t0)))
    return points[-1][1]


def integral_coefficients(ease: Ease) -> tuple[float, ...]:
    """``P(s) = ∫_0^s y(σ) x'(σ) dσ`` as coefficients of s, s^2 .. s^6 (``hold``: none)."""
    b = bezier_of(ease)
    if b is None:
        return ()
    ax, ay = coefficients(b[0], b[2]), coefficients(b[1], b[3])
    dx = (ax[0], 2 * ax[1], 3 * ax[2])  # x'(σ) = dx0 + dx1 σ + dx2 σ^2
    prod = [0.0] * 6                     # y(σ) x'(σ): powers σ^1 .. σ^5
    for i, yc in enumerate(ay):          # yc σ^(i+1)
        for j, dc in enumerate(dx):      # dc σ^j
            prod[i + j] += yc * dc
    return (0.0,) + tuple(c / (k + 2) for k, c in enumerate(prod))  # ∫ σ^(k+1) = s^(k+2)/(k+2)


class TimeMap:
    """A speed ramp: timeline seconds from the clip's start <-> source seconds from ``source_in``.

    Before the first key and after the last the speed is flat, so the map runs on in straight lines.
    """

    def __init__(self, points: tuple[tuple[Fraction, float], ...], eases: tuple[Ease, ...]):
        self.points = points
        self.eases = eases or tuple("linear" for _ in points)
        # source seconds consumed up to each key
        acc = float(points[0][0]) * points[0][1]
        self.at_key = [acc]
        for i, ((t0, v0), (t1, v1)) in enumerate(zip(points, points[1:])):
            acc += self._segment(i, float(t1 - t0), v0, v1, 1.0)
            self.at_key.append(acc)

    def _segment(self, i: int, d: float, v0: float, v1: float, s: float) -> float:
        """Source seconds consumed in segment ``i`` up to its Bézier parameter ``s``."""
        ease = self.eases[i]
        if ease == "hold":
            return d * v0 * s
        b = bezier_of(ease)
        assert b is not None
        return d * (v0 * poly(coefficients(b[0], b[2]), s) + (v1 - v0) * poly(integral_coefficients(ease), s))

    def source(self, t: float) -> float:
        """Source seconds after ``source_in`` shown ``t`` timeline seconds into the clip."""
        pts = self.points
        if t < float(pts[0][0]):
            return t * pts[0][1]
        for i, ((t0, v0), (t1, v1)) in enumerate(zip(pts, pts[1:])):
            if t < float(t1):
                d = float(t1 - t0)
                u = (t - float(t0)) / d
                ease = self.eases[i]
                if ease == "hold":
                    return self.at_key[i] + d * v0 * u
                b = bezier_of(ease)
                assert b is not None
                s = u if ease == "linear" else solve(coefficients(b[0], b[2]), u)
                return self.at_key[i] + self._segment(i, d, v0, v1, s)
        return self.at_key[-1] + (t - float(pts[-1][0])) * pts[-1][1]

    def timeline(self, r: float) -> float:
        """The inverse: timeline seconds at which the source has advanced ``r`` seconds."""
        pts = self.points
        if r < self.at_key[0]:
            return r / pts[0][1]
        for i, ((t0, v0), (t1, v1)) in enumerate(zip(pts, pts[1:])):
            if r < self.at_key[i + 1]:
                d = float(t1 - t0)
                ease = self.eases[i]
                if ease == "hold":
                    return float(t0) + (r - self.at_key[i]) / v0
                b = bezier_of(ease)
                assert b is not None
                cx = coefficients(b[0], b[2])
                # the segment's integral, divided by d: v0 x(s) + (v1 - v0) P(s), increasing in s
                c = tuple(v0 * a + (v1 - v0) * p for a, p in zip(cx + (0.0, 0.0, 0.0), integral_coefficients(ease)))
                s = solve(c, (r - self.at_key[i]) / d)
                return float(t0) + d * (s if ease == "linear" else poly(cx, s))
        return float(pts[-1][0]) + (r - self.at_key[-1]) / pts[-1][1]

    def length(self, source_range: Fraction) -> Fraction:
        """Timeline seconds the clip needs to play ``source_range`` (microseconds, exact)."""
        return Fraction(round(self.timeline(float(source_range)) * 1_000_000), 1_000_000)

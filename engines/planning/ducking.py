"""Ducking: an audio track lowered by ``amount_db`` while any of the tracks it ducks under sounds (pure).

Gain automation from the timeline, not a sidechain compressor: the stretches where the named
tracks have sound are known exactly when planning (their audible clips), so the gain is a
function of absolute time — exactly ``amount_db`` down, ramped over ``attack`` from a voice's
start and over ``release`` after its end. A function of time gives the same samples in a
chunk, a preview window and a single pass, with no lookahead delay and no dependence on a
compressor's threshold and ratio (``sidechaincompress`` reduces by an amount that depends on
how loud the voice is, and carries state from before a window's start). The cost: a pause
inside a voice clip does not lift the music; split the clip to let it through.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from engines.model.project import Duck, Project
from engines.model.timebase import frames_to_seconds
from engines.model.timeline import Timeline

from .filtergraph import num, piecewise_linear


@dataclass(frozen=True)
class DuckPlan:
    duck: Duck
    spans: tuple[tuple[Fraction, Fraction], ...]  # absolute timeline seconds where the named tracks sound


def plan_ducks(project: Project, full: Timeline) -> dict[int, DuckPlan]:
    """Track index -> its ducking, from the whole timeline (a window's ramps start outside it too)."""
    ids = {t.id: i for i, t in enumerate(project.tracks)}
    out = {}
    for ti, track in enumerate(project.tracks):
        if track.duck is None:
            continue
        spans = sorted((frames_to_seconds(pc.start, full.fps), frames_to_seconds(pc.end, full.fps))
                       for name in track.duck.under if name in ids for pc in full.tracks[ids[name]]
                       if pc.frames > 0 and not pc.clip.muted and pc.clip.volume.constant != 0
                       and not pc.clip.is_text)
        out[ti] = DuckPlan(track.duck, tuple(_merge(spans, track.duck)))
    return out


def _merge(spans: list[tuple[Fraction, Fraction]], duck: Duck) -> list[tuple[Fraction, Fraction]]:
    """Spans whose ramps would meet become one: the music stays down between close phrases."""
    gap = Fraction(duck.attack) + Fraction(duck.release)
    merged: list[tuple[Fraction, Fraction]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def depth_points(plan: DuckPlan) -> list[tuple[Fraction, float]]:
    """0 (untouched) .. 1 (fully ducked) keyframes over absolute time."""
    attack, release = Fraction(plan.duck.attack), Fraction(plan.duck.release)
    points: list[tuple[Fraction, float]] = [(Fraction(0), 0.0)]
    for s, e in plan.spans:
        down = min(s + attack, e)
        level = float((down - s) / attack) if attack else 1.0
        points += [(s, 0.0), (down, level), (e, level), (e + release, 0.0)]
    return points


def duck_filter(plan: DuckPlan | None, offset: Fraction) -> str | None:
    """The ducking gain of a stream whose first sample is at absolute time ``offset`` (None: no
    ducking). Applied to each of a ducked track's clips: a function of absolute time, so the
    clips need not be mixed into one stream first and every window gets the same samples."""
    if plan is None or not plan.spans:
        return None
    depth = piecewise_linear([(t - offset, v) for t, v in depth_points(plan)], "t")
    return f"volume=pow(10\\,-{num(plan.duck.amount_db)}*({depth})/20):eval=frame"

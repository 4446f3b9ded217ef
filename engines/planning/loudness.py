"""Loudness targets and the linear normalisation applied to the final mix (pure).

Delivery profiles carry a target (``social_1080p`` -14 LUFS / -1 dBTP, ``master_4k`` -16 / -1);
drafts and previews are never touched, and ``settings.loudness`` can turn it off or name its
own target. The whole mix is measured once (BS.1770 integrated loudness and true peak, by
ffmpeg's ``ebur128``; see ``engines.rendering.loudness``), then one exact gain takes it to the
target: a single number, so every chunk and a single pass sound the same. Only when that gain
would push the true peak over the ceiling does a limiter run, at 4x the sample rate (so it
sees inter-sample peaks), with 1 dB of headroom for the AAC encoder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from engines.ffmpeg.profiles import RenderProfile
from engines.model.project import LoudnessTarget, Project

from .filtergraph import num
from .render_plan import RenderPlan, hash_plan

PROFILE_TARGETS: dict[str, tuple[float, float]] = {  # profile -> (integrated LUFS, true peak dBTP)
    "social_1080p": (-14.0, -1.0),
    "master_4k": (-16.0, -1.0),
    "web_1080p_webm": (-14.0, -1.0),  # like social: played in browsers next to other web video
    "audio_m4a": (-16.0, -1.0),       # spoken word and music players' common target
    # prores_master: none: a master goes on to another editor, who finishes the mix
}
SILENCE_LUFS = -70.0   # BS.1770's absolute gate: below it there is nothing to normalise
LIMITER_HEADROOM = 1.0  # dB under the ceiling for the limiter (the AAC encoder adds up to ~0.6 dB, measured)


@dataclass(frozen=True)
class Target:
    integrated_lufs: float
    true_peak_dbtp: float


@dataclass(frozen=True)
class Measurement:
    integrated_lufs: float  # -inf for silence
    true_peak_dbtp: float

    def to_dict(self) -> dict[str, float | None]:
        return {"integrated_lufs": _finite(self.integrated_lufs), "true_peak_dbtp": _finite(self.true_peak_dbtp)}


def _finite(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


def loudness_target(project: Project, profile: RenderProfile) -> Target | None:
    """The target for this render, or None (drafts, previews, ``"off"``, profiles without one)."""
    choice = project.settings.loudness
    if profile.role != "delivery" or choice == "off":
        return None
    if isinstance(choice, LoudnessTarget):
        return Target(choice.integrated_lufs, choice.true_peak_dbtp)
    found = PROFILE_TARGETS.get(profile.name)
    return Target(*found) if found else None


def gain_db(measured: Measurement, target: Target) -> float:
    """The one gain that takes the measured mix to the target (0 for silence)."""
    if not math.isfinite(measured.integrated_lufs) or measured.integrated_lufs <= SILENCE_LUFS:
        return 0.0
    return target.integrated_lufs - measured.integrated_lufs


def normalise_filters(measured: Measurement, target: Target, sample_rate: int) -> list[str]:
    """Filters from the mix to the normalised mix: a gain, and a true-peak limiter only if needed."""
    gain = gain_db(measured, target)
    filters = [f"volume={num(round(gain, 4))}dB"] if abs(gain) >= 0.005 else []
    if math.isfinite(measured.true_peak_dbtp) and measured.true_peak_dbtp + gain > target.true_peak_dbtp:
        ceiling = 10 ** ((target.true_peak_dbtp - LIMITER_HEADROOM) / 20)
        filters += [f"aresample={4 * sample_rate}",
                    # level=0: no make-up gain (the level is the gain's); latency=1: no delay
                    f"alimiter=limit={num(round(max(ceiling, 0.0625), 6))}:attack=1:release=50:level=0:latency=1",
                    f"aresample={sample_rate}"]
    return filters


def with_normalisation(graph: str, filters: list[str], fmt: str) -> str:
    """The graph with ``filters`` after the mix: its ``[aout]`` output renamed and re-emitted."""
    if not filters:
        return graph
    assert graph.count("[aout]") == 1, "the audio graph ends in one [aout]"
    return graph.replace("[aout]", "[amix]") + ";\n[amix]" + ",".join([*filters, fmt]) + "[aout]"


_I = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS", re.S)
_TP = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS", re.S)


def parse_ebur128(log: str) -> Measurement | None:
    """The summary ffmpeg's ``ebur128=peak=true`` prints at the end."""
    i, tp = _I.search(log), _TP.search(log)
    if not i or not tp:
        return None
    return Measurement(float(i.group(1)), float(tp.group(1)))


def apply_loudness(plan: RenderPlan, measured: Measurement, target: Target) -> RenderPlan:
    """The plan with its final mix normalised to ``target`` (hash and meta updated)."""
    sr = plan.sample_rate
    filters = normalise_filters(measured, target, sr)
    if filters:  # exactly the planned sample count, whatever the resampling around the limiter did
        filters += ["apad", f"atrim=end_sample={plan.samples}", "asetpts=N/SR/TB"]
    fmt = f"aformat=sample_fmts=fltp:sample_rates={sr}:channel_layouts=stereo"
    meta = dict(plan.meta, loudness={"target_lufs": target.integrated_lufs,
                                     "target_true_peak_dbtp": target.true_peak_dbtp,
                                     "mix": measured.to_dict(), "gain_db": round(gain_db(measured, target), 2),
                                     "limiter": any(f.startswith("alimiter") for f in filters)})
    out = plan.model_copy(update={"filter_graph": with_normalisation(plan.filter_graph, filters, fmt), "meta": meta})
    return out.model_copy(update={"plan_hash": hash_plan(out)})

"""Hardware choice as a policy, decided purely from a ``HardwareReport``.

``--hw`` / ``CUTLITE_HW``:
- ``cpu``: off. Always the CPU encoder.
- ``auto`` (default): if possible. The first usable family in the fixed order nvenc,
  videotoolbox, vaapi, qsv; otherwise the CPU, with the reason recorded in plan meta.
- ``gpu``: required, any family. ``nvenc`` / ``videotoolbox`` / ``vaapi`` / ``qsv``: required,
  that family. Unusable -> HardwareError with the trial encode's reason and a fix, because a
  caller who named the hardware should not silently get a CPU render.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from engines.errors import HardwareError, ValidationError

from .profiles import GPU_CODECS, GPU_FAMILIES, encoder_name
from .runner import HardwareReport

HW_CHOICES = ("auto", "cpu", "gpu") + GPU_FAMILIES


@dataclass(frozen=True)
class HardwareDecision:
    requested: str
    family: str
    encoder: str
    reason: str
    fell_back: bool
    detail: str = ""  # each candidate's trial-encode result, when it matters

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def requested_hw(explicit: str | None = None) -> str:
    choice = (explicit or os.environ.get("CUTLITE_HW") or "auto").strip().lower()
    if choice not in HW_CHOICES:
        raise ValidationError([f"hw: unknown hardware choice \"{choice}\"; choose one of {', '.join(HW_CHOICES)}"])
    return choice


def decide_hardware(requested: str, codec: str | None, report: HardwareReport | None) -> HardwareDecision:
    """The encoder family for ``codec`` under the policy above. Deterministic for a report.

    ``cpu`` needs no report (callers skip the GPU probe for it), nor does a codec without a GPU
    mapping (``GPU_CODECS``); every other choice does.
    """
    if requested == "cpu":
        return HardwareDecision(requested, "cpu", encoder_name("cpu", codec), "CPU requested", False)
    if codec not in GPU_CODECS:  # the delivery formats (VP9, ProRes, GIF, sound only): no GPU mapping
        what = codec or "an audio-only output"
        if requested == "auto":
            return HardwareDecision(requested, "cpu", encoder_name("cpu", codec),
                                    f"{what} has no GPU encoder mapping; the CPU", False)
        raise HardwareError(f"--hw {requested}: {what} has no GPU encoder mapping", stage="hardware",
                            requested=requested, codec=codec, hint="render it with --hw auto or --hw cpu")
    if report is None:
        raise ValueError("a hardware report is needed for --hw " + requested)
    candidates = GPU_FAMILIES if requested in ("auto", "gpu") else (requested,)
    for family in candidates:
        if report.usable(family, codec):
            return HardwareDecision(requested, family, encoder_name(family, codec),
                                    f"{encoder_name(family, codec)} passed its trial encode", False)
    why = "; ".join(f"{encoder_name(f, codec)}: {report.reason(f, codec)}" for f in candidates)
    if requested == "auto":
        return HardwareDecision(requested, "cpu", encoder_name("cpu", codec),
                                f"no usable GPU encoder for {codec}; using the CPU", True, why)
    raise HardwareError(
        f"--hw {requested}: no usable {codec} hardware encoder ({why})", stage="hardware",
        requested=requested, codec=codec,
        hint="render with --hw auto (falls back to the CPU) or --hw cpu; `cutlite doctor` shows each trial encode")


"""Preview strategies: which profile a preview renders at, and which window it covers.

Pure rules, no I/O:
- ``fast`` -> ``draft_360p``, ``balanced`` -> ``draft_480p``, ``quality`` -> ``preview_720p``;
  the profiles themselves never upscale past the project's size nor exceed its fps.
- A preview that must read a full-resolution source (its proxy is missing) renders at draft
  quality: ``quality`` drops to ``draft_480p``; the draft profiles stay as they are.
- ``start``/``end`` are seconds on the project's timeline, snapped to the preview's frame grid
  (ties go to the earlier frame, as everywhere); the window is half-open ``[start, end)``.
"""

from __future__ import annotations

from fractions import Fraction

from engines.errors import ValidationError
from engines.ffmpeg.profiles import RenderProfile, get_profile
from engines.model.timebase import fraction_text, parse_time, snap_to_frame

STRATEGIES: dict[str, str] = {"fast": "draft_360p", "balanced": "draft_480p", "quality": "preview_720p"}
FALLBACK_PROFILE: dict[str, str] = {"preview_720p": "draft_480p"}  # full-resolution reads: draft quality


def strategy_profile(strategy: str) -> RenderProfile:
    if strategy not in STRATEGIES:
        raise ValidationError([f"strategy: must be one of {', '.join(STRATEGIES)} (got {strategy!r})"],
                              stage="preview")
    return get_profile(STRATEGIES[strategy])


def fallback_profile(profile: RenderProfile) -> RenderProfile:
    """The profile a preview uses when some picture comes from a full-resolution source."""
    return get_profile(FALLBACK_PROFILE.get(profile.name, profile.name))


def parse_window(start: object, end: object) -> tuple[Fraction | None, Fraction | None]:
    """``start``/``end`` as exact seconds (None when not given); every problem named at once."""
    problems: list[str] = []
    times: list[Fraction | None] = []
    for name, value in (("start", start), ("end", end)):
        if value is None:
            times.append(None)
            continue
        try:
            t = parse_time(value)
        except (ValueError, TypeError) as exc:
            problems.append(f"{name}: {exc}")
            times.append(None)
            continue
        if t < 0:
            problems.append(f"{name}: must be >= 0 seconds")
        times.append(t)
    a, b = times
    if a is not None and b is not None and b <= a:
        problems.append(f"end: must be after start ({fraction_text(b)} <= {fraction_text(a)})")
    if problems:
        raise ValidationError(problems, stage="preview")
    return a, b


def window_frames(start: Fraction | None, end: Fraction | None, fps: Fraction, total: int) -> tuple[int, int]:
    """The output frames ``[a, b)`` of the window on a grid of ``fps`` (total: the timeline's frames)."""
    a = 0 if start is None else snap_to_frame(start, fps)
    b = total if end is None else min(total, snap_to_frame(end, fps))
    if a >= total:
        raise ValidationError([f"start: {fraction_text(start or Fraction(0))} s is at or past the end of the "
                               f"project ({fraction_text(Fraction(total) / fps)} s)"], stage="preview")
    if b <= a:
        raise ValidationError([f"end: the window [{fraction_text(start or Fraction(0))}, "
                               f"{fraction_text(end or Fraction(0))}) s holds no frame at {fraction_text(fps)} fps"],
                              stage="preview")
    return a, b

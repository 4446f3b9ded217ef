"""Timeouts follow the planned work; the stall watchdog, not the timeout, catches hangs."""

from __future__ import annotations

import sys
import time
from fractions import Fraction
from pathlib import Path

from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import probe
from engines.ffmpeg.profiles import get_profile
from engines.ffmpeg.runner import FFmpegRunner
from engines.jobs.runner import JobRunner
from engines.model.project import load_project
from engines.planning.budget import pass_timeout, stall_seconds
from engines.planning.gathered import Sources
from engines.planning.plan import build_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_big_timeline import montage  # noqa: E402

CPU = HardwareDecision("cpu", "cpu", "libx264", "CPU requested", False)
PROFILE = get_profile("draft_360p")


def _plan(media, n: int, **kw):
    doc = montage(n, {"main": media["red"]}, source_seconds=Fraction(4), size=(160, 120))
    return build_plan(load_project(doc), Sources({"main": probe(media["red"])}), PROFILE, CPU, **kw)


def test_the_timeout_grows_with_the_planned_work(media):
    sound = {n: pass_timeout(_plan(media, n, streams="audio"), PROFILE.speed_factor) for n in (100, 600, 2000)}
    # the 600-clip audio failed at 38 s while progressing; as one pass it now has 92 s (and a job
    # renders it in windows of 48 clips, each with its own limit)
    assert sound[100] < sound[600] < sound[2000] and sound[600] > 2 * 38
    chunk = {n: pass_timeout(_plan(media, n, window=(0, 200), streams="video"), PROFILE.speed_factor)
             for n in (20, 200)}
    assert chunk[20] == chunk[200]  # a window of a longer timeline: the same clips, the same limit
    many_inputs = _plan(media, 200, window=(0, 200), streams="video")
    assert len(many_inputs.inputs) == 14  # 200 frames at 30 fps: 6.67 s of 0.5 s cuts
    dense = build_plan(load_project(montage(200, {"main": media["red"]}, cut=Fraction(1, 20), source_seconds=Fraction(4),
                                            size=(160, 120))), Sources({"main": probe(media["red"])}), PROFILE, CPU,
                       window=(0, 200), streams="video")
    assert len(dense.inputs) > 5 * len(many_inputs.inputs)  # the same frames cut in many more clips
    assert pass_timeout(dense, PROFILE.speed_factor) > chunk[20] + 200  # more inputs to open: more time
    assert stall_seconds(dense) > stall_seconds(many_inputs)


def test_a_job_option_still_overrides_the_derived_timeout(media):
    plan = _plan(media, 10)
    assert JobRunner._timeout(plan, PROFILE.speed_factor, {"chunk_timeout": 7}) == 7.0
    assert JobRunner._timeout(plan, PROFILE.speed_factor, {}) == pass_timeout(plan, PROFILE.speed_factor)


def test_a_slow_pass_that_makes_progress_is_not_taken_for_a_hung_one():
    """Read at about real time (-re), 4 s of sound take over 2.5 s: more than twice the stall limit."""
    started = time.monotonic()
    result = FFmpegRunner().run(["-re", "-f", "lavfi", "-i", "sine=d=4", "-f", "null", "-"], stage="audio",
                                stall_timeout=1.2)
    assert result.returncode == 0 and time.monotonic() - started > 2.5

"""Preview frames are timeline frames (issue 13.5): a draft or preview lowers the rate only by a
whole divisor of the project's fps, so each frame it shows sits at a timeline frame's time and
shows that frame's picture. The rule lives in ``RenderProfile.output_fps``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import lossless, project, psnr, write_project

from engines.ffmpeg import samples
from engines.ffmpeg.profiles import PROFILES, fps_divisor, get_profile
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.model.timebase import fraction_text
from engines.planning.plan import build_plan
from engines.video_preview.latency import LatencyModel
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService

RATES = [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30), Fraction(50), Fraction(60)]


def test_every_profile_divides_the_project_rate_by_a_whole_number():
    for profile in PROFILES.values():
        for fps in [*RATES, Fraction(60000, 1001), Fraction(100), Fraction(120), Fraction(15), Fraction(1)]:
            out = profile.output_fps(fps)
            n = fps / out
            assert n.denominator == 1 and n == fps_divisor(fps, profile.fps_cap), (profile.name, fps)
            assert profile.fps_cap is None or out <= profile.fps_cap
            assert n == 1 or fps / (n - 1) > profile.fps_cap  # the smallest such divisor: no needless drop
    draft = get_profile("draft_360p")
    assert [draft.output_fps(f) for f in RATES] == [24, 25, Fraction(30000, 1001), 30, 25, 30]


def frames_with_times(path: Path) -> tuple[list[np.ndarray], list[Fraction]]:
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        frames = list(c.decode(vs))
        return [f.to_ndarray(format="rgb24") for f in frames], [Fraction(f.pts) * vs.time_base for f in frames]


@pytest.mark.parametrize("fps", RATES, ids=fraction_text)
def test_each_preview_frame_is_a_timeline_frame(tmp_path, runner, fps):
    # a moving picture at the project's own rate: every timeline frame differs from its neighbours
    src = samples.make_video(tmp_path / "moving.mp4", seconds=Fraction(6, 5), width=256, height=144, fps=fps,
                             pattern="testsrc2", tone_hz=None, runner=runner)
    # the second clip starts on an odd timeline frame: between two frames of a half-rate preview
    odd = Fraction(15) / fps
    path = write_project(tmp_path, project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": fraction_text(odd)},
        {"id": "b", "asset": "m", "start": fraction_text(odd), "source_in": fraction_text(Fraction(7) / fps),
         "source_out": fraction_text(Fraction(7) / fps + Fraction(1, 2))}]}], {"m": src},
        width=256, height=144, fps=fraction_text(fps)))
    home = tmp_path / "home"
    svc = RenderService(runner, library=MediaLibrary(Registry(f"sqlite:///{home / 'cutlite.db'}"),
                                                     stores={"dev": LocalStore(home / "objects")}))
    # the full render: every timeline frame, the same size, lossless
    proj, folder = svc.load(path)
    every = replace(get_profile("draft_360p"), fps_cap=None)
    full = build_plan(proj, svc.gather(proj, folder), every, svc.decide(every, "cpu"))
    assert Fraction(full.fps) == fps
    svc.render(lossless(full), tmp_path / "full.mp4")
    truth, _ = frames_with_times(tmp_path / "full.mp4")
    assert len(truth) == full.frames

    previews = PreviewService(svc, model=LatencyModel(), allow_full_res_fallback=True)
    try:
        whole = previews.preview(path, "fast", output=tmp_path / "whole.mp4")
        start = Fraction(1, 2)  # and a window, seeked into the timeline
        window = previews.preview(path, "fast", fraction_text(start), output=tmp_path / "window.mp4")
    finally:
        previews.close(cancel=True)
    for result, out in ((whole, "whole.mp4"), (window, "window.mp4")):
        pictures, times = frames_with_times(tmp_path / out)
        assert len(pictures) == result.plan.frames
        for k, (picture, t) in enumerate(zip(pictures, times)):
            at = (result.start + t) * fps  # the preview frame's time on the timeline, in timeline frames
            assert at.denominator == 1, f"{out} frame {k} at {fraction_text(result.start + t)} s is between " \
                                        f"timeline frames ({float(at):.2f})"
            i = int(at)
            own = psnr(picture, truth[i])
            assert own >= 28, f"{out} frame {k}: {own:.1f} dB from timeline frame {i}"
            for j in (i - 1, i + 1):  # and it is that frame, not a neighbour
                if 0 <= j < len(truth):
                    assert own > psnr(picture, truth[j]) + 3, f"{out} frame {k} looks like timeline frame {j}, not {i}"
    n = fps / Fraction(whole.plan.fps)
    assert n.denominator == 1 and Fraction(whole.plan.fps) <= 30, f"preview at {whole.plan.fps} fps"


def test_cutlite_profiles_states_the_rule():
    out = subprocess.run([sys.executable, "-m", "engines.cli", "profiles", "--json"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert {p["profile"]: p["fps"] for p in doc["profiles"]}["draft_360p"] == "fps/n <= 30"
    assert "smallest whole n" in doc["fps_rule"] and "every output frame is a timeline frame" in doc["fps_rule"]

"""Stills: the composed frame at a timeline time is the frame of a lossless render at that time."""

from __future__ import annotations

import json
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import CLI, lossless, project, psnr, write_project

from engines.errors import ValidationError
from engines.ffmpeg import samples
from engines.ffmpeg.runner import FFmpegRunner
from engines.rendering.stills import cluster


def picture(path) -> np.ndarray:
    with av.open(str(path)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24")


def render_frame_as_png(runner, video, frame: int, out) -> np.ndarray:
    """Frame ``frame`` of ``video`` decoded and converted to RGB by ffmpeg, as any player's screenshot."""
    runner.run(["-y", "-i", str(video), "-vf", f"select=eq(n\\,{frame})", "-frames:v", "1", str(out)],
               stage="test")
    return picture(out)


class CountingRunner(FFmpegRunner):
    """The real runner, counting its ffmpeg passes."""

    def __init__(self) -> None:
        super().__init__()
        self.passes = 0

    def run(self, args, **kw):
        self.passes += 1
        return super().run(args, **kw)


@pytest.fixture(scope="module")
def edit(tmp_path_factory, runner):
    """A moving picture, a crossfade into a second clip and a title: every frame differs."""
    d = tmp_path_factory.mktemp("stills")
    moving = samples.make_video(d / "moving.mp4", seconds=3, width=320, height=180, pattern="testsrc2",
                                tone_hz=None, runner=runner)
    blue = samples.make_video(d / "blue.mp4", seconds=3, width=320, height=180, color="blue", tone_hz=None,
                              runner=runner)
    doc = project([{"id": "v", "kind": "video", "clips": [
                       {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": 2},
                       {"id": "b", "asset": "b", "start": "3/2", "source_in": 0, "source_out": 2,
                        "transition_in": {"type": "crossfade", "duration": "1/2"}}]},
                   {"id": "o", "kind": "overlay", "clips": [
                       {"id": "t", "text": "Title", "start": "1/2", "duration": 2, "y": 0.8}]}],
                  {"m": moving, "b": blue}, width=320, height=180)
    return write_project(d, doc)


def test_stills_equal_the_frames_of_a_lossless_render(service, runner, edit, tmp_path):
    plan = service.plan_project(edit, "draft_360p", "cpu")
    truth = tmp_path / "truth.mp4"
    service.render(lossless(plan), truth)
    fps = Fraction(plan.fps)
    # the first frame, inside the title, in the crossfade, after it, and the last frame
    times = ["0", "0.6", "7/4", "2.5", str(Fraction(plan.frames - 1) / fps)]
    stills = service.stills(edit, times, tmp_path / "s.png", profile="draft_360p")
    assert [s.frame for s in stills] == [0, 18, 52, 75, plan.frames - 1]
    for s in stills:
        own = psnr(picture(s.path), render_frame_as_png(runner, truth, s.frame, tmp_path / f"t{s.frame}.png"))
        print(f"still {s.at}: {own:.1f} dB")
        assert own >= 50, f"still at {s.at} s: {own:.1f} dB from the lossless render's frame {s.frame}"
        assert s.path.endswith(f"s-{s.frame}.png")
    # a time between frames shows the nearest frame (ties to the earlier), as a preview window starting there
    (between,) = service.stills(edit, ["0.62"], tmp_path / "b.png", profile="draft_360p")
    assert between.frame == 19 and between.path.endswith("b.png")
    near_end = service.stills(edit, [str(Fraction(plan.frames) / fps - Fraction(1, 100))], tmp_path / "e.png",
                              profile="draft_360p")
    assert near_end[0].frame == plan.frames - 1


def test_several_nearby_times_are_one_pass_and_distant_ones_their_own(edit, tmp_path):
    from engines.video_render.service import RenderService

    counting = CountingRunner()
    svc = RenderService(counting)
    svc.stills(edit, ["0.1", "0.5", "1.2", "1.3"], tmp_path / "n.png", profile="draft_360p")
    assert counting.passes == 1
    counting.passes = 0
    svc.stills(edit, ["0.1", "3.2"], tmp_path / "f.png", profile="draft_360p")
    assert counting.passes == 2  # 3.1 s apart: decoding everything between costs more than a second pass
    assert cluster([5, 1, 70, 3, 3], 30) == [[1, 3, 5], [70]]


def test_jpeg_by_extension_and_the_profile_decides_the_size(service, edit, tmp_path):
    (s,) = service.stills(edit, ["1"], tmp_path / "poster.jpg", profile="social_1080p")
    with av.open(s.path) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "mjpeg"
        assert (stream.codec_context.width, stream.codec_context.height) == (1920, 1080)


def test_times_outside_the_timeline_are_named_and_nothing_is_written(service, edit, tmp_path):
    with pytest.raises(ValidationError) as err:
        service.stills(edit, ["1", "3.5", "-1", "soon"], tmp_path / "x.png", profile="draft_360p")
    problems = err.value.problems
    assert any(p.startswith("at[1]: 7/2 s is outside the timeline [0, 7/2) s") for p in problems), problems
    assert any(p.startswith("at[2]:") for p in problems) and any(p.startswith("at[3]:") for p in problems)
    assert list(tmp_path.iterdir()) == []


def test_cutlite_still_cli(edit, tmp_path):
    out = subprocess.run([*CLI, "still", str(edit), "--at", "1", "--at", "2", "--profile", "draft_360p",
                          "-o", str(tmp_path / "c.png"), "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [(s["at"], s["frame"]) for s in doc["stills"]] == [("1", 30), ("2", 60)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-30.png", "c-60.png"]
    bad = subprocess.run([*CLI, "still", str(edit), "--at", "9", "-o", str(tmp_path / "d.png")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "at[0]" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "d.png").exists()


class ArgvRunner(FFmpegRunner):
    """The real runner, keeping every pass's arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.argvs: list[list[str]] = []

    def run(self, args, **kw):
        self.argvs.append(list(args))
        return super().run(args, **kw)


def test_a_still_reads_a_ready_proxy_that_is_large_enough_and_exact_reads_the_source(edit, tmp_path):
    from conftest import service_for

    from engines.media_v2 import identities
    from engines.video_render.service import ensure_proxies_for_project

    runner = ArgvRunner()
    svc = service_for(tmp_path / "home", runner)
    # no proxy yet: the sources, and nothing is registered by a still
    svc.stills(edit, ["1"], tmp_path / "before.png", profile="draft_360p")
    assert not any("proxy_" in a for a in runner.argvs[-1])
    assert identities.known_asset("acme", "dev", edit.parent / "moving.mp4") is None
    outcomes = ensure_proxies_for_project(edit, "draft_360p", service=svc)
    assert {o.status for o in outcomes} == {"created"}
    runner.argvs.clear()
    (s,) = svc.stills(edit, ["1"], tmp_path / "proxy.png", profile="draft_360p")
    inputs = [a for a in runner.argvs[-1] if a.endswith(".mp4") and "/" in a]
    assert inputs and all("proxy_draft_360p" in a for a in inputs), inputs
    (e,) = svc.stills(edit, ["1"], tmp_path / "exact.png", profile="draft_360p", sources="exact")
    assert not any("proxy_" in a for a in runner.argvs[-1])
    assert s.frame == e.frame == 30
    own = psnr(picture(s.path), picture(e.path))
    print(f"still from the proxy against the source's: {own:.1f} dB")
    assert own >= 30  # a proxy's pixels: close, not the render's exact ones
    # too small a proxy is not read: at social_1080p (1080p drawn from a 320x180 source) the draft rung is the
    # source's own size, so it is read; a 180p proxy of a larger source would not be
    runner.argvs.clear()
    svc.stills(edit, ["1"], tmp_path / "big.png", profile="social_1080p")
    assert all("proxy_draft_360p" in a for a in runner.argvs[-1] if a.endswith(".mp4") and "/" in a)


def test_a_probe_is_noted_and_not_made_again_by_a_new_process(edit, tmp_path, monkeypatch):
    from engines.rendering import renderer as renderer_module
    from engines.rendering.renderer import Renderer

    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    probed = []
    real = renderer_module.probe
    monkeypatch.setattr(renderer_module, "probe", lambda p: probed.append(p) or real(p))
    source = str(edit.parent / "moving.mp4")
    first = Renderer().probe(source)
    again = Renderer().probe(source)  # another Renderer: as a new process would, from the note
    assert probed == [source] and again == first
    Path(source).touch()  # a changed file is probed again
    Renderer().probe(source)
    assert probed == [source, source]

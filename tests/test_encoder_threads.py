"""CUTLITE_ENCODER_THREADS: a machine's thread budget, applied when ffmpeg runs, never in a plan."""

from __future__ import annotations

import pytest
from conftest import measure, project, service_for, write_project

from engines.errors import ValidationError
from engines.ffmpeg import samples
from engines.ffmpeg.runner import FFmpegRunner
from engines.ffmpeg.threads import ENV, encoder_threads, with_threads
from engines.video_render.service import ensure_proxies_for_project


class RecordingRunner(FFmpegRunner):
    """The real runner, keeping every argv it ran."""

    def __init__(self) -> None:
        super().__init__()
        self.argvs: list[list[str]] = []

    def run(self, args, *, stage, **kw):  # noqa: ANN001
        self.argvs.append(list(args))
        return super().run(args, stage=stage, **kw)


def test_parsing(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert encoder_threads() is None
    monkeypatch.setenv(ENV, " ")
    assert encoder_threads() is None
    monkeypatch.setenv(ENV, "1")
    assert encoder_threads() == 1
    for bad in ("0", "-1", "two", "1.5"):
        monkeypatch.setenv(ENV, bad)
        with pytest.raises(ValidationError, match=ENV):
            encoder_threads()


def test_options_go_just_before_the_output():
    args = ["-y", "-i", "in.mp4", "-c:v", "libx264", "-threads", "2", "out.mp4"]
    assert with_threads(args, None) == args
    limited = with_threads(args, 1)
    assert limited[-1] == "out.mp4" and limited[:len(args) - 1] == args[:-1]
    tail = limited[len(args) - 1:-1]
    # the last -threads of an output wins over the profile's own
    assert tail == ["-filter_threads", "1", "-filter_complex_threads", "1", "-threads", "1"]


def test_render_and_proxy_run_limited_with_the_same_plan(monkeypatch, tmp_path):
    runner = RecordingRunner()
    src = samples.make_video(tmp_path / "clip.mp4", seconds=1, width=192, height=108, pattern="testsrc2",
                             runner=runner)
    service = service_for(tmp_path / "home", runner)
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "c", "asset": "clip", "start": 0, "source_in": 0, "source_out": 1}]}], {"clip": str(src)})
    proj = write_project(tmp_path, doc)
    monkeypatch.delenv(ENV, raising=False)
    free = service.plan_project(proj, "draft_360p", "cpu")
    monkeypatch.setenv(ENV, "1")
    limited = service.plan_project(proj, "draft_360p", "cpu")
    assert limited.plan_hash == free.plan_hash  # a machine's budget is not part of the plan
    runner.argvs.clear()
    service.render(limited, tmp_path / "out.mp4")
    assert runner.argvs[-1][-7:-1] == ["-filter_threads", "1", "-filter_complex_threads", "1", "-threads", "1"]
    assert measure(tmp_path / "out.mp4", decode=False).frames == limited.frames == 30
    (outcome,) = ensure_proxies_for_project(proj, "draft_360p", service=service, hw="cpu")
    assert outcome.status == "created" and outcome.meta["frames"] == 30
    proxy_argv = next(a for a in runner.argvs if a[-1].endswith("proxy.mp4"))
    assert proxy_argv[-3:-1] == ["-threads", "1"]

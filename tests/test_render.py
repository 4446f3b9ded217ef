"""Real renders of small synthesized projects, checked by measuring the output."""

from __future__ import annotations

import hashlib
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import close, lossless, measure, project, write_project

from engines.errors import Cancelled, EncoderUnavailable, FFmpegTimeout, InputUnreadable
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.planning.plan import build_plan
from engines.rendering.sources import gather_sources

RED, BLUE, LIME, BLACK = (255, 0, 0), (0, 0, 255), (0, 255, 0), (0, 0, 0)


def clip(cid, asset, start, src_in, src_out, **kw):
    return {"id": cid, "asset": asset, "start": start, "source_in": src_in, "source_out": src_out, **kw}


def audio_of(path: Path) -> tuple[np.ndarray, int]:
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        data = np.concatenate([f.to_ndarray() for f in c.decode(a)], axis=1)
        return data, a.sample_rate


def dominant_hz(signal: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return float(np.argmax(spectrum) * rate / len(signal))


def test_29_5_second_timeline_has_885_frames_and_matching_audio(render, media):
    doc = project([
        {"id": "v", "kind": "video", "clips": [clip("c1", "red", 0, 0, 4)]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "51/2", "duration": 4}]},
    ], {"red": media["red"], "logo": media["logo"]})
    plan, m = render(doc, "draft_480p", decode=False)
    assert plan.frames == 885 and m.frames == 885
    assert m.video_seconds == Fraction(59, 2)
    assert abs(m.audio_samples - 1_416_000) <= 1024  # within one AAC frame
    assert (m.width, m.height, m.fps) == (160, 120, 30)


def test_crossfade_midpoint_is_half_red_half_blue(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "red", 0, 0, 2),
        clip("b", "blue", 1, 0, 2, transition_in={"type": "crossfade", "duration": 1})]}],
        {"red": media["red"], "blue": media["blue"]})
    plan, m = render(doc)
    assert m.frames == plan.frames == 90
    assert close(m.rgb(20, 80, 60), RED)
    assert close(m.rgb(45, 80, 60), (128, 0, 128), tol=14)  # 1.5 s: middle of the 1 s overlap
    assert close(m.rgb(75, 80, 60), BLUE)


@pytest.mark.parametrize("transition", ["fade_black", "wipe_left", "slide_up", "dissolve"])
def test_listed_transitions_render_with_exact_length(render, media, transition):
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "red", 0, 0, 2),
        clip("b", "blue", "3/2", 0, 1, transition_in={"type": transition, "duration": "1/2"})]}],
        {"red": media["red"], "blue": media["blue"]})
    plan, m = render(doc, decode=False)
    assert m.frames == plan.frames == 75


def test_overlay_sits_at_its_position_with_its_opacity(render, media):
    doc = project([
        {"id": "v", "kind": "video", "clips": [clip("bg", "blue", 0, 0, 1)]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": 0, "duration": 1, "x": 0.25, "y": 0.5, "scale": 0.25,
             "opacity": 0.5}]},
    ], {"blue": media["blue"], "logo": media["logo"]})
    _, m = render(doc)
    # 0.25 of 120 px high -> a 30x30 square centred at (40, 60): x 25..54, y 45..74
    assert close(m.rgb(10, 40, 60), (0, 128, 128), tol=14)
    assert close(m.rgb(10, 28, 48), (0, 128, 128), tol=14)
    assert close(m.rgb(10, 21, 60), BLUE) and close(m.rgb(10, 59, 60), BLUE)
    assert close(m.rgb(10, 120, 60), BLUE)


def test_opacity_keyframes_interpolate_linearly(render, media):
    doc = project([
        {"id": "v", "kind": "video", "clips": [clip("bg", "blue", 0, 0, 2)]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/2", "duration": 1, "scale": 1, "opacity": [[0, 0], [1, 1]]}]},
    ], {"blue": media["blue"], "logo": media["logo"]})
    _, m = render(doc)
    assert close(m.rgb(10, 80, 60), BLUE)                        # before the overlay starts
    assert close(m.rgb(30, 80, 60), (0, 128, 128), tol=16)       # t = 0.5 s into the clip
    assert close(m.rgb(44, 80, 60), (0, 238, 17), tol=20)        # t = 29/30 s
    assert close(m.rgb(50, 80, 60), BLUE)                        # after it ends


def test_background_colour_fills_a_gap(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "red", 0, 0, 1), clip("b", "blue", 2, 0, 1)]}],
        {"red": media["red"], "blue": media["blue"]}, background="#FF8000")
    _, m = render(doc)
    assert m.frames == 90
    assert close(m.rgb(15, 80, 60), RED)
    assert close(m.rgb(45, 80, 60), (255, 128, 0))
    assert close(m.rgb(75, 80, 60), BLUE)


def test_contain_letterboxes_with_the_background(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 1)]}],
                  {"red": media["red"]}, width=240, height=120, background="#00FF00")
    _, m = render(doc)
    # 320x240 (4:3) inside 240x120: 160x120 in the middle, 40 px pillars each side
    assert close(m.rgb(5, 20, 60), LIME) and close(m.rgb(5, 220, 60), LIME)
    assert close(m.rgb(5, 120, 60), RED)


def test_rotated_phone_clip_is_upright_like_ffmpeg_autorotate(render, media, runner, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "rot", 0, 0, 1)]}],
                  {"rot": media["rotated"]}, width=96, height=160)
    _, m = render(doc)
    assert (m.width, m.height) == (96, 160)
    # upright pixels and no display matrix left, or a player would turn the picture again
    assert m.rotation == 0
    # stored: red on top, blue below; shown after a 90 degree clockwise turn: blue left, red right
    assert close(m.rgb(5, 80, 80), RED) and close(m.rgb(5, 15, 80), BLUE)
    ref = tmp_path / "ref.png"
    runner.run(["-y", "-i", str(media["rotated"]), "-frames:v", "1", str(ref)], stage="reference")
    with av.open(str(ref)) as c:
        want = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert want.shape == m.pictures[5].shape
    assert np.abs(want.astype(int) - m.pictures[5].astype(int)).mean() < 6


def test_vfr_source_is_conformed_to_the_output_grid(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "vfr", 0, 0, 3)]}], {"vfr": media["vfr"]})
    plan, m = render(doc)
    assert m.frames == plan.frames == 90
    assert abs(m.audio_samples - 3 * 48000) <= 1024


def test_odd_size_ten_bit_and_silent_sources(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "odd", 0, 0, 1), clip("b", "tenbit", 1, 0, 1), clip("c", "silent", 2, 0, 1)]}],
        {"odd": media["odd"], "tenbit": media["tenbit"], "silent": media["green_silent"]})
    plan, m = render(doc)
    assert m.frames == 90
    assert close(m.rgb(15, 80, 60), (255, 255, 0), tol=14)
    assert close(m.rgb(45, 80, 60), BLUE)
    assert close(m.rgb(75, 80, 60), (0, 128, 0), tol=14)
    assert abs(m.audio_samples - 3 * 48000) <= 1024 and m.audio_channels == 2


def test_text_is_drawn_literally(render, media, service, tmp_path):
    def text_width(text: str) -> int:
        doc = project([
            {"id": "v", "kind": "video", "clips": [clip("bg", "silent", 0, 0, 1)]},
            {"id": "o", "kind": "overlay", "clips": [
                {"id": "t", "text": text, "start": 0, "duration": 1, "font_size": 16, "color": "#FF00FF"}]},
        ], {"silent": media["green_silent"]}, width=320, height=120)
        plan, m = render(doc)
        assert plan.files["text_t.txt"] == text
        frame = m.pictures[10].astype(int)
        magenta = (frame[:, :, 0] > 150) & (frame[:, :, 2] > 150) & (frame[:, :, 1] < 100)
        cols = np.where(magenta.any(axis=0))[0]
        return int(cols.max() - cols.min() + 1) if len(cols) else 0

    literal = text_width("%{n}")
    assert literal > 2.5 * text_width("0")  # expanded, %{n} would be the single digit "0"
    hostile = "a'b:c\\d [e],f;g \"h\" 50% {x}"
    assert text_width(hostile) > 150


def _render_audio(service, tmp_path, doc, name):
    plan = service.plan_project(write_project(tmp_path, doc, name + ".json"), "draft_480p", "cpu")
    out = tmp_path / (name + ".mp4")
    service.render(plan, out)
    data, rate = audio_of(out)
    return data[0, rate // 4: rate + rate // 4], rate  # a steady 1 s window


def _level_at(signal: np.ndarray, rate: int, hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    k = int(round(hz * len(signal) / rate))
    return float(spectrum[k - 2: k + 3].max())


def test_volume_is_a_gain_and_the_mix_is_not_normalised(service, media, tmp_path):
    assets = {"red": media["red"], "tone": media["tone"]}
    alone, rate = _render_audio(service, tmp_path, project(
        [{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 2)]}], assets), "alone")
    doubled, _ = _render_audio(service, tmp_path, project(
        [{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 2, volume=2)]}], assets), "doubled")
    mixed, _ = _render_audio(service, tmp_path, project(
        [{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 2)]},
         {"id": "b", "kind": "audio", "clips": [clip("m", "tone", 0, 0, 2)]}], assets), "mixed")
    assert abs(np.abs(doubled).max() / np.abs(alone).max() - 2) < 0.1
    # adding a 220 Hz bed leaves the 440 Hz tone at full level: no normalisation by input count
    assert abs(_level_at(mixed, rate, 440) / _level_at(alone, rate, 440) - 1) < 0.05
    assert _level_at(mixed, rate, 220) > 0.5 * _level_at(mixed, rate, 440)


def test_speed_keeps_pitch_and_length(render, media, tmp_path, service):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 4, speed=2)]}], {"red": media["red"]})
    proj = write_project(tmp_path, doc)
    plan = service.plan_project(proj, "draft_480p", "cpu")
    out = tmp_path / "speed.mp4"
    service.render(plan, out)
    m = measure(out, decode=False)
    assert m.frames == 60
    data, rate = audio_of(out)
    assert abs(dominant_hz(data[0, rate // 4: rate], rate) - 440) < 5


def test_same_plan_renders_the_same_bytes(service, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "counter", 0, 0, 1)]}], {"counter": media["counter"]})
    plan = service.plan_project(write_project(tmp_path, doc), "draft_480p", "cpu")
    digests = []
    for name in ("one.mp4", "two.mp4"):
        service.render(plan, tmp_path / name)
        digests.append(hashlib.sha256((tmp_path / name).read_bytes()).hexdigest())
    assert digests[0] == digests[1]


def test_separate_picture_and_sound_graphs_render_the_bytes_of_one_graph(service, media, tmp_path, monkeypatch):
    """Giving ffmpeg the picture and the sound as two graphs (no deadlock) changes no output byte."""
    from engines.planning.render_plan import RenderPlan
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "counter", 0, 0, 1)]},
                   {"id": "m", "kind": "audio", "clips": [clip("t", "tone", 0, 0, 1)]}],
                  {"counter": media["counter"], "tone": media["tone"]})
    plan = service.plan_project(write_project(tmp_path, doc), "draft_480p", "cpu")
    assert len(plan.graph_files()) == 2
    service.render(plan, tmp_path / "two.mp4")
    monkeypatch.setattr(RenderPlan, "graph_files", lambda self: {self.GRAPH_FILE: self.filter_graph})
    service.render(plan, tmp_path / "one.mp4")
    assert (tmp_path / "one.mp4").read_bytes() == (tmp_path / "two.mp4").read_bytes()


def test_opacity_pieces_give_the_pixels_of_one_geq_over_every_frame(service, media, tmp_path, monkeypatch):
    """Flat pieces by lookup table, ramps by geq on their own frames: the same frames, to the byte,
    as the per-pixel expression over the whole clip (what the plan did before)."""
    import hashlib

    from engines.planning import tracks
    from engines.planning.filtergraph import piecewise_linear
    from engines.planning.opacity import timeline_points
    doc = project([
        {"id": "v", "kind": "video", "clips": [clip("bg", "blue", 0, 0, 2)]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/3", "duration": "3/2", "scale": 1,
             "opacity": [[0, 0.2], ["1/3", 0.9], ["2/3", 0.9], [1, 0.3], [1, 0.6]]}]},
    ], {"blue": media["blue"], "logo": media["logo"]})
    path = write_project(tmp_path, doc)

    def frame_digests(name: str) -> list[str]:
        plan = service.plan_project(path, "draft_480p", "cpu")
        out = tmp_path / name
        service.render(plan, out)
        with av.open(str(out)) as f:
            return [hashlib.sha256(fr.to_ndarray(format="rgb24").tobytes()).hexdigest() for fr in f.decode(video=0)]

    pieces = frame_digests("pieces.mp4")
    assert "geq" in service.plan_project(path, "draft_480p", "cpu").filter_graph

    def one_geq(g, pc, out):
        expr = piecewise_linear(timeline_points(pc, pc.clip.opacity.points, out.fps), "T")
        return f"geq=lum=lum(X\\,Y):cb=cb(X\\,Y):cr=cr(X\\,Y):a=alpha(X\\,Y)*({expr})"
    monkeypatch.setattr(tracks, "opacity_filters", one_geq)
    assert pieces == frame_digests("one_geq.mp4") and len(pieces) == 60


def test_a_still_image_is_decoded_once_and_gives_the_pixels_of_a_looped_input(service, media, tmp_path, monkeypatch):
    """An image clip reads its one picture once (no -loop: no decode and scale per output frame);
    its frames are byte-identical to those of the looped input it replaced."""
    import hashlib

    from engines.planning import reading
    doc = project([
        {"id": "v", "kind": "video", "clips": [{"id": "still", "asset": "logo", "start": 0, "duration": 1,
                                                  "fit": "contain"}, clip("bg", "blue", 1, 0, 1)]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/2", "duration": 1, "scale": 0.5, "opacity": [[0, 0], ["1/2", 1]]}]},
    ], {"blue": media["blue"], "logo": media["logo"]})
    path = write_project(tmp_path, doc)

    def frames(name: str) -> tuple[list[str], list[list[str]]]:
        plan = service.plan_project(path, "draft_480p", "cpu")
        service.render(plan, tmp_path / name)
        with av.open(str(tmp_path / name)) as f:
            digests = [hashlib.sha256(fr.to_ndarray(format="rgb24").tobytes()).hexdigest() for fr in f.decode(video=0)]
        return digests, [i.args for i in plan.inputs if i.kind == "image"]

    once, args = frames("once.mp4")
    assert args == [[], []] and len(once) == 60
    monkeypatch.setattr(reading, "STILL_FORMATS", set())
    looped, args = frames("looped.mp4")
    assert all(a[:2] == ["-loop", "1"] for a in args) and looped == once


@pytest.mark.parametrize("kind,drawn_by", [("crossfade", "fade=t=out:st=0:d=0.500000:alpha=1"),
                                            ("wipe_left", "xfade=transition=wipeleft")])
def test_every_window_around_a_crossfade_has_the_single_pass_pixels(service, media, tmp_path, kind, drawn_by):
    """Frame truth across a crossfade: a window (a chunk, a preview) before, across or after it
    gives exactly the single pass's frames, with a keyframed zoom, pan and turn running into the
    transition and a reversed clip after it. Two bugs this held: the concat after an xfade
    converted the next clip (xfade's output was untagged: up to 35 code values after it), and
    xfade, which works in 4:4:4, took the whole clips before and after the overlap through a
    4:2:0 -> 4:4:4 -> 4:2:0 round trip that a window without the crossfade did not make (up to 33
    code values before it). Now only the overlap is blended (a crossfade by a fade in alpha and
    overlay, other transitions by xfade)."""
    # motion across the transition and the window edges too (every motion field: tests/test_motion.py)
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "counter", 0, 0, 2, scale=[{"t": 0, "value": 1, "ease": "ease_in"}, [2, 1.4]],
             x=[[0, 0.5], [2, 0.4]], rotation=[[1, 0], [2, 15]]),
        {**clip("b", "blue", "3/2", 0, 2), "transition_in": {"type": kind, "duration": "1/2"}},
        clip("c", "counter", "7/2", 1, 3, reverse=True)]}], {"counter": media["counter"], "blue": media["blue"]})
    proj = load_project(write_project(tmp_path, doc))
    profile = get_profile("draft_480p")
    sources = service.gather(proj, tmp_path)
    decision = service.decide(profile, "cpu")

    def pictures(name: str, **kw) -> list[bytes]:
        plan = lossless(build_plan(proj, sources, profile, decision, streams="video", **kw))
        service.render(plan, tmp_path / name)
        with av.open(str(tmp_path / name)) as f:
            return [fr.to_ndarray(format="yuv420p").tobytes() for fr in f.decode(video=0)]

    full = pictures("full.mp4")
    graph = build_plan(proj, sources, profile, decision).filter_graph
    assert graph.count(drawn_by) == 1 and "trim=end_frame=15[" in graph  # the overlap only: 15 frames each
    assert len(full) == 165  # 5.5 s at 30 fps; the crossfade is frames [45, 60)
    for window in ((0, 30), (40, 60), (45, 60), (50, 100), (135, 165)):  # before, into, on, out of, after it
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


# ---------------------------------------------------------------- failures

def test_unreadable_input_fails_with_stage_and_stderr_tail(service, media, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(media["red"].read_bytes())
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "x", 0, 0, 1)]}], {"x": broken})
    plan = service.plan_project(write_project(tmp_path, doc), "draft_480p", "cpu")
    broken.write_bytes(b"\x00" * 4096)  # the file changes between plan and render
    out = tmp_path / "out.mp4"
    with pytest.raises(InputUnreadable) as err:
        service.render(plan, out)
    assert err.value.stage == "render" and "broken.mp4" in err.value.stderr_tail
    assert err.value.hint and err.value.context["argv"]
    assert list(tmp_path.glob("*.mp4")) == [broken]  # no output, no partial


def test_gpu_plan_on_a_machine_without_gpu_fails_as_encoder_unavailable(service, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "red", 0, 0, 1)]}], {"red": media["red"]})
    proj = load_project(write_project(tmp_path, doc))
    sources = gather_sources(proj, tmp_path)
    nvenc = HardwareDecision("nvenc", "nvenc", "h264_nvenc", "mocked as available", False)
    plan = build_plan(proj, sources, get_profile("draft_480p"), nvenc)
    if service.hardware.usable("nvenc", "h264"):  # a host with a working NVENC renders it
        assert service.render(plan, tmp_path / "out.mp4").frames == plan.frames
        return
    with pytest.raises(EncoderUnavailable) as err:
        service.render(plan, tmp_path / "out.mp4")
    assert "--hw cpu" in err.value.hint and err.value.stderr_tail
    assert not list(tmp_path.glob("*.mp4"))


def _ffmpeg_children_writing(name: str) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if name in (proc / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(proc.name))
            except OSError:
                pass
    return pids


def test_cancel_stops_ffmpeg_and_removes_the_partial_file(service, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [clip("a", "counter", 0, 0, 4)]}],
                  {"counter": media["counter"]}, width=1920, height=1080)
    plan = service.plan_project(write_project(tmp_path, doc), "social_1080p", "cpu")
    cancel = threading.Event()
    errors: list[BaseException] = []
    out = tmp_path / "cancelled.mp4"

    def go() -> None:
        try:
            service.render(plan, out, cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    t = threading.Thread(target=go)
    t.start()
    time.sleep(1.0)
    started = time.monotonic()
    cancel.set()
    t.join(15)
    assert not t.is_alive() and time.monotonic() - started < 5
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)
    assert list(tmp_path.glob("*.mp4*")) == [] and list(tmp_path.glob(".*partial*")) == []
    assert _ffmpeg_children_writing("cancelled.mp4") == []


def test_timeout_ends_a_hung_ffmpeg(runner):
    with pytest.raises(FFmpegTimeout) as err:
        runner.run(["-re", "-f", "lavfi", "-i", "color=s=64x64:r=10", "-f", "null", "-"], stage="chunk", timeout=1)
    assert err.value.context["retryable"] is True


def test_a_second_video_track_is_composited_over_the_first_only_where_it_has_clips(render, media):
    doc = project([
        {"id": "base", "kind": "video", "clips": [clip("a", "red", 0, 0, 3)]},
        {"id": "upper", "kind": "video", "clips": [clip("b", "blue", 1, 0, 1, scale=0.5)]},
    ], {"red": media["red"], "blue": media["blue"]})
    _, m = render(doc)
    assert m.frames == 90
    assert close(m.rgb(15, 80, 60), RED)
    assert close(m.rgb(45, 80, 60), BLUE) and close(m.rgb(45, 10, 10), RED)  # half-size, centred
    assert close(m.rgb(75, 80, 60), RED)


def test_lower_output_rate_keeps_transitions_aligned(render, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        clip("a", "red", 0, 0, "7/6"),
        clip("b", "blue", "2/3", 0, 1, transition_in={"type": "crossfade", "duration": "1/2"})]}],
        {"red": media["red"], "blue": media["blue"]}, fps=60)
    plan, m = render(doc, "draft_360p", decode=False)  # 60 fps project rendered at 30
    assert plan.frames == m.frames == 50  # 5/3 s at 30 fps


def test_a_transition_after_a_gap_renders_exact_frames(render, media):
    """Found by the property tests: ``concat`` (gap + clip) hands xfade a 1/1000000 time base."""
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": "1/2", "source_in": 0, "source_out": 1},
        {"id": "b", "asset": "blue", "start": 1, "source_in": 0, "source_out": 1,
         "transition_in": {"type": "crossfade", "duration": "1/2"}}]}], {"red": media["red"], "blue": media["blue"]})
    plan, m = render(doc, "draft_360p")
    assert plan.frames == m.frames == 60  # 2 s at 30 fps
    assert close(m.rgb(6, 80, 60), (0, 0, 0)) and close(m.rgb(20, 80, 60), (254, 0, 0), 20)
    assert close(m.rgb(59, 80, 60), (0, 0, 254), 20)


def test_a_timeline_shorter_than_one_output_frame_shows_its_first_frame(render, media):
    # a lower rate shows every n-th timeline frame from frame 0: a 1-frame timeline is 1 frame
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": "1/60"}]}], {"red": media["red"]}, fps=60)
    plan, m = render(doc, "draft_360p")
    assert plan.fps == "30" and plan.frames == m.frames == 1 and close(m.rgb(0, 80, 60), RED)

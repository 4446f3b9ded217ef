"""Keyframes with easing, speed ramps, reverse and freeze frames: rendered for real and measured."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import lossless, project, write_project

from engines.errors import AssetError, ValidationError
from engines.ffmpeg.profiles import get_profile
from engines.model.motion import progress
from engines.model.project import load_project
from engines.planning.plan import build_plan

FPS = 30
W, H = 320, 240
BITS = 8  # a frame-numbered source: bit k of the frame number is a 40-px-wide block


@pytest.fixture(scope="module")
def numbered(tmp_path_factory: pytest.TempPathFactory, runner) -> Path:
    """6 s at 30 fps whose frame n shows n in binary (white block = 1), with a tone."""
    d = tmp_path_factory.mktemp("numbered")
    out = d / "numbered.mp4"
    runner.run(["-y", "-f", "lavfi", "-i", f"color=c=black:s={W}x{H}:r={FPS}:d=6", "-f", "lavfi",
                "-i", "sine=f=440:r=48000:d=6",
                "-vf", "geq=lum='if(bitand(N\\,pow(2\\,floor(X/40)))\\,235\\,16)':cb=128:cr=128,format=yuv420p",
                "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-c:a", "aac", "-shortest", str(out)],
               stage="fixture")
    return out


def frame_numbers(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        out = []
        for f in c.decode(video=0):
            y = f.to_ndarray(format="gray")[H // 2]
            out.append(sum(1 << k for k in range(BITS) if y[k * 40 + 20] > 128))
        return out


def marker_centre(picture: np.ndarray) -> tuple[float, float]:
    """Centre of the lime pixels of an RGB frame."""
    mask = (picture[..., 1] > 150) & (picture[..., 0] < 100) & (picture[..., 2] < 100)
    ys, xs = np.nonzero(mask)
    return float(xs.mean()), float(ys.mean())


def render_doc(service, tmp_path: Path, doc: dict, name: str = "out.mp4", **kw):
    proj = load_project(write_project(tmp_path, doc))
    profile = get_profile("draft_480p")
    sources = service.gather(proj, tmp_path)
    plan = lossless(build_plan(proj, sources, profile, service.decide(profile, "cpu"), **kw))
    service.render(plan, tmp_path / name)
    return plan, tmp_path / name


@pytest.mark.parametrize("ease", ["linear", "hold", "ease_in", "ease_out", "ease_in_out", [0.2, 0.9, 0.3, 0.1]])
def test_a_keyframed_move_puts_the_marker_where_the_curve_says(service, media, tmp_path, ease):
    """A 24-px lime square moved from x 0.2 to 0.8 over 1 s (timeline 160 px wide): at every
    frame it is where the ease puts it, to the pixel."""
    doc = project([
        {"id": "v", "kind": "video", "clips": [{"id": "bg", "asset": "blue", "start": 0, "source_in": 0,
                                                "source_out": 2}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "m", "asset": "logo", "start": "1/3", "duration": "4/3", "scale": 0.2,
             "x": [{"t": 0, "value": 0.2, "ease": ease}, {"t": 1, "value": 0.8}], "y": 0.5}]},
    ], {"blue": media["blue"], "logo": media["logo"]})
    _, out = render_doc(service, tmp_path, doc)
    with av.open(str(out)) as c:
        pictures = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(pictures) == 60
    e = tuple(ease) if isinstance(ease, list) else ease
    for k in range(10, 50):  # the clip's frames [10, 50): keys at frames 10 and 40
        local = Fraction(k - 10, FPS)
        u = float(min(max(local, 0), 1))
        centre = 160 * (0.2 + 0.6 * (progress(e, u) if local < 1 else 1.0))
        # overlay puts the 24-px picture at a whole, even column (4:2:0 chroma)
        want = (math.floor(centre - 12 + 0.5) & ~1) + 11.5
        x, y = marker_centre(pictures[k])
        assert x == want and abs(y - 59.5) <= 1, (k, x, want)


def test_keyframed_scale_and_rotation_grow_and_turn_the_picture(service, media, tmp_path):
    doc = project([
        {"id": "v", "kind": "video", "clips": [
            {"id": "z", "asset": "logo", "start": 0, "duration": 2, "fit": "contain",
             "scale": [[0, 0.25], {"t": 1, "value": 0.5, "ease": "ease_out"}],
             "rotation": [[0, 0], [1, 45]], "x": [[0, 0.25], [1, 0.75]]}]},
    ], {"logo": media["logo"]})
    _, out = render_doc(service, tmp_path, doc)
    with av.open(str(out)) as c:
        pictures = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(pictures) == 60

    def lime(p):
        return (p[..., 1] > 150) & (p[..., 0] < 100)
    first, last = lime(pictures[0]), lime(pictures[45])
    assert abs(first.sum() - 30 * 30) < 80  # 0.25 of 120 px, square: 30 x 30
    x, _ = marker_centre(pictures[0])
    assert abs(x - 40) <= 1.5
    x, y = marker_centre(pictures[45])
    assert abs(x - 120) <= 2.5 and abs(y - 60) <= 2.5  # whole, even positions
    assert abs(last.sum() - 60 * 60) < 200  # 60 x 60, turned 45 degrees: the same area
    ys, xs = np.nonzero(last)
    assert xs.max() - xs.min() > 80  # a diamond: wider than the square's side (84.8)


def test_flip_and_crop(service, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "halves", "start": 0, "source_in": 0, "source_out": 1, "fit": "stretch",
         "flip": "horizontal", "crop": {"right": 0.25}}]}], {"halves": media["rotated"]})
    _, out = render_doc(service, tmp_path, doc)
    with av.open(str(out)) as c:
        p = next(iter(c.decode(video=0))).to_ndarray(format="rgb24")
    # upright, the source is blue on its left 48 columns and red on the right 48; the crop keeps
    # 72 columns (2/3 blue), stretched to 160; the flip puts the red third on the left
    assert p[60, 20][0] > 200 and p[60, 80][2] > 200 and p[60, 140][2] > 200


def test_a_speed_ramp_shows_the_frame_its_time_map_says(service, numbered, tmp_path):
    """Frame-exact ramp: frame k shows the source frame on screen at the middle of output frame k,
    ``TimeMap.source((k + 1/2) / fps)``; the clip's length is where the map reaches the range."""
    speed = [[0, 1], {"t": 1, "value": 3, "ease": "ease_in_out"}, [2, 0.5]]
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "r", "asset": "n", "start": 0, "source_in": 0, "source_out": 4, "speed": speed}]}], {"n": numbered},
        width=W, height=H)
    proj = load_project(write_project(tmp_path, doc))
    ramp = proj.tracks[0].clips[0].ramp
    length = ramp.length(Fraction(4))
    plan, out = render_doc(service, tmp_path, doc)
    seen = frame_numbers(out)
    want_frames = round(length * FPS)
    assert plan.frames == len(seen) == want_frames
    want = [min(int(ramp.source((k + 0.5) / FPS) * FPS - 1e-9), 119) for k in range(want_frames)]
    assert seen == want
    with av.open(str(out)) as c:  # sound: as long as the picture, its pitch kept all along
        a = c.streams.audio[0]
        data = np.concatenate([f.to_ndarray() for f in c.decode(a)], axis=1)[0]
    assert abs(len(data) - want_frames * 48000 // FPS) <= 1024
    for second in (Fraction(1, 4), Fraction(5, 4), Fraction(7, 4)):  # speed 1.2, 2.6, 0.9 or so
        at = int(second * 48000)
        part = data[at:at + 8192]
        spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
        assert abs(np.argmax(spectrum) * 48000 / len(part) - 440) < 15, second


def test_every_window_across_motion_has_the_single_pass_pixels(service, numbered, media, tmp_path):
    """Frame truth: a window (a chunk, a preview) that starts or ends inside a ramp, a reversed
    clip, a keyframed zoom with an animated colour, a freeze frame, or an overlay that moves,
    turns, grows and fades (and a moving text) shows exactly the single pass's frames."""
    logo = media["logo"]
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "r", "asset": "n", "start": 0, "source_in": "1/2", "source_out": 3,
         "speed": [[0, 0.5], {"t": 1, "value": 2, "ease": [0.3, 0.1, 0.7, 0.9]}]},
        {"id": "b", "asset": "n", "start": 3, "source_in": 1, "source_out": 3, "reverse": True},
        {"id": "z", "asset": "n", "start": 5, "source_in": 0, "source_out": 1,
         "scale": [[0, 1], {"t": 1, "value": 2, "ease": "ease_in"}], "x": [[0, 0.5], [1, 0.3]],
         "filters": [{"type": "color", "brightness": [[0, 0], {"t": "1/2", "value": 0.3, "ease": "ease_out"}]}]},
        {"id": "f", "asset": "n", "start": 6, "freeze_at": 2, "duration": "1/2", "flip": "both",
         "crop": {"left": 0.1, "bottom": 0.2}}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/2", "duration": 6, "scale": [[0, 0.2], [5, 0.6]],
             "rotation": [[0, 0], {"t": 2, "value": 90, "ease": "ease_in_out"}, [4, -30]],
             "y": [{"t": 1, "value": 0.2, "ease": "hold"}, [3, 0.8]],
             "opacity": [[0, 0.3], {"t": 2, "value": 1, "ease": [0.5, 0, 0.5, 1]}, [5, 0.5]]},
            {"id": "t", "text": "Hi", "start": 1, "duration": 5, "x": [{"t": 0, "value": 0.1, "ease": "ease_in"},
                                                                      [4, 0.9]],
             "opacity": [{"t": 0, "value": 0.2, "ease": "ease_in_out"}, [3, 1]]},
            {"id": "k", "asset": "n", "start": 2, "source_in": 0, "source_out": 3, "scale": 0.3, "fit": "cover",
             "rotation": [[0, 0], [3, 180]], "x": [[0, 0.2], {"t": 3, "value": 0.8}], "opacity": 0.7}]}],
        {"n": numbered, "logo": logo}, width=W, height=H)

    def pictures(name: str, **kw) -> list[bytes]:
        _, out = render_doc(service, tmp_path, doc, name, streams="video", **kw)
        with av.open(str(out)) as f:
            return [fr.to_ndarray(format="yuv420p").tobytes() for fr in f.decode(video=0)]

    full = pictures("full.mp4")
    assert len(full) == 195
    for window in ((10, 40), (55, 100), (95, 130), (160, 190), (185, 195)):
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


def test_reverse_plays_backwards_and_a_freeze_holds_one_frame(service, numbered, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "b", "asset": "n", "start": 0, "source_in": 1, "source_out": 2, "reverse": True},
        {"id": "f", "asset": "n", "start": 1, "freeze_at": "5/3", "duration": "1/2"}]}], {"n": numbered},
        width=W, height=H)
    _, out = render_doc(service, tmp_path, doc)
    seen = frame_numbers(out)
    assert seen[:30] == list(range(59, 29, -1))
    assert seen[30:] == [50] * 15


@pytest.mark.parametrize("field,value,message", [
    ("opacity", [[1, 0], [0, 1]], "opacity: keyframe [1] is not sorted by time"),
    ("x", [{"t": 0, "value": 0, "ease": [1.5, 0, 0.5, 1]}, [1, 1]], "x: keyframe [0] ease Bézier x1 and x2 must be"),
    ("speed", [[0, 1], [1, 20]], "speed: keyframe [1] value must be between 0.1 and 16"),
    ("rotation", [[0, 0], {"t": 1, "value": 1, "ease": "bounce"}], "rotation: keyframe [1] ease must be one of"),
])
def test_bad_motion_is_refused_with_its_json_path(media, field, value, message):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1, field: value}]}], {"red": media["red"]})
    with pytest.raises(ValidationError) as err:
        load_project(doc)
    assert any(p.startswith(f"tracks[0].clips[0].{message}") for p in err.value.problems), err.value.problems


def test_a_freeze_past_the_end_and_reverse_on_an_image_are_refused(service, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "f", "asset": "red", "start": 0, "freeze_at": 9, "duration": 1},
        {"id": "i", "asset": "logo", "start": 1, "duration": 1, "reverse": True}]}],
        {"red": media["red"], "logo": media["logo"]})
    with pytest.raises(AssetError) as err:
        service.plan_project(write_project(tmp_path, doc), "draft_480p", "cpu")
    assert "tracks[0].clips[0].freeze_at: 9 s is past the end of \"red\" (4.000 s)" in str(err.value)
    assert "tracks[0].clips[1].reverse: \"logo\" is an image" in str(err.value)


def test_an_eased_volume_curve_shapes_the_sound(service, media, tmp_path):
    """Volume keyframes with an ease: the level at each moment is the curve's (a 440 Hz tone's RMS
    over 20 ms at 0.25, 0.5 and 0.75 s of an ease-in from 0 to 1)."""
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 2,
         "volume": [{"t": 0, "value": 0, "ease": "ease_in"}, [1, 1]]},
        ]}], {"red": media["red"]})
    flat = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 2}]}], {"red": media["red"]})

    def rms_at(d: dict, name: str) -> list[float]:
        _, out = render_doc(service, tmp_path, d, name)
        with av.open(str(out)) as c:
            data = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)[0]
        return [float(np.sqrt(np.mean(data[int(s * 48000) - 480:int(s * 48000) + 480] ** 2)))
                for s in (0.25, 0.5, 0.75, 1.5)]

    eased, level = rms_at(doc, "eased.mp4"), rms_at(flat, "flat.mp4")
    for (s, got, ref) in zip((0.25, 0.5, 0.75, 1.5), eased, level):
        assert abs(got / ref - progress("ease_in", min(s, 1.0))) < 0.03, (s, got / ref)


@pytest.mark.parametrize("moving", [False, True])
def test_an_eased_opacity_fades_the_overlay_as_the_curve_says(service, media, tmp_path, moving):
    """A lime logo over black fading 0 -> 1 with an ease-out (a table a frame, set by ``sendcmd``):
    its green at each frame is the curve's value times the logo's, on a still and a moving overlay."""
    doc = project([
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/3", "duration": "5/3", "scale": 0.5,
             "x": [[0, 0.5], [1, 0.5001]] if moving else 0.5,
             "opacity": [{"t": 0, "value": 0, "ease": "ease_out"}, [1, 1]]}]},
    ], {"logo": media["logo"]})
    plan, out = render_doc(service, tmp_path, doc)
    assert "geq" not in plan.filter_graph and "sendcmd" in plan.filter_graph
    with av.open(str(out)) as c:
        greens = [int(f.to_ndarray(format="rgb24")[60, 80][1]) for f in c.decode(video=0)]
    full = greens[45]  # opacity 1 from the clip's second 1
    for k in range(10, 40):
        want = full * progress("ease_out", (k - 10) / FPS)
        assert abs(greens[k] - want) <= 6, (k, greens[k], want)


def test_the_cli_refuses_bad_motion_with_exit_2_and_the_json_path(media, tmp_path, capsys):
    from engines.cli import main
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1,
         "scale": [{"t": 0, "value": 1, "ease": [0.5, 0, 2, 1]}, [1, 2]]}]}], {"red": media["red"]})
    assert main(["validate", str(write_project(tmp_path, doc))]) == 2
    err = capsys.readouterr()
    text = " ".join((err.out + err.err).split())  # the console wraps long lines
    assert "tracks[0].clips[0].scale: keyframe [0] ease Bézier x1 and x2 must be between 0 and 1" in text


def test_motion_on_a_lower_output_rate_keeps_frame_truth(service, numbered, media, tmp_path):
    """A 60 fps project drafted at 30 fps (clips whose first output frame falls inside them carry an
    offset): a window still shows the single pass's frames."""
    doc = project([
        {"id": "v", "kind": "video", "clips": [
            {"id": "r", "asset": "n", "start": "1/60", "source_in": 0, "source_out": 2,
             "speed": [[0, 1], {"t": "1/2", "value": 2, "ease": "ease_in"}]},
            {"id": "z", "asset": "n", "start": "83/60", "source_in": 2, "source_out": 3,
             "scale": [[0, 1], {"t": 1, "value": 1.5, "ease": "ease_out"}], "rotation": 10}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": "1/60", "duration": 2, "x": [[0, 0.2], [2, 0.8]],
             "opacity": [{"t": 0, "value": 0.3, "ease": "ease_in"}, [1, 1]]}]}],
        {"n": numbered, "logo": media["logo"]}, width=W, height=H, fps=60)

    def pictures(name: str, **kw) -> list[bytes]:
        _, out = render_doc(service, tmp_path, doc, name, streams="video", **kw)
        with av.open(str(out)) as f:
            return [fr.to_ndarray(format="yuv420p").tobytes() for fr in f.decode(video=0)]

    full = pictures("full.mp4")
    for window in ((7, 30), (20, len(full))):
        assert pictures("window.mp4", window=window, keyframe_at=0) == full[window[0]:window[1]], window


@pytest.mark.parametrize("ease", ["linear", "hold", "ease_in", "ease_out", "ease_in_out", (0.1, 0.9, 0.3, 0.2)])
def test_the_time_map_is_the_integral_of_the_speed_curve_and_inverts(ease):
    """``TimeMap.source`` is the integral of the eased speed (checked against a fine Riemann sum of
    ``value_at``) and ``timeline`` is its inverse, for every ease (no per-step drift)."""
    from engines.model.motion import TimeMap, value_at
    points = ((Fraction(0), 0.5), (Fraction(2), 3.0), (Fraction(3), 1.0))
    eases = (ease, "linear", "linear")
    ramp = TimeMap(points, eases)
    n = 4000
    for t in (0.3, 1.0, 2.0, 2.5, 4.0):
        riemann = sum(value_at(points, eases, Fraction(t) * (2 * k + 1) / (2 * n)) for k in range(n)) * t / n
        assert abs(ramp.source(t) - riemann) < 5e-4, (t, ramp.source(t), riemann)
        assert abs(ramp.timeline(ramp.source(t)) - t) < 1e-9

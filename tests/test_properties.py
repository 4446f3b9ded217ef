"""Property-based tests (hypothesis) over generated projects.

- Every *valid* generated project (1 to 3 clips with gaps or transitions, speeds at the limits,
  keyframes past the clip's end, text with filter and shell syntax in it, fps from 1 to 60 and
  30000/1001, sizes from 16x16 to 4K and portrait) validates, plans deterministically, and its
  plan renders with ffmpeg on tiny stand-in inputs to exactly the predicted frame count.
- Every *subtly invalid* one (one corruption of a valid one) is a ValidationError naming the
  JSON path of what is wrong; arbitrary JSON is a ValidationError, never a deeper exception.

``CUTLITE_FUZZ_EXAMPLES`` sets how many examples each property tries (default: a short run for
CI; the reliability report runs more).
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engines.errors import ValidationError
from engines.ffmpeg import samples
from engines.ffmpeg.probe import count_video_frames
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.model.timebase import fraction_text
from engines.model.timeline import place_project
from engines.video_render.service import RenderService

EXAMPLES = int(os.environ.get("CUTLITE_FUZZ_EXAMPLES") or 12)
COUNTS: dict[str, int] = {}  # examples tried per property, for the reliability report


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    if os.environ.get("CUTLITE_REPORT_DIR"):
        Path(os.environ["CUTLITE_REPORT_DIR"], "properties.json").write_text(json.dumps(COUNTS, indent=2))


def counted(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1
FPS = [Fraction(1), Fraction(24), Fraction(25), Fraction(30), Fraction(30000, 1001), Fraction(60)]
SIZES = [(16, 16), (160, 120), (640, 360), (1080, 1920), (3840, 2160)]
SPEEDS = [Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(16)]
SOURCE_SECONDS = 4
PROPS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                        HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def stand_ins(tmp_path_factory) -> dict[str, Path]:
    """Tiny inputs: a 4 s 64x48 clip with sound, a still, a tone."""
    d = tmp_path_factory.mktemp("stand-ins")
    return {"v": samples.make_video(d / "v.mp4", seconds=SOURCE_SECONDS, width=64, height=48, pattern="testsrc2"),
            "img": samples.make_image(d / "img.png", width=32, height=32, color="orange"),
            "a": samples.make_tone(d / "a.m4a", seconds=SOURCE_SECONDS)}


def t(frames: int | Fraction, fps: Fraction) -> str:
    return fraction_text(Fraction(frames) / fps)


@st.composite
def valid_projects(draw) -> dict:
    fps = draw(st.sampled_from(FPS))
    width, height = draw(st.sampled_from(SIZES))
    max_frames = max(1, int(2 * fps))  # clips up to ~2 s
    clips = []
    cursor = draw(st.integers(0, max(1, int(fps) // 2)))  # frames before the first clip
    prev_len = 0
    for i in range(draw(st.integers(1, 3))):
        speed = draw(st.sampled_from([s for s in SPEEDS if Fraction(1) / fps * s <= SOURCE_SECONDS - Fraction(1, 2)]))
        longest = min(max_frames, int((SOURCE_SECONDS - Fraction(1, 2)) * fps / speed))
        length = draw(st.integers(1, max(1, longest)))
        source_in = draw(st.sampled_from([Fraction(0), Fraction(1, 2)]))
        clip = {"id": f"c{i}", "asset": "v", "source_in": fraction_text(source_in),
                "source_out": fraction_text(source_in + Fraction(length) / fps * speed),
                "speed": fraction_text(speed)}
        overlap = draw(st.integers(0, min(prev_len, length))) if i and draw(st.booleans()) else 0
        if overlap:
            clip["transition_in"] = {"type": draw(st.sampled_from(["crossfade", "wipe_left", "fade_black"])),
                                     "duration": t(overlap, fps)}
            start = cursor - overlap
        else:
            start = cursor + (draw(st.integers(0, 3)) if i else 0)
        clip["start"] = t(start, fps)
        if draw(st.booleans()):
            clip["filters"] = [{"type": "color", "brightness": draw(st.sampled_from([-1, 0, 0.3, 1]))}]
        clips.append(clip)
        cursor, prev_len = start + length, length
    tracks = [{"id": "main", "kind": "video", "clips": clips}]
    total = Fraction(cursor) / fps
    overlays = []
    if draw(st.booleans()):
        text = draw(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                            min_size=1, max_size=40).filter(lambda s: s.strip()))
        overlays.append({"id": "t1", "text": text, "start": "0", "duration": fraction_text(total),
                         "x": draw(st.sampled_from([0, 0.5, 1.5])), "font_size": draw(st.sampled_from([4, 64, 999]))})
    if draw(st.booleans()):
        overlays.append({"id": "i1", "asset": "img", "start": "0", "duration": fraction_text(total),
                         "scale": draw(st.sampled_from([0.01, 0.25, 4])),
                         # keyframes past the clip's end are held flat
                         "opacity": [[0, 0], [fraction_text(total + 5), 1]]})
    if overlays:
        tracks.append({"id": "over", "kind": "overlay", "clips": overlays})
    if draw(st.booleans()):
        tracks.append({"id": "bed", "kind": "audio", "clips": [
            {"id": "m1", "asset": "a", "start": "0", "source_in": "0",
             "source_out": fraction_text(min(total, Fraction(SOURCE_SECONDS))),
             "volume": [[0, 0], [fraction_text(total + 1), 2]]}]})
    return {"schema_version": 1, "id": "prop", "tenant": "acme", "env": "dev",
            "settings": {"width": width, "height": height, "fps": fraction_text(fps)},
            "assets": {"v": {"path": "v.mp4"}, "img": {"path": "img.png"}, "a": {"path": "a.m4a"}},
            "tracks": tracks}


@PROPS
@given(doc=valid_projects())
def test_valid_projects_plan_deterministically_and_render_to_the_predicted_frames(doc, stand_ins, tmp_path_factory):
    counted("valid projects rendered")
    folder = stand_ins["v"].parent
    service = RenderService()
    project = load_project(doc)  # a generated valid project must validate
    fps = get_profile("draft_360p").output_fps(project.settings.fps)
    if place_project(project).at_rate(fps).frames < 1:
        with pytest.raises(ValidationError, match=f"shorter than one frame at {fraction_text(fps)} fps"):
            service.plan_project(project, "draft_360p", "cpu", base_dir=folder)
        return
    plan = service.plan_project(project, "draft_360p", "cpu", base_dir=folder)
    again = service.plan_project(load_project(json.loads(json.dumps(doc))), "draft_360p", "cpu", base_dir=folder)
    assert again.plan_hash == plan.plan_hash and again.filter_graph == plan.filter_graph
    out = tmp_path_factory.mktemp("prop") / "out.mp4"
    service.render(plan, out)  # ffmpeg accepts the graph; render() verifies the frame count too
    assert count_video_frames(out) == plan.frames


CORRUPTIONS = [
    # (what, mutate(doc) -> None, the path the error must name)
    ("overlap", lambda d: d["tracks"][0]["clips"].append(  # starts with the first clip, no transition
        {"id": "x", "asset": "v", "start": d["tracks"][0]["clips"][0]["start"], "source_in": "0",
         "source_out": "1"}), "tracks[0].clips["),
    ("transition on the first clip", lambda d: d["tracks"][0]["clips"][0].__setitem__(
        "transition_in", {"type": "crossfade", "duration": "1/2"}), "tracks[0].clips[0].transition_in"),
    ("speed too low", lambda d: d["tracks"][0]["clips"][0].__setitem__("speed", 0.05), "tracks[0].clips[0].speed"),
    ("speed too high", lambda d: d["tracks"][0]["clips"][0].__setitem__("speed", 17), "tracks[0].clips[0].speed"),
    ("empty source range", lambda d: d["tracks"][0]["clips"][0].__setitem__("source_out", "0"),
     "tracks[0].clips[0].source_out"),
    ("unknown asset", lambda d: d["tracks"][0]["clips"][0].__setitem__("asset", "vv"), "tracks[0].clips[0].asset"),
    ("decimal fps", lambda d: d["settings"].__setitem__("fps", 29.97), "settings.fps"),
    ("zero fps", lambda d: d["settings"].__setitem__("fps", 0), "settings.fps"),
    ("odd width", lambda d: d["settings"].__setitem__("width", 641), "settings"),
    ("unsorted keyframes", lambda d: d["tracks"][0]["clips"][0].__setitem__("volume", [[1, 1], [0, 0]]),
     "tracks[0].clips[0].volume"),
    ("text on a video track", lambda d: d["tracks"][0]["clips"].__setitem__(
        0, {"id": "c0", "text": "hi", "start": "0", "duration": "1"}), "tracks[0].clips[0].text"),
    ("negative start", lambda d: d["tracks"][0]["clips"][0].__setitem__("start", -1), "tracks[0].clips[0].start"),
    ("unknown key", lambda d: d["tracks"][0]["clips"][0].__setitem__("sped", 2), "tracks[0].clips[0].sped"),
]


@PROPS
@given(doc=valid_projects(), corruption=st.sampled_from(CORRUPTIONS))
def test_subtly_invalid_projects_name_the_path(doc, corruption):
    counted("invalid projects refused")
    _, mutate, path = corruption
    mutate(doc)
    with pytest.raises(ValidationError) as err:
        load_project(doc)
    assert any(path in p for p in err.value.problems), (path, err.value.problems)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=4), max_leaves=20)


@settings(max_examples=EXAMPLES * 20, deadline=None, derandomize=True)
@given(doc=st.one_of(json_values, st.fixed_dictionaries({"schema_version": st.just(1)}, optional={
    "id": json_values, "tenant": json_values, "env": json_values, "settings": json_values, "assets": json_values,
    "tracks": json_values})))
def test_arbitrary_json_is_a_validation_error_never_a_crash(doc):
    counted("arbitrary JSON documents refused")
    with pytest.raises(ValidationError):
        load_project(doc if isinstance(doc, dict) else {"schema_version": 1, "tracks": doc})

"""Captions tracks: burnt in with libass from an ASS script the plan writes, checked on exact frames."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pysubs2
import pytest
from conftest import measure, project, write_project

from engines.errors import ValidationError
from engines.ffmpeg import samples
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.planning.captions import ass_text, first_frame
from engines.planning.plan import build_plan
from engines.rendering.caption_sources import font_chain

FPS = 30  # draft_480p keeps the project's 30 fps


@pytest.fixture(scope="module")
def dark(tmp_path_factory, runner):
    """A dark grey picture: white, yellow and coloured text stand out from it."""
    d = tmp_path_factory.mktemp("captions")
    return samples.make_video(d / "dark.mp4", seconds=3, color="0x202020", tone_hz=None, runner=runner)


def doc(dark, clips, seconds=2, style=None, assets=None):
    track = {"id": "subs", "kind": "captions", "clips": clips}
    if style is not None:
        track["style"] = style
    return project([{"id": "v", "kind": "video", "clips": [
        {"id": "bg", "asset": "bg", "start": 0, "source_in": 0, "source_out": seconds}]}, track],
        {"bg": dark, **(assets or {})}, width=320, height=180)


def render(service, tmp_path, document, name="out.mp4", window=None):
    path = write_project(tmp_path, document, name + ".json")
    if window is None:
        plan = service.plan_project(path, "draft_480p", "cpu")
    else:
        proj = load_project(path)
        sources = service.gather(proj, tmp_path)
        plan = build_plan(proj, sources, get_profile("draft_480p"), service.decide(get_profile("draft_480p"), "cpu"),
                          window=window)
    service.render(plan, tmp_path / name)
    return plan, measure(tmp_path / name)


def white(frame: np.ndarray) -> np.ndarray:
    return (frame.astype(int) > 200).all(axis=2)


def yellow(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(int)
    return (f[:, :, 0] > 190) & (f[:, :, 1] > 170) & (f[:, :, 2] < 90)


def shown(m) -> list[int]:
    return [i for i, p in enumerate(m.pictures) if white(p).sum() > 20]


def test_a_cue_is_visible_on_exactly_the_frames_in_its_interval(service, dark, tmp_path):
    # [0.34, 0.81): frames whose time n/30 lies in it are 11 (0.3667) .. 24 (0.8); 10 is 0.3333 < 0.34
    plan, m = render(service, tmp_path, doc(dark, [{"id": "c", "start": 0.34, "duration": 0.47, "text": "Hello"}]))
    assert shown(m) == list(range(11, 25))
    assert m.frames == 60


def test_a_window_shows_the_same_cue_frames_as_the_full_render(service, dark, tmp_path):
    # chunks and range previews are windows of the same plan: frames [12, 40) of the timeline
    clips = [{"id": "c", "start": "1/3", "duration": "1/2", "text": "Hello"},
             {"id": "d", "start": 1, "duration": "1/10", "text": "again"}]
    _, m = render(service, tmp_path, doc(dark, clips), "window.mp4", window=(12, 40))
    assert m.frames == 28
    # cue c covers frames 10..24, cue d 30..32: in the window 0..12 and 18..20
    assert shown(m) == list(range(0, 13)) + [18, 19, 20]


def test_the_spoken_word_alone_is_drawn_in_the_highlight_colour(service, dark, tmp_path):
    cue = {"id": "k", "start": 0, "duration": 1, "text": "one two three",
           "words": [{"text": "one", "start": 0, "end": 0.3}, {"text": "two", "start": 0.3, "end": 0.6},
                     {"text": "three", "start": 0.6, "end": 1}]}
    _, m = render(service, tmp_path, doc(dark, [cue], style={"font_size": 24, "highlight_color": "#FFD400"}))

    def lit_columns(i):
        cols = np.where(yellow(m.pictures[i]).any(axis=0))[0]
        return (int(cols.min()), int(cols.max())) if len(cols) else None

    first, second, third = lit_columns(4), lit_columns(13), lit_columns(22)
    assert first and second and third
    assert first[1] < second[0] and second[1] < third[0]  # left to right, one word at a time
    assert lit_columns(8) == first and lit_columns(9) == second  # 0.3 s is frame 9 exactly
    assert lit_columns(30) is None and shown(m)[-1] == 29  # gone with the cue


def test_override_tags_braces_and_backslashes_are_shown_literally(service, dark, tmp_path):
    assert ass_text("{\\b1}\\N\\h", ()) == "\\{\\\u2060b1\\}\\\u2060N\\\u2060h"

    def box(text):
        _, m = render(service, tmp_path, doc(dark, [{"id": "c", "start": 0, "duration": 0.2, "text": text}],
                                             seconds=0.2, style={"font_size": 20, "outline": 0}), "lit.mp4")
        ys, xs = np.where(white(m.pictures[2]))
        return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)

    plain_w, plain_h = box("ab")
    hostile_w, hostile_h = box("a{\\i1}b\\Nc'd:e,f;[g]")
    assert hostile_w > 5 * plain_w          # every character drawn, on one line
    assert hostile_h < 1.6 * plain_h + 4    # \N did not break the line


@pytest.mark.parametrize("texts", [("你好世界", "天地玄黄"), ("سلام", "شكرا"), ("😀🎉", "🚀🌍")],
                         ids=["chinese", "arabic", "emoji"])
def test_any_script_is_drawn_with_glyphs_not_boxes(service, dark, tmp_path, texts):
    chain, warnings = font_chain("DejaVu Sans")
    assert not warnings, warnings  # make test installs the fallback fonts
    clips = [{"id": f"c{i}", "start": f"{3 * i}/{FPS}", "duration": f"3/{FPS}", "text": t}
             for i, t in enumerate(texts)]
    _, m = render(service, tmp_path, doc(dark, clips, seconds=0.4, style={"font_size": 40, "outline": 0}))
    a, b = white(m.pictures[1]), white(m.pictures[4])
    assert a.sum() > 100 and b.sum() > 100
    # two different strings of as many characters: tofu would draw the same boxes for both
    assert (a != b).sum() > 0.3 * max(a.sum(), b.sum())


def test_subtitle_files_keep_their_times_shifted_by_the_clip_start(service, dark, tmp_path):
    (tmp_path / "a.srt").write_text("1\n00:00:00,100 --> 00:00:00,400\nfrom srt {x}\n")
    (tmp_path / "b.vtt").write_text("WEBVTT\n\n00:00:00.000 --> 00:00:00.200\nfrom <b>vtt</b>\n")
    clips = [{"id": "s", "asset": "srt", "start": 1}, {"id": "w", "asset": "vtt"}]
    plan, m = render(service, tmp_path, doc(dark, clips, assets={"srt": tmp_path / "a.srt",
                                                                  "vtt": tmp_path / "b.vtt"}))
    # vtt [0, 0.2): frames 0..5; srt [1.1, 1.4): frames 33..41
    assert shown(m) == list(range(0, 6)) + list(range(33, 42))
    srt = plan.meta["sidecars"]["captions.srt"]
    assert "00:00:01,100 --> 00:00:01,400\nfrom srt {x}" in srt and "from vtt" in srt
    vtt = pysubs2.SSAFile.from_string(plan.meta["sidecars"]["captions.vtt"])
    assert [(e.start, e.end) for e in vtt.events] == [(0, 200), (1100, 1400)]


def test_a_window_shifts_the_script_clock(service, dark, tmp_path):
    proj = load_project(doc(dark, [{"id": "c", "start": 1, "duration": 0.5, "text": "x"}]))
    sources = service.gather(proj, tmp_path)
    prof = get_profile("draft_480p")
    plan = build_plan(proj, sources, prof, service.decide(prof, "cpu"),
                      window=(15, 45))
    ev = pysubs2.SSAFile.from_string(plan.files["captions_subs.ass"]).events[0]
    # frame 30 of the timeline is frame 15 of the window: written half a frame before (483 ms -> 480)
    assert ev.start == 480 and first_frame(Fraction(1), Fraction(FPS)) == 30


def test_bad_caption_clips_are_refused_with_their_paths(dark):
    bad = doc(dark, [{"id": "a", "text": "no start", "duration": 1},
                     {"id": "b", "start": 0, "duration": 1, "text": "x", "words": [{"text": "y", "start": 0.5,
                                                                                     "end": 2}]},
                     {"id": "c", "start": 0, "duration": 1, "text": "x", "speed": 2},
                     {"id": "d", "asset": "nope"}])
    with pytest.raises(ValidationError) as err:
        load_project(bad)
    text = str(err.value.problems)
    for want in ("tracks[1].clips[0].start: required field is missing", "tracks[1].clips[1].words[0].end: past",
                 "tracks[1].clips[2].speed: not allowed on a caption clip", "tracks[1].clips[3].asset: unknown"):
        assert want in text, text


def test_captions_sidecars_are_stored_as_artifacts_of_the_render_job(service, dark, tmp_path):
    from engines.video_render.service import RenderService

    jobs = RenderService(service.runner).job_service
    path = write_project(tmp_path, doc(dark, [{"id": "c", "start": 0.3, "duration": 0.4, "text": "stored & <kept>"}],
                                       seconds=1))
    job, _ = jobs.submit(str(path), "draft_480p", options={"chunk_seconds": 0.5}, hw="cpu")
    jobs.start(job.id)
    view = jobs.view(job.id)
    assert view["state"] == "COMPLETED", view["error"]
    meta = view["output_artifact"]["meta"]
    store = jobs.renderer.library.store(job.env)
    assert "stored & <kept>" in store.local_path(meta["sidecars"]["srt"]).read_text()
    assert "stored &amp; &lt;kept&gt;" in store.local_path(meta["sidecars"]["vtt"]).read_text()
    _, m = measure_output(jobs, job.id)
    # chunks of 15 frames: the cue [0.3, 0.7) spans the seam at frame 15 and is on frames 9..20, as in one pass
    assert shown(m) == list(range(9, 21))


def measure_output(jobs, job_id):
    path = jobs.output_path(jobs.jobs.get(job_id))
    return path, measure(path)


def test_a_range_preview_shows_the_cue_on_its_frames_and_counts_its_cost(service, dark, tmp_path):
    from engines.video_preview.latency import LatencyModel
    from engines.video_preview.service import PreviewService

    previews = PreviewService(service, model=LatencyModel(), allow_full_res_fallback=True)
    try:
        document = doc(dark, [{"id": "c", "start": 1, "duration": "1/3", "text": "preview"}])
        result = previews.preview(document, "fast", start=0.5, end=1.5, output=tmp_path / "p.mp4",
                                  base_dir=tmp_path)
    finally:
        previews.close()
    m = measure(tmp_path / "p.mp4")
    fps = m.fps
    # timeline frames [30, 40) at the preview's rate, counted from the window start 0.5 s
    a, b = first_frame(Fraction(1) - Fraction(1, 2), fps), first_frame(Fraction(4, 3) - Fraction(1, 2), fps)
    assert shown(m) == list(range(a, b))
    assert result.estimate.work.filter_mpx["captions"] > 0


def test_the_font_chain_starts_with_the_chosen_font_and_ends_with_the_fallbacks():
    chain, warnings = font_chain("Noto Sans CJK SC")
    assert [f.family for f in chain] == ["Noto Sans CJK SC", "DejaVu Sans", "Symbola"] and not warnings
    chain, warnings = font_chain("No Such Sans")
    assert [f.family for f in chain] == ["DejaVu Sans", "Noto Sans CJK SC", "Symbola"]
    assert warnings == ['no font named "No Such Sans" on this machine; using DejaVu Sans']
    # each character goes to the first font that has it (DejaVu Sans has the smileys, not the rocket)
    assert ass_text("a你😀🚀", chain) == "a{\\fnNoto Sans CJK SC}你{\\fnDejaVu Sans}😀{\\fnSymbola}🚀"

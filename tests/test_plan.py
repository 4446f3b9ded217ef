"""The plan is a pure, deterministic function of project, probe facts, profile and hardware."""

import json
import os
import random
from fractions import Fraction
from pathlib import Path

import pytest

from engines.errors import AssetError, ValidationError
from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import AudioInfo, MediaInfo, VideoInfo
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.planning.gathered import Sources
from engines.planning.plan import build_plan

GOLDEN = Path(__file__).parent / "golden"
CPU = HardwareDecision("cpu", "cpu", "libx264", "CPU requested", False)


def video(path: str, w=1280, h=720, seconds=20, rotation=0, audio=True, trc="bt709", interlaced=False):
    return MediaInfo(path, "mov,mp4", "video", Fraction(seconds), 1000,
                     VideoInfo(0, "h264", w, h, Fraction(30), rotation, "yuv420p", 8, Fraction(1), interlaced,
                               trc, "bt709", "tv", seconds * 30),
                     AudioInfo(1, "aac", 48000, 2, "stereo") if audio else None, 2)


MEDIA = {
    "beach": video("/media/beach.mp4"),
    "city": video("/media/city.mov", 1080, 1920, rotation=90, audio=False),
    "logo": MediaInfo("/media/logo.png", "png_pipe", "image", None, 10,
                      VideoInfo(0, "png", 200, 100, Fraction(25), 0, "rgba", 8, Fraction(1), False, None, None,
                                None, None), None, 1),
    "music": MediaInfo("/media/music.m4a", "mov,mp4", "audio", Fraction(60), 10, None,
                       AudioInfo(0, "aac", 44100, 2, "stereo"), 1),
}

PROJECT = {
    "schema_version": 1, "id": "summer-promo", "tenant": "acme", "env": "dev",
    "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000, "background": "#000000"},
    "assets": {"beach": {"path": "beach.mp4"}, "city": {"path": "city.mov"}, "logo": {"path": "logo.png"},
               "music": {"path": "music.m4a"}},
    "tracks": [
        {"id": "main", "kind": "video", "clips": [
            {"id": "c1", "asset": "beach", "start": 0, "source_in": 2, "source_out": 12},
            {"id": "c2", "asset": "city", "start": 9, "source_in": 0, "source_out": 15, "speed": 1.5,
             "fit": "cover", "volume": 0.8, "transition_in": {"type": "crossfade", "duration": 1},
             "filters": [{"type": "color", "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}]}]},
        {"id": "over", "kind": "overlay", "clips": [
            {"id": "l1", "asset": "logo", "start": 3, "duration": 17, "x": 0.85, "y": 0.08, "scale": 0.15,
             "opacity": [[0, 0], [0.5, 0.8]]},
            {"id": "t1", "text": "Summer Sale", "start": 1, "duration": 4, "x": 0.5, "y": 0.85,
             "font_size": 72, "color": "#FFFFFF"}]},
        {"id": "bed", "kind": "audio", "clips": [
            {"id": "m1", "asset": "music", "start": 0, "source_in": 0, "source_out": 30,
             "volume": [[0, 0], [1, 0.3], [28, 0.3], [30, 0]]}]},
    ],
}
FONTS = {"": "/fonts/DejaVuSans.ttf"}


def plan_of(doc, profile="social_1080p", media=MEDIA):
    return build_plan(load_project(doc), Sources(media, FONTS), get_profile(profile), CPU)


def shuffled(obj, rng):
    if isinstance(obj, dict):
        items = list(obj.items())
        rng.shuffle(items)
        return {k: shuffled(v, rng) for k, v in items}
    if isinstance(obj, list):
        return [shuffled(v, rng) for v in obj]
    return obj


def test_same_project_same_hash_whatever_the_key_order():
    first = plan_of(PROJECT)
    for seed in range(5):
        again = plan_of(shuffled(PROJECT, random.Random(seed)))
        assert again.plan_hash == first.plan_hash
        assert again == first


def test_hash_changes_with_the_edit_profile_and_hardware():
    base = plan_of(PROJECT)
    edited = json.loads(json.dumps(PROJECT))
    edited["tracks"][0]["clips"][0]["volume"] = 0.5
    assert plan_of(edited).plan_hash != base.plan_hash
    assert plan_of(PROJECT, "draft_360p").plan_hash != base.plan_hash
    nv = HardwareDecision("auto", "nvenc", "h264_nvenc", "ok", False)
    gpu_plan = build_plan(load_project(PROJECT), Sources(MEDIA, FONTS), get_profile("social_1080p"), nv)
    assert gpu_plan.plan_hash != base.plan_hash
    assert gpu_plan.meta["encoder"] == "h264_nvenc" and gpu_plan.meta["hardware"]["family"] == "nvenc"


def test_output_length_is_the_end_of_the_last_clip_in_whole_frames():
    p = plan_of(PROJECT)
    # main: 0..10, then city 9..19 (15 s at 1.5x = 10 s); logo 3..20; music 0..30 -> 30 s
    assert (p.frames, p.duration, p.samples) == (900, "30", 1_440_000)


def test_inputs_are_in_track_then_clip_order_and_seek_to_source_in():
    p = plan_of(PROJECT)
    # pictures first; then sound, read from audio-only inputs seeked half a second early (c2 is silent)
    assert [i.clip for i in p.inputs] == ["c1", "c2", "l1", "c1", "m1"]
    c1 = p.inputs[0].args
    assert c1[c1.index("-ss") + 1] == "2.000000" and "-noautorotate" in c1
    assert p.inputs[3].args[:2] == ["-ss", "1.500000"] and p.inputs[3].args[-1] == "-vn"


def test_the_text_is_never_in_the_graph_only_in_a_file():
    doc = json.loads(json.dumps(PROJECT))
    hostile = "a'b:c\\d[e],f;g%{pts}\"h\" 50% (x)"
    doc["tracks"][1]["clips"][1]["text"] = hostile
    p = plan_of(doc)
    assert p.files == {"text_t1.txt": hostile}
    assert "%{pts}" not in p.filter_graph and "expansion=none" in p.filter_graph
    assert "textfile='text_t1.txt'" in p.filter_graph


def test_rotation_comes_from_the_probe():
    assert "transpose=clock" in plan_of(PROJECT).filter_graph


def test_hdr_and_interlaced_sources_are_converted():
    media = dict(MEDIA, beach=video("/media/hlg.mov", trc="arib-std-b67", interlaced=True))
    g = plan_of(PROJECT, media=media).filter_graph
    assert "tonemap=tonemap=hable" in g and "bwdif" in g


def test_a_source_range_past_the_end_is_a_problem_not_a_silent_clamp():
    doc = json.loads(json.dumps(PROJECT))
    doc["tracks"][0]["clips"][0]["source_out"] = 25
    doc["tracks"][0]["clips"][1]["start"] = 22
    with pytest.raises(ValidationError) as err:
        plan_of(doc)
    assert err.value.problems == ['tracks[0].clips[0].source_out: 25 s is past the end of "beach" (20.000 s)']


def test_picture_and_sound_are_given_to_ffmpeg_as_separate_graphs():
    """One -filter_complex holding both deadlocks ffmpeg 9 now and then (filtergraph.graph_parts)."""
    p = plan_of(PROJECT)
    files = p.graph_files()
    assert list(files) == ["filter_graph_0.txt", "filter_graph_1.txt"]
    picture, sound = files.values()
    assert picture.endswith("[vout]") and "[aout]" not in picture and "amix" not in picture
    assert sound.endswith("[aout]") and "[vout]" not in sound and "xfade" not in sound
    assert sorted((picture + ";\n" + sound).split(";\n")) == sorted(p.filter_graph.split(";\n"))
    argv = p.argv("out.mp4")
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-/filter_complex"] == list(files)
    assert set(files) <= set(p.work_files())
    # one stream, one graph, under its usual name
    audio_only = build_plan(load_project(PROJECT), Sources(MEDIA, FONTS), get_profile("draft_360p"), CPU, streams="audio")
    assert list(audio_only.graph_files()) == ["filter_graph.txt"]


def test_graph_parts_follow_labels_not_input_streams():
    from engines.planning.filtergraph import graph_parts
    graph = ";\n".join(["[0:0]scale=2:2[v1]", "[1:0]asplit=2[s1][s2]", "color=c=red[gap]", "[v1][gap]concat=n=2[vout]",
                        "[s2]anull[s3]", "[0:1][s1][s3]amix=inputs=3[aout]", "[1:0]null[other]"])
    assert graph_parts(graph) == ["[0:0]scale=2:2[v1];\ncolor=c=red[gap];\n[v1][gap]concat=n=2[vout]",
                                  "[1:0]asplit=2[s1][s2];\n[s2]anull[s3];\n[0:1][s1][s3]amix=inputs=3[aout]",
                                  "[1:0]null[other]"]


def test_opacity_uses_a_lookup_table_where_flat_and_geq_only_on_a_ramps_frames():
    doc = json.loads(json.dumps(PROJECT))
    logo = doc["tracks"][1]["clips"][0]
    g = plan_of(doc).filter_graph  # 0 -> 0.8 over the clip's first 0.5 s, then 0.8
    assert g.count("geq=") == 1 and "enable=gte(t\\,3.000000)*lt(t\\,3.500000)" in g
    assert "lut=y=val:u=val:v=val:a=val*0.8:enable=gte(t\\,3.500000)" in g
    assert "lt(t\\,3.000000)," not in g  # the piece before the clip's first frame is left out
    logo["opacity"] = 0.5
    g = plan_of(doc).filter_graph
    assert "geq=" not in g and "colorchannelmixer" not in g and "lut=y=val:u=val:v=val:a=val*0.5[" in g


def test_golden_plans():
    """Compare with tests/golden; regenerate with CUTLITE_UPDATE_GOLDEN=1 after an intended change."""
    for profile in ("social_1080p", "draft_360p"):
        p = plan_of(PROJECT, profile)
        doc = p.model_dump()
        doc["argv"] = p.argv("out.mp4")
        golden = GOLDEN / f"summer_promo_{profile}.json"
        text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        if os.environ.get("CUTLITE_UPDATE_GOLDEN") == "1":
            golden.write_text(text)
        assert golden.exists(), "missing golden file: run CUTLITE_UPDATE_GOLDEN=1 make test"
        assert text == golden.read_text(), (
            f"{golden.name} differs from the plan. If the change is intended, regenerate with:\n"
            f"    CUTLITE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_plan.py -k golden")


def test_dry_run_lists_every_missing_asset(tmp_path, service):
    doc = json.loads(json.dumps(PROJECT))
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(AssetError) as err:
        service.plan_project(tmp_path / "p.json", "draft_360p", "cpu")
    problems = err.value.context["problems"]
    assert sorted(p.split(":")[0] for p in problems) == ["assets.beach", "assets.city", "assets.logo",
                                                          "assets.music"]
    assert all("file not found" in p for p in problems)


def test_local_paths_outside_dev_are_refused(tmp_path, service, monkeypatch):
    monkeypatch.delenv("CUTLITE_ALLOW_LOCAL_PATHS", raising=False)
    doc = dict(json.loads(json.dumps(PROJECT)), env="prod")
    (tmp_path / "p.json").write_text(json.dumps(doc))
    with pytest.raises(AssetError) as err:
        service.plan_project(tmp_path / "p.json", "draft_360p", "cpu")
    assert all("allowed in dev only" in p for p in err.value.context["problems"])

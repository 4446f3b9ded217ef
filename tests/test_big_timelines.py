"""Big timelines at linear cost: the sound's lanes, source runs and windows, planning time, and
a 300-clip job whose output has exactly the planned frames and samples."""

from __future__ import annotations

import json
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from conftest import measure

from engines.ffmpeg.hardware import HardwareDecision
from engines.ffmpeg.probe import probe
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.model.timeline import place_project
from engines.planning.audio_passes import pcm_bytes, plan_audio_windows, to_pcm
from engines.planning.gathered import Sources
from engines.planning.plan import build_plan
from engines.planning.sound import assign_lanes, audio_windows, source_runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_big_timeline import montage  # noqa: E402

CPU = HardwareDecision("cpu", "cpu", "libx264", "CPU requested", False)


def test_clips_that_do_not_overlap_share_a_lane_and_overlaps_take_another():
    assert assign_lanes([(0, 10), (10, 20), (15, 30), (30, 40), (35, 36)]) == [0, 0, 1, 0, 1]
    assert assign_lanes([]) == []


def test_reads_of_one_source_are_grouped_into_runs_of_bounded_span():
    reads = [(Fraction(0), Fraction(1)), (Fraction(50), Fraction(51)), (Fraction(20), Fraction(21)),
             (Fraction(29), Fraction(31)), (Fraction(100), Fraction(200))]
    assert source_runs(reads, Fraction(30)) == [[0, 2], [3, 1], [4]]


def test_audio_windows_cover_the_timeline_at_clip_starts_with_few_clips_each(media):
    doc = montage(200, {"main": media["red"]}, source_seconds=Fraction(4), size=(160, 120))
    timeline = place_project(load_project(doc)).at_rate(Fraction(24))
    windows = audio_windows(timeline, 48)
    assert windows[0][0] == 0 and windows[-1][1] == timeline.frames
    assert all(a < b and b == c for (a, b), (c, _) in zip(windows, windows[1:]))
    starts = {pc.start for pc in timeline.clips()}
    assert all(a in starts for a, _ in windows)
    assert max(sum(a <= s < b for s in starts) for a, b in windows) == 48 and len(windows) == 5


def _media_for(doc: dict, path: Path) -> dict:
    info = probe(path)
    return {name: info for name in doc["assets"]}


def test_planning_2000_clips_takes_under_a_second_and_opens_the_source_once_for_sound(media):
    doc = montage(2000, {"main": media["red"]}, source_seconds=Fraction(4), size=(160, 120))
    media_info = _media_for(doc, media["red"])
    profile = get_profile("draft_360p")
    # CPU time of this process: the machine running the suite is shared (measured 0.4 s + 0.4 s)
    t = time.process_time()
    proj = load_project(doc)
    plan = build_plan(proj, Sources(media_info), profile, CPU)
    elapsed = time.process_time() - t
    assert elapsed < 1.0, f"validating and planning 2,000 clips took {elapsed:.2f} s of CPU"
    assert plan.frames == 30000 and plan.samples == 1000 * 48000
    sound = build_plan(proj, Sources(media_info), profile, CPU, streams="audio")
    assert len(sound.inputs) == 1 and "amix" not in sound.filter_graph  # one input, one lane, no mix
    assert sound.filter_graph.count("asplit=2000") == 1


def test_the_graph_grows_linearly_with_the_clip_count(media):
    profile = get_profile("draft_360p")
    sizes = {}
    for n in (500, 1000, 2000):
        doc = montage(n, {"main": media["red"], "city": media["blue"], "sea": media["red"], "logo": media["logo"]},
                      case="mixed", source_seconds=Fraction(4), size=(160, 120))
        info = {k: probe(v["path"]) for k, v in doc["assets"].items()}
        plan = build_plan(load_project(doc), Sources(info), profile, CPU)
        sizes[n] = (len(plan.filter_graph), plan.filter_graph.count("amix=inputs=2"))
    assert 1.9 < sizes[2000][0] / sizes[1000][0] < 2.1 and 1.9 < sizes[1000][0] / sizes[500][0] < 2.1
    assert sizes[2000][1] == 1  # crossfades: one A/B pair of lanes, mixed once


def _pcm(path: Path) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype="<f4").reshape(-1, 2)


def test_sound_rendered_in_windows_is_the_single_pass_sound(service, media, tmp_path):
    """Crossfades, a volume ramp and a music bed under the cuts: the PCM joined from windows of two
    clips equals the single pass's, sample for sample in count and within float rounding."""
    doc = montage(9, {"main": media["red"], "city": media["blue"], "sea": media["red"], "logo": media["logo"]},
                  case="mixed", source_seconds=Fraction(4), size=(160, 120))
    del doc["tracks"][1]
    doc["assets"].pop("logo", None)
    doc["tracks"][0]["clips"][4]["volume"] = [[0, 0.2], ["1/2", 1]]
    doc["assets"]["music"] = {"path": str(media["tone"])}
    doc["tracks"].append({"id": "m", "kind": "audio", "clips": [
        {"id": "m1", "asset": "music", "start": "1/3", "source_in": 0, "source_out": 3, "volume": 0.5}]})
    proj = load_project(doc)
    info = {k: probe(v["path"]) for k, v in doc["assets"].items()}
    profile = get_profile("draft_360p")

    def plan(**kw):
        return build_plan(proj, Sources(info), profile, CPU, **kw)

    whole = to_pcm(plan(streams="audio"))
    service.encode(whole, tmp_path / "whole.pcm")
    joined = []
    windows = plan_audio_windows(proj, whole, max_clips=2)
    assert len(windows) >= 4
    for a, b in windows:
        part = to_pcm(plan(window=(a, b), streams="audio"))
        service.encode(part, tmp_path / "part.pcm")
        assert (tmp_path / "part.pcm").stat().st_size == pcm_bytes(part)
        joined.append(_pcm(tmp_path / "part.pcm"))
    one, parts = _pcm(tmp_path / "whole.pcm"), np.concatenate(joined)
    assert len(one) == len(parts) == whole.samples
    assert np.abs(one).max() > 0.1 and np.abs(one - parts).max() < 1e-3


def test_a_300_clip_job_has_exactly_the_planned_frames_and_samples(service, media, tmp_path):
    from engines.media_v2.library import MediaLibrary
    from engines.media_v2.registry import Registry
    from engines.media_v2.storage import LocalStore
    from engines.video_render.service import RenderService

    doc = montage(300, {"main": media["red"]}, cut=Fraction(1, 10), source_seconds=Fraction(4), size=(160, 120))
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    svc = RenderService(service.runner, library=MediaLibrary(Registry(f"sqlite:///{tmp_path / 'db.sqlite'}"),
                                                             stores={"dev": LocalStore(tmp_path / "objects")}))
    job, _ = svc.submit_job(path, "draft_360p", options={"chunk_seconds": "10"}, hw="cpu")
    done = svc.run_job(job.id)
    assert done.state == "COMPLETED", done.error
    out = svc.library.store("dev").local_path(done.output_key)
    m = measure(out, decode=False)
    assert m.frames == 900 and m.video_seconds == 30
    with av.open(str(out)) as c:
        a = c.streams.audio[0]
        # the container's own count (edit list applied) is exact; decoders hand out whole AAC frames
        assert a.duration * a.time_base == 30
    assert abs(m.audio_samples - 30 * 48000) <= 1024

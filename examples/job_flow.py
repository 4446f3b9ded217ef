"""The job flow, end to end, as a script: two clips -> proxies -> a render job that is
interrupted (kill -9) and resumed -> a preview plan read from the proxies. Prints one JSON document.

    python examples/job_flow.py [--workdir DIR]

Everything runs on the embedded default: local files, SQLite and the local object store under
the work folder. The tests run this script (tests/test_examples.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.ffmpeg import samples  # noqa: E402
from engines.video_preview.service import PreviewService  # noqa: E402
from engines.video_render.service import RenderService, ensure_proxies_for_project  # noqa: E402

CLI = [sys.executable, "-m", "engines.cli"]


def chunks_done(db: Path, job_id: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("select count(*) from render_chunks where job_id=? and state='DONE'",
                                (job_id,)).fetchone()[0]
    except sqlite3.Error:
        return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="cutlite-example-")).resolve()
    home = work / "state"
    os.environ["CUTLITE_HOME"] = str(home)
    report: dict = {"workdir": str(work)}

    # 1. a project with two clips and a crossfade
    media = work / "media"
    media.mkdir(parents=True, exist_ok=True)
    samples.make_video(media / "a.mp4", seconds=5, width=640, height=360, pattern="testsrc2")
    samples.make_video(media / "b.mp4", seconds=5, width=640, height=360, pattern="smptehdbars", tone_hz=660)
    project = {"schema_version": 1, "id": "example", "tenant": "demo", "env": "dev",
               "settings": {"width": 1280, "height": 720, "fps": 30},
               "assets": {"a": {"path": "media/a.mp4"}, "b": {"path": "media/b.mp4"}},
               "tracks": [{"id": "main", "kind": "video", "clips": [
                   {"id": "c1", "asset": "a", "start": 0, "source_in": 0, "source_out": 5},
                   {"id": "c2", "asset": "b", "start": 4, "source_in": 0, "source_out": 5,
                    "transition_in": {"type": "crossfade", "duration": 1}}]}]}
    project_file = work / "project.json"
    project_file.write_text(json.dumps(project, indent=2))

    # 2. proxies
    service = RenderService()
    report["proxies"] = [{"asset": o.asset, "status": o.status, "key": o.key}
                         for o in ensure_proxies_for_project(project_file, service=service)]

    # 3. a render job, interrupted with kill -9 after two chunks, then resumed
    output = work / "render.mp4"
    env = dict(os.environ)
    proc = subprocess.Popen([*CLI, "render", str(project_file), "--profile", "preview_720p", "-o", str(output),
                             "--chunk-seconds", "1"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            text=True, cwd=ROOT)
    job_id = proc.stderr.readline().split()[1]
    deadline = time.monotonic() + 120
    while chunks_done(home / "cutlite.db", job_id) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = service.job_view(job_id)
    report["interrupted"] = {"job_id": job_id, "state": interrupted["state"], "stale": interrupted["stale"],
                             "chunks_done": sum(c["state"] == "DONE" for c in interrupted["chunks"]),
                             "chunks": len(interrupted["chunks"])}
    resumed = subprocess.run([*CLI, "jobs", "resume", job_id, "--json"], env=env, capture_output=True, text=True,
                             cwd=ROOT, timeout=600)
    view = json.loads(resumed.stdout)
    report["resumed"] = {"state": view["state"], "frames": view["frames"], "output": str(output),
                         "output_exists": output.exists(), "output_key": view["output_key"],
                         "chunk_renders": sum(1 for e in service.jobs.events(job_id) if e["kind"] == "chunk_done")}

    # 4. a preview plan: strategy fast, read from the proxies made in step 2, with its estimate
    previews = PreviewService(service)
    preview = previews.plan(project_file, "fast", 3, 6)
    plan = preview.plan
    report["preview_plan"] = {"strategy": preview.strategy, "profile": plan.profile, "frames": plan.frames,
                              "window": plan.window, "size": [plan.width, plan.height], "fps": plan.fps,
                              "plan_hash": plan.plan_hash, "encoder": plan.meta["encoder"],
                              "read_from": {a.asset: a.read_from for a in preview.assets},
                              "warnings": preview.warnings, "estimated_latency_ms": round(preview.estimate.ms)}
    previews.close()
    print(json.dumps(report, indent=2))
    return 0 if view["state"] == "COMPLETED" else 1


if __name__ == "__main__":
    sys.exit(main())

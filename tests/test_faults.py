"""Injected faults: crashes at exact moments (failpoints), a full disk, a failing store.

Each crash kills ``cutlite render`` with SIGKILL at a named point; ``cutlite jobs resume`` must
then complete with the right output, one render artifact and nothing half-written left behind.
``CUTLITE_FAULT_REPEATS`` repeats every crash (the reliability report runs more).
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import CLI, measure, project, service_for, write_project

from engines.errors import StorageError
from engines.faults import POINTS
from engines.ffmpeg import samples
from engines.media_v2 import keys
from engines.media_v2.storage import LocalStore

REPEATS = int(os.environ.get("CUTLITE_FAULT_REPEATS") or 1)



@pytest.fixture(scope="module")
def clip_project(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("faults")
    src = samples.make_video(d / "src.mp4", seconds=3, width=640, height=360, pattern="testsrc2")
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "s", "start": 0, "source_in": 0, "source_out": 3}]}], {"s": src}, width=640, height=360)
    return write_project(d, doc)


def leftovers(home: Path) -> list[str]:
    """Half-written files anywhere in the store: temporary or partial names."""
    return sorted(str(p.relative_to(home)) for p in (home / "objects").rglob("*")
                  if p.is_file() and (".tmp" in p.name or "partial" in p.name or p.name.startswith(".")))


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("repeat", range(REPEATS))
def test_a_crash_at_any_point_resumes_to_a_correct_output(point, repeat, tmp_path, clip_project):
    home = tmp_path / "home"
    env = {**os.environ, "CUTLITE_HOME": str(home)}
    out = tmp_path / "final.mp4"
    crashed = subprocess.run([*CLI, "render", str(clip_project), "--profile", "draft_360p", "-o", str(out),
                              "--chunk-seconds", "1"], env={**env, "CUTLITE_FAILPOINT": point},
                             capture_output=True, text=True, timeout=300)
    assert crashed.returncode == -9, crashed.stderr[-2000:]
    job_id = crashed.stderr.split()[1]
    svc = service_for(home)
    job = svc.jobs.get(job_id)
    assert job.state == "RUNNING" and svc.jobs.is_stale(job)  # found by its lease, never stuck
    out_key = keys.render_key("acme", "dev", job_id, "output.mp4")
    art = svc.library.registry.artifact_by_key("acme", "dev", out_key)
    assert art is None or point == "job.before_complete"  # registered only once complete and verified
    assert not out.exists()
    resumed = subprocess.run([*CLI, "jobs", "resume", job_id, "--json"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout)["state"] == "COMPLETED"
    assert measure(out, decode=False).frames == 90  # 3 s at 30 fps
    with sqlite3.connect(home / "cutlite.db") as db:
        rows = db.execute("select size from media_artifacts where key = ?", (out_key,)).fetchall()
    assert rows == [((home / "objects" / out_key).stat().st_size,)]  # one artifact, the complete file
    assert leftovers(home) == []


def test_a_full_disk_fails_the_job_with_a_hint_and_no_artifact(tmp_path, clip_project):
    """A file-size limit on the render (as a full disk would): ffmpeg dies writing a chunk."""
    home = tmp_path / "home"
    env = {**os.environ, "CUTLITE_HOME": str(home)}
    out = tmp_path / "final.mp4"
    limit = 768 * 1024  # a chunk of social_1080p (1.5 MB) is larger; the database (and its WAL, heartbeats
    # included, even on a slow machine) and the audio are smaller

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run([*CLI, "render", str(clip_project), "--profile", "social_1080p", "-o", str(out),
                          "--chunk-seconds", "3", "--json"], env=env, capture_output=True, text=True, timeout=300,
                         preexec_fn=small_disk)
    assert run.returncode == 1, run.stderr[-2000:]
    error = json.loads(run.stdout)["error"]
    assert error["code"] == "disk_full" and "free space" in error["hint"]
    svc = service_for(home)
    [job] = svc.jobs.list()
    assert job.state == "FAILED" and job.error["code"] == "disk_full"
    assert svc.library.registry.artifact_by_key("acme", "dev", keys.render_key("acme", "dev", job.id,
                                                                             "output.mp4")) is None
    assert not out.exists() and leftovers(home) == []
    # with room again, the same job resumes and completes
    resumed = subprocess.run([*CLI, "jobs", "resume", job.id, "--json"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0 and measure(out, decode=False).frames == 90


def test_a_store_that_fails_a_write_fails_the_job_with_context_and_it_resumes(tmp_path, clip_project, monkeypatch):
    home = tmp_path / "home"
    svc = service_for(home)
    job, _ = svc.submit_job(clip_project, "draft_360p", options={"chunk_seconds": 1})
    real_put = LocalStore.put_file
    failures = []

    def flaky_put(self, key, src, *, move=False):  # noqa: ANN001
        if key.endswith("/output.mp4") and not failures:
            failures.append(key)
            raise StorageError("the object store refused the write", stage="store", key=key, retryable=True,
                               hint="check the store, then resume the job")
        return real_put(self, key, src, move=move)

    monkeypatch.setattr(LocalStore, "put_file", flaky_put)
    failed = svc.run_job(job.id)
    assert failed.state == "FAILED" and failed.error["code"] == "storage_error"
    assert failed.error["context"]["key"].endswith("/output.mp4") and failed.error["hint"]
    resumed = svc.resume_job(job.id)
    assert resumed.state == "COMPLETED"
    chunks = svc.jobs.chunks(job.id)
    assert all(c.state == "DONE" for c in chunks)
    assert leftovers(home) == []

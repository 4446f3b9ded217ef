"""Scale-out: chunks on real ``cutlite worker`` processes over the local RabbitMQ, shared state
on a fresh Postgres database (SQLite where Postgres is absent), all on loopback.

Skipped, with the reason, only where RabbitMQ is not reachable.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import CLI, project, running_encodes, write_project

from engines.ffmpeg import samples
from engines.ffmpeg.runner import HardwareReport
from engines.jobs.distributed import chunk_queue, worker_queues

# tests that set a job up by hand must not wait for a slot another test's job still holds
ROOMY = {"CUTLITE_MAX_RUNNING_JOBS": "50", "CUTLITE_MAX_RUNNING_JOBS_PER_TENANT": "50"}
PG = os.environ.get("CUTLITE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


# only the tests that run real workers need the broker; the routing and no-broker tests run everywhere
needs_rabbitmq = pytest.mark.skipif(not reachable("127.0.0.1", 5672),
                                    reason="RabbitMQ is not reachable on 127.0.0.1:5672")


# ---------------------------------------------------------------- GPU routing (probe mocked, both sides)

class Probe:
    def __init__(self, usable: bool) -> None:
        self.usable = usable


@pytest.mark.parametrize("usable, queues", [(True, ["q", "q.gpu"]), (False, ["q"])])
def test_a_worker_consumes_the_gpu_queue_only_when_its_trial_encode_passed(usable, queues):
    report = HardwareReport.__new__(HardwareReport)
    object.__setattr__(report, "probes", [Probe(False), Probe(usable)])
    assert worker_queues(report, "q") == queues


@pytest.mark.parametrize("family, queue", [("nvenc", "q.gpu"), ("vaapi", "q.gpu"), ("cpu", "q")])
def test_chunks_of_a_hardware_plan_go_to_the_gpu_queue(family, queue):
    assert chunk_queue(family, "q") == queue


# ---------------------------------------------------------------- a small farm on this machine

def fresh_database() -> tuple[str, str | None]:
    """A new Postgres database for this module (dropped after), or SQLite when Postgres is absent."""
    try:
        import psycopg

        name = "cutlite_scaleout_" + secrets.token_hex(4)
        with psycopg.connect(PG, connect_timeout=3, autocommit=True) as conn:
            conn.execute(f"create database {name}")
        return PG.rsplit("/", 1)[0] + "/" + name, name
    except Exception:  # noqa: BLE001 - absent: the embedded default
        return "", None


class Farm:
    def __init__(self, home: Path, **extra: str) -> None:
        self.home = home
        db_url, self.pg_name = fresh_database()
        self.env = {**os.environ, "CUTLITE_HOME": str(home), "CUTLITE_EXECUTOR": "celery",
                    "CUTLITE_QUEUE": "cutlite-test-" + secrets.token_hex(4), **extra}
        if db_url:
            self.env["CUTLITE_DATABASE_URL"] = db_url
        self.workers: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, own_disk: bool = False) -> None:
        """A worker; with ``own_disk`` its state folder (caches) is its own, as on another machine."""
        log = open(self.home / f"{name}.log", "w")
        env = {**self.env, "CUTLITE_HOME": str(self.home / f"disk-{name}")} if own_disk else self.env
        proc = subprocess.Popen([*CLI, "worker", "--name", name], env=env, stdout=log, stderr=subprocess.STDOUT,
                                text=True)
        deadline = time.monotonic() + 60
        while "ready" not in (self.home / f"{name}.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (self.home / f"{name}.log").read_text()
            time.sleep(0.1)
        self.workers[name] = proc

    def kill(self, name: str) -> None:
        self.workers.pop(name).send_signal(signal.SIGKILL)

    def stop(self) -> None:
        for proc in self.workers.values():
            proc.terminate()
        for proc in self.workers.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        from engines.jobs.celery_app import app

        with app.connection_for_write() as conn:  # leave the broker as it was
            for queue in (self.env["CUTLITE_QUEUE"], self.env["CUTLITE_QUEUE"] + ".gpu"):
                try:
                    conn.default_channel.queue_delete(queue)
                except Exception:  # noqa: BLE001 - never declared
                    pass
        if self.pg_name:
            import psycopg

            with psycopg.connect(PG, autocommit=True) as conn:
                conn.execute(f"drop database if exists {self.pg_name} with (force)")

    def cli(self, *args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], env={**self.env, **env}, capture_output=True, text=True, timeout=timeout)

    def job(self, job_id: str) -> dict:
        out = self.cli("jobs", "show", job_id, "--json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def wait(self, job_id: str, states: set[str], timeout: float = 180) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            view = self.job(job_id)
            if view["state"] in states:
                return view
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} did not reach {states}: {view}")


@pytest.fixture(scope="module")
def farm(tmp_path_factory):
    f = Farm(tmp_path_factory.mktemp("farm"))
    f.start("w1")
    f.start("w2")
    yield f
    f.stop()


@pytest.fixture(scope="module")
def moving(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("farm-media")
    return samples.make_video(d / "moving.mp4", seconds=8, width=640, height=360, pattern="testsrc2")


def a_project(tmp_path: Path, src: Path, seconds: int, name: str = "p.json", width: int = 640) -> Path:
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": seconds}]}], {"m": src},
        width=width, height=width * 9 // 16)
    return write_project(tmp_path, doc, name)


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(c.streams.video[0])]


@needs_rabbitmq
def test_a_job_fans_out_over_two_workers_and_matches_the_local_pool(farm, moving, tmp_path):
    path = a_project(tmp_path, moving, 4)
    run = farm.cli("render", str(path), "--profile", "draft_480p", "-o", str(tmp_path / "farm.mp4"),
                   "--chunk-seconds", "1/2", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    view = json.loads(run.stdout)
    assert view["state"] == "COMPLETED" and len(view["chunks"]) == 8
    assert {c["worker"].split("@")[0] for c in view["chunks"]} == {"w1", "w2"}
    assert all(c["attempts"] == 1 for c in view["chunks"])
    local_env = {k: v for k, v in farm.env.items() if k not in ("CUTLITE_EXECUTOR", "CUTLITE_DATABASE_URL")}
    local = subprocess.run([*CLI, "render", str(path), "--profile", "draft_480p", "-o", str(tmp_path / "local.mp4"),
                            "--chunk-seconds", "1/2"], env={**local_env, "CUTLITE_HOME": str(tmp_path / "local")},
                           capture_output=True, text=True, timeout=300)
    assert local.returncode == 0, local.stderr[-2000:]
    a, b = frames_of(tmp_path / "farm.mp4"), frames_of(tmp_path / "local.mp4")
    assert len(a) == len(b) == 120 and all(np.array_equal(x, y) for x, y in zip(a, b))  # frame for frame


@needs_rabbitmq
def test_a_worker_killed_mid_chunk_loses_nothing(farm, moving, tmp_path, ours):
    path = a_project(tmp_path, moving, 8, width=1920)
    run = farm.cli("render", str(path), "--profile", "social_1080p", "-o", str(tmp_path / "out.mp4"),
                   "--chunk-seconds", "2", "--detach", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    job_id = json.loads(run.stdout)["id"]
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        running = [c for c in farm.job(job_id)["chunks"] if c["state"] == "RUNNING" and c["worker"]]
        victim = running[0] if running else None
        time.sleep(0.1)
    assert victim is not None
    name = victim["worker"].split("@")[0]
    farm.kill(name)
    try:
        view = farm.wait(job_id, {"COMPLETED", "FAILED"})
        assert view["state"] == "COMPLETED", view["error"]
        chunk = next(c for c in view["chunks"] if c["index"] == victim["index"])
        assert chunk["attempts"] == 2 and chunk["worker"].split("@")[0] != name  # rerun on the other worker
        assert frames_of(farm.home / "objects" / view["output_key"]).__len__() == 240
        time.sleep(0.5)
        assert running_encodes(b"cutlite-chunk-", ours) == []  # the killed worker's ffmpeg did not survive it
    finally:
        farm.start(name)


@needs_rabbitmq
def test_a_chunk_that_always_fails_fails_the_job_after_the_retry_limit(farm, moving, tmp_path):
    path = a_project(tmp_path, moving, 4, name="fails.json", width=1280)  # shares no chunk with others
    # a 2 s social_1080p chunk takes seconds here: 0.3 s is never enough
    job = _submit(farm, path, {"chunk_seconds": "2", "chunk_timeout": 0.3, "max_attempts": 2}, "social_1080p")
    view = farm.wait(job, {"FAILED", "COMPLETED"}, timeout=120)
    assert view["state"] == "FAILED" and view["error"]["code"] == "ffmpeg_timeout"
    assert view["error"]["stage"] == "chunk" and "chunk_index" in view["error"]["context"]
    assert max(c["attempts"] for c in view["chunks"]) == 2  # counted in the database: no endless redelivery


@needs_rabbitmq
def test_cancel_reaches_every_worker(farm, moving, tmp_path, ours):
    path = a_project(tmp_path, moving, 7, name="cancel.json", width=1920)  # not in the chunk cache yet
    run = farm.cli("render", str(path), "--profile", "social_1080p", "-o", str(tmp_path / "out.mp4"),
                   "--chunk-seconds", "1", "--detach", "--json")
    job_id = json.loads(run.stdout)["id"]
    deadline = time.monotonic() + 60
    while not running_encodes(b"cutlite-chunk-", ours) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert farm.cli("jobs", "cancel", job_id).returncode == 0
    view = farm.wait(job_id, {"CANCELED"}, timeout=30)
    time.sleep(1.0)
    assert running_encodes(b"cutlite-chunk-", ours) == []
    renders = farm.home / "objects" / "tenants" / "acme" / "dev" / "media_v2" / "renders" / job_id
    assert not renders.exists() or list(renders.iterdir()) == []
    assert view["state"] == "CANCELED"


@needs_rabbitmq
def test_the_job_completes_after_its_submitter_exits(farm, moving, tmp_path):
    path = a_project(tmp_path, moving, 3, name="detached.json")
    run = farm.cli("render", str(path), "--profile", "draft_360p", "-o", str(tmp_path / "out.mp4"),
                   "--chunk-seconds", "1", "--detach", "--json")
    assert run.returncode == 0, run.stderr  # the submitter is gone from here on
    view = farm.wait(json.loads(run.stdout)["id"], {"COMPLETED", "FAILED"})
    assert view["state"] == "COMPLETED" and view["output_artifact"]["meta"]["frames"] == 90  # 3 s at 30 fps


def _submit(farm: Farm, path: Path, options: dict, profile: str = "draft_360p") -> str:
    code = ("import json, sys; from engines.video_render.service import RenderService; s = RenderService(); "
            "job, _ = s.submit_job(sys.argv[1], sys.argv[3], options=json.loads(sys.argv[2])); "
            "s.dispatch_job(job.id); print(job.id)")
    out = subprocess.run([sys.executable, "-c", code, str(path), json.dumps(options), profile], env={**farm.env, **ROOMY},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


@needs_rabbitmq
def test_two_api_processes_share_the_limits_and_finalise_each_job_once(farm, moving, tmp_path):
    """Two servers on the same database and broker, submissions to both at once."""
    import httpx
    from conftest import auth, serve

    env = {k: farm.env[k] for k in ("CUTLITE_HOME", "CUTLITE_EXECUTOR", "CUTLITE_QUEUE", "CUTLITE_DATABASE_URL")
           if k in farm.env}
    env.update(CUTLITE_MAX_RUNNING_JOBS="1", CUTLITE_MAX_RUNNING_JOBS_PER_TENANT="1", CUTLITE_MAX_QUEUED_JOBS="3",
               CUTLITE_LOCAL_ROOTS=str(moving.parent))
    docs = [json.loads(a_project(tmp_path, moving, 1 + i % 3, name=f"api{i}.json").read_text()) for i in range(6)]
    for d in docs:
        d["assets"]["m"]["path"] = moving.name
        d["tracks"][0]["clips"][0]["source_in"] = f"{docs.index(d)}/7"  # six different jobs
    h = auth("acme")
    with serve(env) as a, serve(env) as b:
        statuses, accepted, running_seen = [], set(), 0
        for i, d in enumerate(docs):
            r = httpx.post((a, b)[i % 2] + "/video_render/jobs", headers=h, timeout=60,
                           json={"project": d, "profile": "draft_360p", "options": {"chunk_seconds": "1/2"}})
            statuses.append(r.status_code)
            if r.status_code == 202:
                accepted.add(r.json()["id"])
            running_seen = max(running_seen, len(httpx.get(a + "/video_render/jobs?state=RUNNING", headers=h).json()["jobs"]))
        assert set(statuses) <= {202, 429} and 429 in statuses and accepted
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            # one query for the running count: polling the jobs one by one could see a job still
            # RUNNING and, a moment later, the next one just started
            running_seen = max(running_seen, len(httpx.get(a + "/video_render/jobs?state=RUNNING",
                                                           headers=h).json()["jobs"]))
            views = [httpx.get(a + f"/video_render/jobs/{j}", headers=h).json() for j in accepted]
            if all(v["state"] == "COMPLETED" for v in views):
                break
            time.sleep(0.2)
    assert [v["state"] for v in views] == ["COMPLETED"] * len(accepted)
    assert running_seen <= 1  # the running limit held across both servers
    code = ("import sys, json; from engines.video_render.service import RenderService; s = RenderService(); "
            "print(json.dumps([sum(e['kind'] == 'finalise_started' for e in s.jobs.events(j)) for j in sys.argv[1:]]))")
    counts = subprocess.run([sys.executable, "-c", code, *accepted], env=farm.env, capture_output=True, text=True)
    assert json.loads(counts.stdout) == [1] * len(accepted), counts.stderr  # finalised once each


@needs_rabbitmq
def test_workers_on_separate_disks_share_only_postgres_and_s3(moving, tmp_path_factory, tmp_path):
    from conftest import S3_ENV, moto_s3

    with moto_s3("farm") as (_client, endpoint):
        farm = Farm(tmp_path_factory.mktemp("s3farm"), CUTLITE_STORAGE_URL="s3://farm/objects",
                    AWS_ENDPOINT_URL=endpoint, **S3_ENV)
        try:
            farm.start("s1", own_disk=True)
            farm.start("s2", own_disk=True)
            code = ("import sys; from engines.media_v2.library import MediaLibrary; "
                    "print(MediaLibrary().register_file('acme', 'dev', sys.argv[1])[0].id)")
            reg = subprocess.run([sys.executable, "-c", code, str(moving)], env=farm.env, capture_output=True,
                                 text=True, timeout=120)
            assert reg.returncode == 0, reg.stderr[-2000:]
            doc = json.loads(a_project(tmp_path, moving, 3, name="s3.json").read_text())
            doc["assets"] = {"m": {"asset_id": reg.stdout.strip()}}
            path = write_project(tmp_path, doc, "s3.json")
            run = farm.cli("render", str(path), "--profile", "draft_360p", "-o", str(tmp_path / "out.mp4"),
                           "--chunk-seconds", "1/2", "--json")
            assert run.returncode == 0, run.stderr[-3000:]
            view = json.loads(run.stdout)
            assert view["state"] == "COMPLETED" and {c["worker"].split("@")[0] for c in view["chunks"]} <= {"s1", "s2"}
            assert len(frames_of(tmp_path / "out.mp4")) == 90  # 3 s at 30 fps
            assert not (farm.home / "objects").exists()  # nothing on a shared local disk: all in the bucket
            keys = [o["Key"] for o in _client.list_objects_v2(Bucket="farm")["Contents"]]
            assert f"objects/{view['output_key']}" in keys and any("/renders/chunks/" in k for k in keys)
        finally:
            farm.stop()


@needs_rabbitmq
def test_a_job_silent_on_the_workers_is_found_by_its_lease_and_handed_out_again(farm, moving, tmp_path):
    """Dispatched to a queue nobody consumes (as if every worker died with it), then silent."""
    orphan = "cutlite-orphan-" + secrets.token_hex(4)
    env = {**farm.env, "CUTLITE_QUEUE": orphan, **ROOMY}
    code = ("import sys; from engines.video_render.service import RenderService; s = RenderService(); "
            "job, _ = s.submit_job(sys.argv[1], 'draft_360p', options={'chunk_seconds': '1'}); "
            "assert s.dispatch_job(job.id); print(job.id)")
    out = subprocess.run([sys.executable, "-c", code, str(a_project(tmp_path, moving, 5, name="orphan.json"))],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    job_id = out.stdout.strip()
    assert farm.job(job_id)["state"] == "RUNNING"
    sweep = ("import sys; from engines.jobs.executor import CeleryExecutor; "
             "from engines.video_render.service import RenderService; s = RenderService(); "
             "print(s.jobs.is_stale(s.jobs.get(sys.argv[1]))); CeleryExecutor(s.job_service)._dispatch()")
    fresh = subprocess.run([sys.executable, "-c", sweep, job_id], env=farm.env, capture_output=True, text=True)
    assert fresh.stdout.split()[0] == "False"  # within its lease: left alone
    silent = subprocess.run([sys.executable, "-c", sweep, job_id], capture_output=True, text=True,
                            env={**farm.env, "CUTLITE_WORKERS_STALE_AFTER": "0.5"})
    assert silent.returncode == 0 and silent.stdout.split()[0] == "True", silent.stderr[-2000:]
    view = farm.wait(job_id, {"COMPLETED", "FAILED"})
    assert view["state"] == "COMPLETED" and {c["worker"].split("@")[0] for c in view["chunks"]} <= {"w1", "w2"}
    from engines.jobs.celery_app import app

    with app.connection_for_write() as conn:  # the orphaned messages: nobody will read them
        conn.default_channel.queue_delete(orphan)


@needs_rabbitmq
def test_a_poison_chunk_fails_the_job_instead_of_being_redelivered_forever(farm, moving, tmp_path):
    """A chunk whose worker died on its last allowed attempt (state RUNNING, attempts at the
    limit) is redelivered: the job fails with chunk_failed, nothing renders it again."""
    orphan = "cutlite-orphan-" + secrets.token_hex(4)
    code = ("import sys; from engines.video_render.service import RenderService; s = RenderService(); "
            "job, _ = s.submit_job(sys.argv[1], 'draft_360p', options={'chunk_seconds': '1', 'max_attempts': 2}); "
            "assert s.dispatch_job(job.id); s.jobs.update_chunk(job.id, 0, state='RUNNING', attempts=2, "
            "worker='gone@host'); print(job.id)")
    out = subprocess.run([sys.executable, "-c", code, str(a_project(tmp_path, moving, 6, name="poison.json"))],
                         env={**farm.env, "CUTLITE_QUEUE": orphan, **ROOMY}, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    job_id = out.stdout.strip()
    redeliver = ("import sys; from engines.jobs.celery_app import enqueue, base_queue; "
                 "enqueue('cutlite.chunk', base_queue(), (sys.argv[1], 0))")
    subprocess.run([sys.executable, "-c", redeliver, job_id], env=farm.env, check=True, timeout=60)
    view = farm.wait(job_id, {"FAILED", "COMPLETED"}, timeout=60)
    assert view["state"] == "FAILED" and view["error"]["code"] == "chunk_failed"
    assert view["chunks"][0]["state"] == "FAILED" and view["chunks"][0]["attempts"] == 2
    from engines.jobs.celery_app import app

    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(orphan)


def test_a_broker_that_refuses_leaves_the_job_queued_with_a_clear_error(moving, tmp_path):
    env = {**os.environ, "CUTLITE_HOME": str(tmp_path / "home"), "CUTLITE_EXECUTOR": "celery",
           "CUTLITE_BROKER_URL": "amqp://guest:guest@127.0.0.1:9//"}  # nothing listens there
    run = subprocess.run([*CLI, "render", str(a_project(tmp_path, moving, 1, name="nobroker.json")), "--profile",
                          "draft_360p", "-o", str(tmp_path / "out.mp4"), "--detach", "--json"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    error = json.loads(run.stdout)["error"]
    assert error["stage"] == "dispatch" and "broker refused" in error["message"] and "RabbitMQ" in error["hint"]
    listed = subprocess.run([*CLI, "jobs", "list", "--json"], env=env, capture_output=True, text=True, check=True)
    assert [j["state"] for j in json.loads(listed.stdout)["jobs"]] == ["QUEUED"]  # nothing lost, nothing stuck


@needs_rabbitmq
def test_a_batch_runs_its_rows_on_the_workers(farm, moving, tmp_path):
    """``cutlite batch`` with the Celery executor: each row's job is handed to the workers and followed."""
    doc = project([{"id": "v", "kind": "video", "clips": [
                       {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": 2}]},
                   {"id": "o", "kind": "overlay", "clips": [
                       {"id": "t", "text": "{{ NAME }}", "start": 0, "duration": 2}]}], {"m": moving},
                  width=320, height=180)
    doc["variables"] = {"NAME": {"type": "text"}}
    template = write_project(tmp_path, doc, "t.json")
    (tmp_path / "rows.csv").write_text("NAME\nAna\nBo\nCy\n")
    run = farm.cli("batch", str(template), str(tmp_path / "rows.csv"), "--profile", "draft_360p",
                   "-o", str(tmp_path / "out" / "{NAME}.mp4"), "--chunk-seconds", "1", "--json")
    assert run.returncode == 0, run.stderr[-2000:]
    manifest = json.loads(run.stdout)
    assert [r["state"] for r in manifest["rows"]] == ["COMPLETED"] * 3
    workers = {c["worker"].split("@")[0] for r in manifest["rows"] for c in farm.job(r["job_id"])["chunks"]}
    assert workers <= {"w1", "w2"} and workers  # rendered by the workers, not by the batch's process
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["Ana.mp4", "Bo.mp4", "Cy.mp4"]


@needs_rabbitmq
def test_one_pass_formats_are_made_by_the_workers_finalise_step(farm, moving, tmp_path):
    """A GIF or a sound-only output has no chunks: the finalise task on a worker makes it."""
    path = a_project(tmp_path, moving, 2, width=320)
    for profile, suffix in (("gif_480p", "gif"), ("audio_m4a", "m4a")):
        run = farm.cli("render", str(path), "--profile", profile, "-o", str(tmp_path / f"o.{suffix}"), "--json")
        assert run.returncode == 0, run.stderr[-2000:]
        view = json.loads(run.stdout)
        assert view["state"] == "COMPLETED" and view["chunks"] == [] and view["output_key"].endswith(f".{suffix}")
        assert (tmp_path / f"o.{suffix}").stat().st_size > 0

"""Load: several client processes submit jobs over HTTP at once, on loopback, bounded in count
and time. Every submission is accepted (202), deduplicated (200) or refused (429); no accepted
job is lost (each completes); the running and queued limits hold at every sample; submission
and status latencies (p50/p99) and throughput are reported.

``CUTLITE_LOAD_CLIENTS`` / ``CUTLITE_LOAD_ROUNDS`` scale it up (the reliability report runs more);
with ``CUTLITE_REPORT_DIR`` set the figures are written there as ``load.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from conftest import auth, key_secret, serve

CLIENTS = int(os.environ.get("CUTLITE_LOAD_CLIENTS") or 4)
ROUNDS = int(os.environ.get("CUTLITE_LOAD_ROUNDS") or 3)
VARIANTS = 4  # distinct projects per tenant: the rest of the submissions are duplicates
LIMITS = {"CUTLITE_MAX_RUNNING_JOBS": "2", "CUTLITE_MAX_RUNNING_JOBS_PER_TENANT": "1", "CUTLITE_MAX_QUEUED_JOBS": "5"}

CLIENT = r'''
import json, sys, time, httpx
base, tenant, asset, rounds, variants = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
h = {"Authorization": "Bearer " + sys.argv[6], "X-Tenant": tenant, "X-Env": "dev"}
out = []
with httpx.Client(base_url=base, timeout=60) as c:
    for r in range(rounds):
        for v in range(variants):
            doc = {"schema_version": 1, "id": "load", "tenant": tenant, "env": "dev",
                   "settings": {"width": 160, "height": 120, "fps": 24}, "assets": {"m": {"asset_id": asset}},
                   "tracks": [{"id": "v", "kind": "video", "clips": [
                       {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": f"{v + 2}/4"}]}]}
            t = time.monotonic()
            resp = c.post("/video_render/jobs", headers=h, json={"project": doc, "profile": "draft_360p"})
            submit_ms = (time.monotonic() - t) * 1000
            body = resp.json()
            job = body.get("id")
            status_ms = None
            if job:
                t = time.monotonic()
                assert c.get(f"/video_render/jobs/{job}", headers=h).status_code == 200
                status_ms = (time.monotonic() - t) * 1000
            out.append({"status": resp.status_code, "job": job, "submit_ms": submit_ms, "status_ms": status_ms,
                        "retry_after": resp.headers.get("Retry-After"),
                        "code": (body.get("error") or {}).get("code")})
print(json.dumps(out))
'''


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def test_concurrent_submissions_are_accepted_deduplicated_or_refused_and_none_is_lost(tmp_path, media):
    with serve({"CUTLITE_HOME": str(tmp_path / "home"), **LIMITS}) as base:
        assets = {}
        for tenant in ("acme", "globex"):
            with open(media["red"], "rb") as f:
                assets[tenant] = httpx.post(base + "/media_v2/assets", headers=auth(tenant),
                                            files={"file": ("red.mp4", f, "video/mp4")}).json()["id"]
        samples: list[tuple[int, int, dict[str, int]]] = []
        stop = threading.Event()

        def sample() -> None:  # the limits, watched from outside while the load runs
            with httpx.Client(base_url=base, timeout=30) as c:
                while not stop.is_set():
                    running, queued, per_tenant = 0, 0, {}
                    for tenant in ("acme", "globex"):
                        h = auth(tenant)
                        r = len(c.get("/video_render/jobs?state=RUNNING", headers=h).json()["jobs"])
                        queued += len(c.get("/video_render/jobs?state=QUEUED", headers=h).json()["jobs"])
                        running += r
                        per_tenant[tenant] = r
                    samples.append((running, queued, per_tenant))
                    time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-c", CLIENT, base, ("acme", "globex")[i % 2],
                                   assets[("acme", "globex")[i % 2]], str(ROUNDS), str(VARIANTS),
                                   key_secret(("acme", "globex")[i % 2], role="editor")],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for i in range(CLIENTS)]
        results = []
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err[-2000:]
            results += json.loads(out)
        load_seconds = time.monotonic() - started
        accepted = {r["job"] for r in results if r["status"] in (200, 202)}
        # none lost: every accepted job completes
        deadline = time.monotonic() + 300
        states: dict[str, str] = {}
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.monotonic() < deadline:
                for tenant in ("acme", "globex"):
                    for job in c.get("/video_render/jobs", headers=auth(tenant)).json()["jobs"]:
                        states[job["id"]] = job["state"]
                if all(states.get(j) == "COMPLETED" for j in accepted):
                    break
                time.sleep(0.2)
        stop.set()
        sampler.join(10)

    statuses = sorted({r["status"] for r in results})
    assert set(statuses) <= {200, 202, 429}, statuses
    assert all(r["code"] == "backpressure" and int(r["retry_after"]) > 0 for r in results if r["status"] == 429)
    assert {j: states.get(j) for j in accepted} == {j: "COMPLETED" for j in accepted}
    assert len(accepted) >= 2  # some work got through
    assert max(s[0] for s in samples) <= 2 and all(max(s[2].values()) <= 1 for s in samples)
    assert max(s[1] for s in samples) <= 5
    submit = [r["submit_ms"] for r in results]
    status = [r["status_ms"] for r in results if r["status_ms"] is not None]
    figures = {"clients": CLIENTS, "submissions": len(results), "seconds": round(load_seconds, 2),
               "throughput_per_s": round(len(results) / load_seconds, 1),
               "accepted": sum(r["status"] == 202 for r in results),
               "deduplicated": sum(r["status"] == 200 for r in results),
               "refused_429": sum(r["status"] == 429 for r in results), "jobs_completed": len(accepted),
               "max_running_seen": max(s[0] for s in samples), "max_queued_seen": max(s[1] for s in samples),
               "submit_ms_p50": round(statistics.median(submit), 1), "submit_ms_p99": round(percentile(submit, 0.99), 1),
               "status_ms_p50": round(statistics.median(status), 1), "status_ms_p99": round(percentile(status, 0.99), 1),
               "limits": LIMITS}
    print(json.dumps(figures))
    if os.environ.get("CUTLITE_REPORT_DIR"):
        Path(os.environ["CUTLITE_REPORT_DIR"], "load.json").write_text(json.dumps(figures, indent=2))

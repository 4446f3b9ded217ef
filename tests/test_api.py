"""The HTTP API through a real server (``cutlite serve``) on loopback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import pytest
from conftest import A, B, auth, make_damaged, project, serve, server_paths


@pytest.fixture(scope="module")
def server_home(tmp_path_factory):
    return tmp_path_factory.mktemp("api-home")


@pytest.fixture(scope="module")
def server(server_home, media):
    env = {"CUTLITE_HOME": str(server_home),
           "CUTLITE_LOCAL_ROOTS": str(Path(media["red"]).parent), "CUTLITE_MAX_UPLOAD_BYTES": str(3 * 1024 * 1024)}
    with serve(env) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client


def upload(client, path: Path, headers=A):
    with open(path, "rb") as f:
        return client.post("/media_v2/assets", headers=headers, files={"file": (path.name, f, "video/mp4")})


def assert_error(resp, status: int, code: str | None = None):
    assert resp.status_code == status, resp.text
    err = resp.json()["error"]
    assert set(err) == {"code", "message", "stage", "hint", "context"}
    if code:
        assert err["code"] == code
    return err


def test_openapi_is_served(server):
    doc = server.get("/openapi.json").json()
    assert "/media_v2/assets" in doc["paths"] and "/video_render/plan" in doc["paths"]


def test_a_request_without_a_key_is_401_whatever_its_scope_headers_say(server):
    resp = server.get("/media_v2/assets/ast_00000000000000000000", headers={"X-Tenant": "acme", "X-Env": "dev"})
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("headers", [{"X-Tenant": "globex"}, {"X-Tenant": "../etc", "X-Env": "dev"},
                                     {"X-Tenant": "acme", "X-Env": "production"}, {"X-Tenant": "ACME", "X-Env": "dev"},
                                     {"X-Env": "prod"}])
def test_scope_headers_that_differ_from_the_key_are_403(server, headers):
    resp = server.get("/media_v2/assets/ast_00000000000000000000", headers={**auth("acme", scope_headers=False),
                                                                           **headers})
    assert_error(resp, 403, "forbidden")


def test_the_key_alone_decides_the_scope(server):
    resp = server.get("/video_render/jobs", headers=auth("acme", scope_headers=False))
    assert resp.status_code == 200, resp.text


def test_upload_registers_probes_and_dedupes(server, media):
    first = upload(server, media["red"])
    assert first.status_code == 201, first.text
    asset = first.json()
    assert asset["kind"] == "video" and asset["probe"]["video"]["width"] == 320
    assert asset["source_key"] == f"tenants/acme/dev/media_v2/{asset['id']}/source.mp4"
    assert [a["kind"] for a in asset["artifacts"]] == ["source"]
    again = upload(server, media["red"])
    assert again.status_code == 200 and again.json()["id"] == asset["id"]


def test_same_bytes_for_another_tenant_are_another_asset(server, media):
    a = upload(server, media["blue"]).json()
    b = upload(server, media["blue"], B).json()
    assert a["id"] != b["id"] and b["source_key"].startswith("tenants/globex/dev/")


def test_upload_over_the_limit_is_413_and_stores_nothing(server, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(os.urandom(4 * 1024 * 1024))
    assert_error(upload(server, big), 413, "upload_too_large")


def test_upload_of_a_non_media_file_is_400(server, tmp_path):
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    err = assert_error(upload(server, junk), 400, "asset_error")
    assert str(tmp_path) not in str(err)  # no server path in the answer


def test_an_uploaded_asset_carries_no_server_path_in_any_response(server, server_home, media):
    """The upload's temp spool was once the stored probe.path: every answer about the asset after
    a real upload (register, read back, artifacts, proxies, plan, preview, a job) is path-free."""
    posted = upload(server, media["vfr"])
    asset = posted.json()
    assert posted.status_code == 201 and "path" not in asset["probe"] and asset["probe"]["video"]["width"] == 320
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p"}
    answers = [posted, upload(server, media["vfr"]),
               server.get(f"/media_v2/assets/{asset['id']}", headers=A),
               server.post("/video_render/proxies", headers=A, json=body),
               server.get(f"/media_v2/assets/{asset['id']}/artifacts", headers=A),
               server.post("/video_render/plan", headers=A, json=body),
               server.post("/video_preview/preview", headers=A, json={"project": body["project"]})]
    job = server.post("/video_render/jobs", headers=A, json=body)
    answers += [job, server.get(f"/video_render/jobs/{job.json()['id']}", headers=A)]
    wait_state(server, job.json()["id"], {"COMPLETED", "FAILED"})
    answers += [server.get(f"/video_render/jobs/{job.json()['id']}", headers=A),
                server.get("/video_render/jobs", headers=A)]
    assert [r.status_code for r in answers] == [201, 200, 200, 200, 200, 200, 200, 202, 200, 200, 200]
    assert {r.request.url.path: server_paths(r.text, server_home) for r in answers
            if server_paths(r.text, server_home)} == {}


def test_an_unreadable_stored_source_is_reported_without_server_paths(server, server_home, runner, tmp_path):
    from engines.ffmpeg import samples

    own = samples.make_video(tmp_path / "own.mp4", seconds=1, color="purple", tone_hz=330, runner=runner)
    asset = upload(server, own).json()
    source = Path(server_home) / "objects" / asset["source_key"]
    source.write_bytes(source.read_bytes()[:2000])  # damaged in the store after registration
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p"}
    answers = [server.post("/video_render/plan", headers=A, json=body),
               server.post("/video_render/jobs", headers=A, json=body),
               server.post("/video_preview/preview", headers=A, json={"project": body["project"]})]
    assert [r.status_code for r in answers[:2]] == [400, 400]  # the preview shows a slate instead
    assert [server_paths(r.text, server_home) for r in answers] == [[], [], []]


def test_damage_found_by_proxy_generation_is_in_the_plan_preview_and_job_answers(server, runner, tmp_path):
    bad = make_damaged(tmp_path, runner)["flipped"]
    asset = upload(server, bad).json()
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "main", "start": 0, "source_in": "5/2", "source_out": "7/2"}]}], {})
    doc["assets"] = {"main": {"asset_id": asset["id"]}}
    body = {"project": doc, "profile": "draft_360p"}
    made = server.post("/video_render/proxies", headers=A, json=body).json()["results"][0]
    assert made["status"] == "created" and made["meta"]["decode_errors"] > 0
    stored = server.get(f"/media_v2/assets/{asset['id']}", headers=A).json()
    assert {d["stream"] for d in stored["meta"]["damage"]} == {"video", "audio"}
    planned = server.post("/video_render/plan", headers=A, json=body).json()
    previewed = server.post("/video_preview/preview", headers=A, json={"project": doc}).json()
    for warnings in (planned["meta"]["warnings"], previewed["warnings"]):
        assert sum(w.startswith('tracks[0].clips[0]: "main" is damaged at 2.') for w in warnings) == 2, warnings
    job = server.post("/video_render/jobs", headers=A, json=body).json()
    done = wait_state(server, job["id"], {"COMPLETED", "FAILED"})
    assert done["state"] == "COMPLETED" and any("is damaged at" in w for w in done["warnings"])
    assert any("decode error" in w for w in done["warnings"])


def test_register_by_uri_inside_the_allowed_root(server, media):
    resp = server.post("/media_v2/assets", headers=A, json={"uri": f"file://{media['tone']}"})
    assert resp.status_code == 201 and resp.json()["kind"] == "audio"


@pytest.mark.parametrize("uri,status", [("file:///etc/passwd", 403), ("file:///%2e%2e/etc/passwd", 403),
                                        ("http://127.0.0.1:1/x.mp4", 400), ("s3://bucket/x.mp4", 400)])
def test_register_by_uri_outside_is_refused(server, uri, status):
    err = assert_error(server.post("/media_v2/assets", headers=A, json={"uri": uri}), status)
    assert "passwd" not in str(err)


def test_assets_are_invisible_across_tenants_and_envs(server, media):
    asset = upload(server, media["green_silent"]).json()
    assert server.get(f"/media_v2/assets/{asset['id']}", headers=A).status_code == 200
    assert_error(server.get(f"/media_v2/assets/{asset['id']}", headers=B), 404)
    assert_error(server.get(f"/media_v2/assets/{asset['id']}", headers=auth("acme", "staging")), 404)
    assert_error(server.get(f"/media_v2/assets/{asset['id']}/artifacts", headers=B), 404)
    assert_error(server.get("/media_v2/assets/../../etc/passwd", headers=A), 404)


def asset_project(asset_id: str, tenant: str = "acme") -> dict:
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "main", "start": 0, "source_in": 0, "source_out": 1}]}], {})
    doc["assets"] = {"main": {"asset_id": asset_id}}
    doc["tenant"] = tenant
    return doc


def test_proxies_endpoint_creates_then_reuses(server, media):
    asset = upload(server, media["counter"]).json()
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p"}
    first = server.post("/video_render/proxies", headers=A, json=body)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["created"]
    second = server.post("/video_render/proxies", headers=A, json=body).json()
    assert [r["status"] for r in second["results"]] == ["reused"]
    arts = server.get(f"/media_v2/assets/{asset['id']}/artifacts", headers=A, params={"kind": "proxy"}).json()
    (proxy,) = arts["artifacts"]
    assert proxy["key"] == f"tenants/acme/dev/media_v2/{asset['id']}/proxy_draft_360p.mp4"
    assert {"profile_name", "source_asset_id", "hw_encoder_used"} <= set(proxy["meta"])


def test_plan_endpoint_with_an_asset_id(server, media):
    asset = upload(server, media["red"]).json()
    resp = server.post("/video_render/plan", headers=A, json={"project": asset_project(asset["id"]),
                                                              "profile": "draft_360p", "hw": "cpu"})
    assert resp.status_code == 200, resp.text
    plan = resp.json()
    assert plan["frames"] == 30 and len(plan["plan_hash"]) == 64 and plan["meta"]["encoder"] == "libx264"
    assert plan["inputs"][0]["path"] == asset["source_key"] and "/objects/" not in resp.text  # no server paths


def test_preview_endpoint_plans_from_proxies_and_queues_missing_ones(server, media):
    asset = upload(server, media["blue"]).json()
    body = {"project": asset_project(asset["id"]), "strategy": "fast", "start": 0, "end": "1/2"}
    first = server.post("/video_preview/preview", headers=A, json=body)
    assert first.status_code == 200, first.text
    doc = first.json()
    assert doc["profile"] == "draft_360p" and doc["queued_proxies"] == ["main"] and doc["proxies_used"] == []
    assert "assets.main: no proxy for draft_360p; its generation is queued" in doc["warnings"]
    assert doc["window"]["frame_count"] == 15 and doc["estimated_latency_ms"] > 0  # 1/2 s at 30 fps
    assert doc["plan"]["inputs"][0]["path"] == asset["source_key"]  # object keys, never server paths
    assert "/objects/" not in first.text and os.sep + "tmp" not in first.text
    refused = server.post("/video_preview/preview", headers=A, json={**body, "allow_full_res_fallback": False})
    deadline = time.monotonic() + 60
    while refused.status_code == 409 and time.monotonic() < deadline:  # until the queued proxy is made
        assert refused.json()["error"]["context"]["problems"] == ["assets.main: no proxy for draft_360p"]
        time.sleep(0.3)
        refused = server.post("/video_preview/preview", headers=A, json={**body, "allow_full_res_fallback": False})
    later = refused.json()
    assert refused.status_code == 200 and later["proxies_used"] == ["main"] and later["warnings"] == []
    assert later["plan"]["inputs"][0]["path"].endswith("/proxy_draft_360p.mp4")


def test_preview_endpoint_refuses_other_tenants_and_bad_strategies(server, media):
    asset = upload(server, media["red"]).json()
    assert_error(server.post("/video_preview/preview", headers=B, json={"project": asset_project(asset["id"])}), 403)
    err = assert_error(server.post("/video_preview/preview", headers=A,
                                   json={"project": asset_project(asset["id"]), "strategy": "turbo"}), 400)
    assert "strategy: must be one of" in err["message"] + str(err["context"])


def test_a_project_of_another_tenant_is_403(server, media):
    asset = upload(server, media["red"]).json()
    err = assert_error(server.post("/video_render/plan", headers=B, json={"project": asset_project(asset["id"])}),
                       403)
    assert "another tenant" in err["message"]


def test_another_tenants_asset_id_is_not_resolved(server, media):
    asset = upload(server, media["red"]).json()  # acme's
    body = {"project": asset_project(asset["id"], tenant="globex"), "profile": "draft_360p"}
    err = assert_error(server.post("/video_render/plan", headers=B, json=body), 400, "asset_error")
    assert err["context"]["problems"] == [f'assets.main.asset_id: unknown asset "{asset["id"]}" for tenant globex/dev']
    proxies = server.post("/video_render/proxies", headers=B, json=body).json()["results"]
    assert proxies[0]["status"] == "failed" and proxies[0]["key"] is None


def test_local_paths_in_projects_over_http_are_refused_outside_the_roots(server):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "x", "start": 0, "source_in": 0, "source_out": 1}]}], {"x": "/etc/hostname"})
    assert_error(server.post("/video_render/plan", headers=A, json={"project": doc}), 403)


def test_invalid_project_lists_problems_with_paths(server):
    doc = asset_project("ast_00000000000000000000")
    doc["tracks"][0]["clips"][0]["speed"] = 99
    err = assert_error(server.post("/video_render/plan", headers=A, json={"project": doc}), 400, "invalid_project")
    assert "tracks[0].clips[0].speed: must be between 0.1 and 16" in err["context"]["problems"]


def test_unknown_body_fields_are_400(server):
    assert_error(server.post("/video_render/plan", headers=A, json={"project": {}, "profil": "x"}), 400)


def wait_state(server, job_id: str, states: set[str], headers=A, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = server.get(f"/video_render/jobs/{job_id}", headers=headers).json()
        if view["state"] in states:
            return view
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached {states}: {view['state']}")


def test_a_job_submitted_over_http_is_run_by_the_server(server, media):
    asset = upload(server, media["counter"]).json()
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p", "options": {"chunk_seconds": "1/2"}}
    first = server.post("/video_render/jobs", headers=A, json=body)
    assert first.status_code == 202, first.text
    job = first.json()
    assert job["state"] in ("QUEUED", "RUNNING", "COMPLETED") and len(job["chunks"]) == 2
    done = wait_state(server, job["id"], {"COMPLETED", "FAILED"})
    assert done["state"] == "COMPLETED", done["error"]
    assert done["output_key"] == f"tenants/acme/dev/media_v2/renders/{job['id']}/output.mp4"
    assert done["output_artifact"]["kind"] == "render" and done["output_artifact"]["meta"]["chunk_count"] == 2
    again = server.post("/video_render/jobs", headers=A, json=body)
    assert again.status_code == 200 and again.json()["id"] == job["id"]
    listed = server.get("/video_render/jobs", headers=A, params={"state": "COMPLETED"}).json()["jobs"]
    assert job["id"] in [j["id"] for j in listed]
    for headers in (B, auth("acme", "staging")):  # another tenant, or the same tenant in another env
        assert_error(server.get(f"/video_render/jobs/{job['id']}", headers=headers), 404)
        assert_error(server.post(f"/video_render/jobs/{job['id']}/cancel", headers=headers), 404)
        assert_error(server.post(f"/video_render/jobs/{job['id']}/resume", headers=headers), 404)
        assert server.get("/video_render/jobs", headers=headers).json()["jobs"] == []
    after = server.get(f"/video_render/jobs/{job['id']}", headers=A).json()
    assert after["state"] == "COMPLETED" and after["updated_at"] == done["updated_at"]  # no side effect


def test_a_job_id_reused_with_other_parameters_is_409(server, media):
    asset = upload(server, media["red"]).json()
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p", "job_id": "client-job-7"}
    assert server.post("/video_render/jobs", headers=A, json=body).status_code in (200, 202)
    err = assert_error(server.post("/video_render/jobs", headers=A, json={**body, "profile": "draft_480p"}), 409)
    assert err["code"] == "job_error"


def test_unknown_job_options_are_400(server, media):
    asset = upload(server, media["red"]).json()
    body = {"project": asset_project(asset["id"]), "profile": "draft_360p", "options": {"turbo": True}}
    assert_error(server.post("/video_render/jobs", headers=A, json=body), 400)


def test_queue_limit_0_runs_a_job_now_and_refuses_one_that_would_wait_with_429(tmp_path, media):
    env = {"CUTLITE_HOME": str(tmp_path), "CUTLITE_MAX_QUEUED_JOBS": "0", "CUTLITE_MAX_RUNNING_JOBS": "1",
           "CUTLITE_LOCAL_ROOTS": str(Path(media["red"]).parent)}
    with serve(env) as base:
        doc = project([{"id": "v", "kind": "video", "clips": [
            {"id": "a", "asset": "r", "start": 0, "source_in": 0, "source_out": 4}]}], {"r": Path("red.mp4")})
        first = httpx.post(base + "/video_render/jobs", headers=A, json={"project": doc, "profile": "social_1080p"})
        assert first.status_code == 202, first.text  # a slot is free: it never waits in the queue
        resp = httpx.post(base + "/video_render/jobs", headers=A, json={"project": doc, "profile": "draft_360p"})
        err = assert_error(resp, 429, "backpressure")
        assert int(resp.headers["Retry-After"]) > 0 and err["hint"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = httpx.get(base + f"/video_render/jobs/{first.json()['id']}", headers=A).json()
            if job["state"] in ("COMPLETED", "FAILED"):
                break
            time.sleep(0.2)
        assert job["state"] == "COMPLETED"

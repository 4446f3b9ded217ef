"""Access over HTTP on real servers (``cutlite serve``) on loopback: API keys, scopes and roles on
every route, secrets kept out of the database and the logs, signed download URLs, signed webhooks
(with retries and refused targets), the rate limit, the storage quota and the audit log.

``CUTLITE_REPORT_DIR`` (the reliability report) receives the figures of the route walk.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import CLI, auth, database_of, free_port, key_secret, keys_for

SECRET = "s" * 24 + os.urandom(12).hex()  # the servers' CUTLITE_SECRET: the test checks signatures with it
BAD_KEY = "cl_" + os.urandom(32).hex()
ACME = auth("acme", role="editor")
READ_POSTS = {"/video_render/plan", "/studio/api/session"}
PUBLIC = {"/healthz"}
HIDDEN = [("GET", "/studio/api/assets/{asset_id}/filmstrip.jpg"), ("GET", "/studio/api/assets/{asset_id}/filmstrip.vtt"),
          ("GET", "/studio/api/previews/{session_id}/index.m3u8"), ("GET", "/studio/api/jobs/{job_id}/output")]
WITH_PROFILE = {"/video_render/proxies", "/video_render/plan", "/video_render/jobs"}
CASES = ("no key", "bad key", "revoked key", "another tenant's key", "viewer key", "spoofed X-Tenant",
         "spoofed X-Env")


@contextlib.contextmanager
def logged_server(home: Path, env: dict[str, str] | None = None, *, seed: bool = True):
    """``cutlite serve`` on a free loopback port, its stdout and stderr kept in files; (base URL, log paths)."""
    env = {"CUTLITE_HOME": str(home), "CUTLITE_SECRET": SECRET, **(env or {})}
    if seed:
        keys_for(database_of(env))
    home.mkdir(parents=True, exist_ok=True)
    out, err = home.parent / f"{home.name}.stdout", home.parent / f"{home.name}.stderr"
    port = free_port()
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env={**os.environ, **env}, stdout=o, stderr=e)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("the server did not start: " + err.read_text()[-2000:])
            time.sleep(0.1)
        yield base, out, err
    finally:
        proc.terminate()
        proc.wait(10)


def cutlite(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env={**os.environ, "CUTLITE_HOME": str(home), **(env or {})},
                          capture_output=True, text=True, timeout=60)


def one_second(asset_id: str, tenant: str = "acme", variant: int = 0) -> dict[str, Any]:
    return {"schema_version": 1, "id": f"acc{variant}", "tenant": tenant, "env": "dev",
            "settings": {"width": 160, "height": 120, "fps": 24}, "assets": {"m": {"asset_id": asset_id}},
            "tracks": [{"id": "v", "kind": "video", "clips": [
                {"id": "a", "asset": "m", "start": 0, "source_in": f"{variant}/10", "source_out": f"{variant + 10}/10"}]}]}


def wait_job(client: httpx.Client, job_id: str, headers: dict[str, str], want: str = "COMPLETED",
             timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = client.get(f"/video_render/jobs/{job_id}", headers=headers).json()
        if view["state"] == want or time.monotonic() > deadline:
            assert view["state"] == want, view
            return view
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory, media):
    """A server with acme's asset, a COMPLETED job, a preview session and a revoked key."""
    home = tmp_path_factory.mktemp("access") / "home"
    with logged_server(home) as (base, out, err), httpx.Client(base_url=base, timeout=120) as client:
        with open(media["red"], "rb") as f:
            asset = client.post("/media_v2/assets", headers=ACME, files={"file": ("red.mp4", f, "video/mp4")}).json()
        doc = one_second(asset["id"])
        job = client.post("/video_render/jobs", headers=ACME, json={"project": doc, "profile": "draft_360p"}).json()
        wait_job(client, job["id"], ACME)
        session = client.post("/studio/api/previews", headers=ACME, json={"project": doc, "start": 0, "end": 1})
        assert session.status_code == 201, session.text
        template = client.post("/templates", headers=ACME, json=template_of(doc))
        assert template.status_code == 201, template.text
        made = cutlite(home, "keys", "create", "--tenant", "acme", "--env", "dev", "--role", "admin", "--json")
        assert made.returncode == 0, made.stderr
        revoked = json.loads(made.stdout)
        assert cutlite(home, "keys", "revoke", revoked["key"]["id"]).returncode == 0
        yield {"client": client, "base": base, "home": home, "stdout": out, "stderr": err, "doc": doc,
               "ids": {"asset_id": asset["id"], "artifact_id": asset["artifacts"][0]["id"], "job_id": job["id"],
                       "session_id": session.json()["session"], "template_id": template.json()["id"]},
               "revoked": revoked["secret"], "revoked_id": revoked["key"]["id"], "made": []}


def template_of(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as a template: its clip's start a number variable."""
    tracks = json.loads(json.dumps(doc["tracks"]))
    tracks[0]["clips"][0]["start"] = "{{ START }}"
    return {**doc, "tracks": tracks, "variables": {"START": {"type": "number", "default": 0}}}


def body_of(template: str, doc: dict[str, Any]) -> dict[str, Any]:
    """A well-formed body for each POST route, so that only the caller decides the answer."""
    return {"/templates": template_of(doc),
            "/templates/{template_id}/renders": {"profile": "draft_360p", "variables": {"START": 0}},
            "/video_render/stills": {"project": doc, "at": [0], "profile": "draft_360p"},
            }.get(template) or ({"project": doc, "profile": "draft_360p"} if template in WITH_PROFILE
                                else {"project": doc})


def case_headers(case: str, revoked: str) -> dict[str, str]:
    return {
        "no key": {"X-Tenant": "acme", "X-Env": "dev"},
        "bad key": {"Authorization": f"Bearer {BAD_KEY}", "X-Tenant": "acme", "X-Env": "dev"},
        "revoked key": {"Authorization": f"Bearer {revoked}"},
        "another tenant's key": auth("globex", scope_headers=False),
        "viewer key": auth("acme", role="viewer"),
        "spoofed X-Tenant": {**auth("acme", role="admin", scope_headers=False), "X-Tenant": "globex"},
        "spoofed X-Env": {**auth("acme", role="admin", scope_headers=False), "X-Env": "prod"},
    }[case]


def expected(case: str, method: str, template: str) -> str:
    if case in ("no key", "bad key", "revoked key"):
        return "401"
    if case.startswith("spoofed"):
        return "403"
    write = method != "GET" and template not in READ_POSTS
    if case == "viewer key":
        return "403" if write or template.startswith("/access/") else "allowed"
    # another tenant's key: an id of acme's does not exist for it; a project of acme's is not its own
    if "{" in template:
        return "404"
    return "403" if write and template not in ("/media_v2/assets", "/video_render/import", "/access/keys") else "scoped"


def test_every_route_answers_each_kind_of_caller_as_specified(world):
    client, ids, doc = world["client"], world["ids"], world["doc"]
    spec = client.get("/openapi.json").json()
    routes = [(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if p not in PUBLIC]
    assert len(routes) >= 20
    routes += HIDDEN  # the studio's media routes, left out of the schema, take the same checks
    wrong, tried, mine, outcomes = [], 0, set(ids.values()), {}
    for method, template in routes:
        path = template.format(**ids, key_id=world["revoked_id"])
        body = body_of(template, doc) if method == "POST" else None
        for case in CASES:
            want = expected(case, method, template)
            outcomes[want] = outcomes.get(want, 0) + 1
            client.cookies.clear()  # a studio session opened by an earlier case would be a credential
            resp = client.request(method, path, headers=case_headers(case, world["revoked"]), json=body)
            tried += 1
            got = resp.status_code
            ok = {"401": got == 401 and resp.json()["error"]["code"] == "unauthorized",
                  "403": got == 403 and resp.json()["error"]["code"] == "forbidden",
                  "404": got == 404,
                  "allowed": got < 500 and got not in (401, 403, 404, 429),
                  "scoped": got < 500 and got not in (401, 429) and not any(i in resp.text for i in mine)}[want]
            if not ok:
                wrong.append(f"{case}: {method} {template} -> {got} (want {want}): {resp.text[:160]}")
    assert wrong == [], "\n".join(wrong)
    if os.environ.get("CUTLITE_REPORT_DIR"):
        Path(os.environ["CUTLITE_REPORT_DIR"], "access.json").write_text(json.dumps(
            {"routes": len(routes), "hidden": len(HIDDEN), "cases": len(CASES), "requests": tried, "as_specified": tried - len(wrong),
             "expected": dict(sorted(outcomes.items()))}))


def test_the_same_routes_answer_their_owner(world):
    client, ids = world["client"], world["ids"]
    client.cookies.clear()
    assert client.get("/healthz").json() == {"ok": True}  # public: load balancers have no key
    for path in ("/media_v2/assets/{asset_id}", "/media_v2/assets/{asset_id}/artifacts",
                 "/video_render/jobs/{job_id}", "/video_render/jobs", "/studio/api/previews/{session_id}",
                 "/video_render/jobs/{job_id}/download", "/media_v2/assets/{asset_id}/artifacts/{artifact_id}/download"):
        for role in ("viewer", "editor", "admin"):
            assert client.get(path.format(**ids), headers=auth("acme", role=role)).status_code == 200, (path, role)


def test_an_admin_key_manages_its_own_scopes_keys_over_http(world):
    client = world["client"]
    admin = auth("acme", role="admin")
    made = client.post("/access/keys", headers=admin, json={"role": "viewer", "name": "dashboard"})
    assert made.status_code == 201, made.text
    key, secret = made.json()["key"], made.json()["secret"]
    world["made"].append(secret)
    assert (key["tenant"], key["env"], key["role"]) == ("acme", "dev", "viewer") and secret.startswith("cl_")
    assert client.get("/video_render/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listed = client.get("/access/keys", headers=admin).json()["keys"]
    assert key["id"] in [k["id"] for k in listed] and {k["tenant"] for k in listed} == {"acme"}
    assert secret not in json.dumps(listed)
    assert client.get("/access/keys", headers=auth("acme", role="editor")).status_code == 403
    assert client.post(f"/access/keys/{key['id']}/revoke", headers=auth("globex")).status_code == 404
    assert client.post(f"/access/keys/{key['id']}/revoke", headers=admin).json()["key"]["revoked_at"]
    assert client.get("/video_render/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    bad = client.post("/access/keys", headers=admin, json={"role": "owner"})
    assert bad.status_code == 400 and "role" in bad.json()["error"]["message"]


def test_neither_the_database_nor_the_logs_hold_a_secret(world):
    client = world["client"]
    for role in ("viewer", "editor", "admin"):  # every key in use at least once (last_used written)
        client.get("/video_render/jobs", headers=auth("acme", role=role))
    secrets = [key_secret(t, e, r) for t in ("acme", "globex") for e in ("dev", "staging")
               for r in ("viewer", "editor", "admin")] + [world["revoked"], BAD_KEY, *world["made"]]
    home = world["home"]
    stored = b"".join(p.read_bytes() for p in home.glob("cutlite.db*"))
    logs = world["stderr"].read_bytes() + world["stdout"].read_bytes()
    assert len(stored) > 10_000 and b"api_keys" in stored and b"GET /video_render/jobs" in logs
    leaked = [s for s in secrets if s.encode() in stored or s.encode() in logs
              or hashlib.sha256(s.encode()).hexdigest().encode() in logs]
    assert leaked == []
    listed = cutlite(home, "keys", "list", "--json")
    assert listed.returncode == 0 and not any(s in listed.stdout for s in secrets)
    assert {"acme/dev/viewer", "globex/staging/admin"} <= {f"{k['tenant']}/{k['env']}/{k['role']}"
                                                            for k in json.loads(listed.stdout)["keys"]}


def test_a_signed_url_downloads_until_it_expires_and_not_when_changed(world):
    client, ids = world["client"], world["ids"]
    answer = client.get(f"/video_render/jobs/{ids['job_id']}/download", headers=ACME).json()
    assert answer["expires"] > time.time() + 60 and "sig=" in answer["url"]
    got = httpx.get(answer["url"])  # no key: the signature is the permission
    stored = (world["home"] / "objects" / answer["key"]).read_bytes()
    assert got.status_code == 200 and got.content == stored and len(stored) > 1000
    base, _, rest = answer["url"].partition("/files/")
    refused = 0
    for i, ch in enumerate(rest):
        swap = "0" if ch != "0" else "1"
        r = httpx.get(base + "/files/" + rest[:i] + swap + rest[i + 1:])
        assert r.status_code in (403, 404), (i, r.status_code)
        assert r.content != stored
        refused += 1
    assert refused == len(rest) > 100
    if os.environ.get("CUTLITE_REPORT_DIR"):
        Path(os.environ["CUTLITE_REPORT_DIR"], "signed_urls.json").write_text(json.dumps({"changed": refused}))
    assert httpx.get(answer["url"].replace("sig=", "sig=0")).status_code == 403
    assert httpx.get(answer["url"].split("?")[0]).json()["error"]["code"] == "signature_invalid"
    # the same URL signed (with the server's secret) to expire in one second: works, then refused
    from engines.access.signing import quoted, sign_path

    path, _ = sign_path(SECRET.encode(), "/files/" + quoted(answer["key"]), 1)
    assert httpx.get(base + path).status_code == 200
    time.sleep(2.1)
    late = httpx.get(base + path)
    assert late.status_code == 403 and "expired" in late.json()["error"]["message"]


def test_an_artifact_download_is_signed_too_and_another_tenant_gets_404(world):
    client, ids = world["client"], world["ids"]
    path = f"/media_v2/assets/{ids['asset_id']}/artifacts/{ids['artifact_id']}/download"
    answer = client.get(path, headers=auth("acme", role="viewer")).json()
    assert httpx.get(answer["url"]).content == (world["home"] / "objects" / answer["key"]).read_bytes()
    assert client.get(path, headers=auth("globex")).status_code == 404


def test_every_mutating_request_is_in_the_audit_log(world):
    client, ids = world["client"], world["ids"]
    client.post(f"/video_render/jobs/{ids['job_id']}/cancel", headers=ACME)
    client.post(f"/video_render/jobs/{ids['job_id']}/cancel", headers={"Authorization": f"Bearer {BAD_KEY}"})
    out = cutlite(world["home"], "audit", "--json", "--limit", "1000")
    assert out.returncode == 0, out.stderr
    entries = json.loads(out.stdout)["entries"]
    cancel = [e for e in entries if e["route"] == "/video_render/jobs/{job_id}/cancel"]
    assert {"status": 200, "object": ids["job_id"], "tenant": "acme"} in [
        {k: e[k] for k in ("status", "object", "tenant")} for e in cancel]
    assert any(e["status"] == 401 and e["key_id"] is None for e in cancel)
    created = next(e for e in entries if e["route"] == "/media_v2/assets" and e["status"] == 201)
    assert created["object"] == ids["asset_id"] and created["key_id"].startswith("key_")
    assert all(e["method"] != "GET" for e in entries)
    assert not any(BAD_KEY in json.dumps(e) for e in entries)
    table = cutlite(world["home"], "audit", "--tenant", "acme", env={"COLUMNS": "250"})
    assert table.returncode == 0 and "/video_render/jobs/{job_id}/cancel" in table.stdout


# ---------------------------------------------------------------------------- webhooks

class Receiver:
    """A local HTTP server that records each POST and answers from a script of statuses."""

    def __init__(self, statuses: list[int], redirect: str | None = None) -> None:
        self.got: list[dict[str, Any]] = []
        self.statuses = statuses
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.got.append({"at": time.monotonic(), "path": self.path, "headers": dict(self.headers),
                                  "body": body})
                if self.path.startswith("/redirect") and redirect:
                    self.send_response(307)
                    self.send_header("Location", redirect)
                else:
                    self.send_response(outer.statuses.pop(0) if outer.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def test_a_webhook_is_signed_retried_after_a_500_and_recorded_on_the_job(tmp_path, media):
    receiver = Receiver([500, 200])
    env = {"CUTLITE_WEBHOOK_ALLOW": "127.0.0.1/32", "CUTLITE_WEBHOOK_BACKOFF": "0.5"}
    try:
        with logged_server(tmp_path / "home", env) as (base, _, _), httpx.Client(base_url=base, timeout=60) as c:
            with open(media["red"], "rb") as f:
                asset = c.post("/media_v2/assets", headers=ACME, files={"file": ("red.mp4", f, "video/mp4")}).json()
            job = c.post("/video_render/jobs", headers=ACME, json={
                "project": one_second(asset["id"]), "profile": "draft_360p",
                "callback_url": receiver.url + "/hook?x=1"}).json()
            assert job["callback"] == {"url": receiver.url + "/hook?x=1", "state": "pending", "attempts": []}
            deadline = time.monotonic() + 120
            while (c.get(f"/video_render/jobs/{job['id']}", headers=ACME).json()["callback"]["state"] == "pending"
                   and time.monotonic() < deadline):
                time.sleep(0.2)
            view = c.get(f"/video_render/jobs/{job['id']}", headers=ACME).json()
    finally:
        receiver.close()
    assert view["state"] == "COMPLETED" and view["callback"]["state"] == "delivered"
    assert [a["status"] for a in view["callback"]["attempts"]] == [500, 200]
    assert len(receiver.got) == 2 and receiver.got[1]["at"] - receiver.got[0]["at"] >= 0.45  # the backoff
    for hit in receiver.got:
        assert hit["path"] == "/hook?x=1" and hit["headers"]["X-Cutlite-Event"] == "job.completed"
        t, v1 = (part.split("=", 1)[1] for part in hit["headers"]["X-Cutlite-Signature"].split(","))
        assert abs(int(t) - time.time()) < 120
        want = hmac.new(SECRET.encode(), t.encode() + b"." + hit["body"], hashlib.sha256).hexdigest()
        assert hmac.compare_digest(v1, want)
        sent = json.loads(hit["body"])
        assert sent["id"] == job["id"] and sent["state"] == "COMPLETED" and sent["output_artifact"]["key"]


def test_a_webhook_redirected_to_the_metadata_address_is_refused(tmp_path, media):
    receiver = Receiver([], redirect="http://169.254.169.254/latest/meta-data/")
    env = {"CUTLITE_WEBHOOK_ALLOW": "127.0.0.1/32", "CUTLITE_WEBHOOK_BACKOFF": "0.2"}
    try:
        with logged_server(tmp_path / "home", env) as (base, _, _), httpx.Client(base_url=base, timeout=60) as c:
            with open(media["red"], "rb") as f:
                asset = c.post("/media_v2/assets", headers=ACME, files={"file": ("red.mp4", f, "video/mp4")}).json()
            job = c.post("/video_render/jobs", headers=ACME, json={
                "project": one_second(asset["id"], variant=1), "profile": "draft_360p",
                "callback_url": receiver.url + "/redirect"}).json()
            deadline = time.monotonic() + 120
            while (c.get(f"/video_render/jobs/{job['id']}", headers=ACME).json()["callback"]["state"] == "pending"
                   and time.monotonic() < deadline):
                time.sleep(0.2)
            callback = c.get(f"/video_render/jobs/{job['id']}", headers=ACME).json()["callback"]
    finally:
        receiver.close()
    assert callback["state"] == "refused" and len(callback["attempts"]) == 1
    assert "169.254.169.254" in callback["attempts"][0]["error"]
    assert [h["path"] for h in receiver.got] == ["/redirect"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data/",
                                 "http://localhost:9/", "http://[::1]:9/", "http://10.0.0.7/", "http://0.0.0.0:9/",
                                 "http://[::ffff:127.0.0.1]:9/", "ftp://example.com/hook", "http://user:pw@127.0.0.1/"])
def test_a_callback_to_a_private_address_is_refused_without_the_allow_list(world, url):
    client, doc = world["client"], world["doc"]
    before = client.get("/video_render/jobs", headers=ACME).json()["jobs"]
    resp = client.post("/video_render/jobs", headers=ACME,
                       json={"project": {**doc, "id": "hooked"}, "profile": "draft_360p", "callback_url": url})
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["context"]["problems"][0].startswith("callback_url: ")
    assert client.get("/video_render/jobs", headers=ACME).json()["jobs"] == before  # nothing submitted


def test_targets_are_checked_on_every_address_a_name_resolves_to():
    from engines.access.targets import TargetRefused, resolve

    with pytest.raises(TargetRefused, match="127.0.0.1|::1"):
        resolve("http://localhost/hook", [])
    import ipaddress

    target = resolve("http://127.0.0.1:8080/x?y=1", [ipaddress.ip_network("127.0.0.0/8")])
    assert target.pinned_url() == "http://127.0.0.1:8080/x?y=1" and target.host_header() == "127.0.0.1:8080"


# ---------------------------------------------------------------------------- limits

def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_do_not(tmp_path):
    env = {"CUTLITE_RATE_LIMIT": "1", "CUTLITE_RATE_BURST": "3"}
    with logged_server(tmp_path / "home", env) as (base, _, _), httpx.Client(base_url=base) as c:
        statuses = [c.get("/video_render/jobs", headers=ACME).status_code for _ in range(4)]
        limited = c.get("/video_render/jobs", headers=ACME)
        other = c.get("/video_render/jobs", headers=auth("globex"))
        time.sleep(float(limited.headers["Retry-After"]) + 0.1)
        again = c.get("/video_render/jobs", headers=ACME)
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    assert other.status_code == 200 and again.status_code == 200


def test_past_the_quota_an_upload_is_refused_and_nothing_is_written(tmp_path, media):
    size = media["red"].stat().st_size
    home = tmp_path / "home"
    with logged_server(home, {"CUTLITE_TENANT_QUOTA_BYTES": str(size)}) as (base, _, _), \
            httpx.Client(base_url=base, timeout=60) as c:
        with open(media["red"], "rb") as f:
            first = c.post("/media_v2/assets", headers=ACME, files={"file": ("red.mp4", f, "video/mp4")})
        with open(media["blue"], "rb") as f:
            second = c.post("/media_v2/assets", headers=ACME, files={"file": ("blue.mp4", f, "video/mp4")})
        render = c.post("/video_render/jobs", headers=ACME,
                        json={"project": one_second(first.json()["id"]), "profile": "draft_360p"})
        with open(media["blue"], "rb") as f:  # another tenant has its own quota
            globex = c.post("/media_v2/assets", headers=auth("globex"), files={"file": ("blue.mp4", f, "video/mp4")})
        jobs = c.get("/video_render/jobs", headers=ACME).json()["jobs"]
    assert first.status_code == 201 and globex.status_code == 201
    for refused in (second, render):
        assert refused.status_code == 413, refused.text
        err = refused.json()["error"]
        assert err["code"] == "quota_exceeded" and err["context"]["quota_bytes"] == size
    stored = [p for p in (home / "objects" / "tenants" / "acme").rglob("*") if p.is_file()]
    assert [p.name for p in stored] == ["source.mp4"] and jobs == []


# ---------------------------------------------------------------------------- the server's start

def test_a_first_dev_run_on_loopback_prints_a_working_key_once(tmp_path):
    home = tmp_path / "home"
    with logged_server(home, seed=False) as (base, out, err):
        secret, *rest = out.read_text().splitlines()  # the key, then uvicorn's access log
        assert secret.startswith("cl_") and len(secret) == 46 and not any(secret in line for line in rest)
        who = httpx.post(base + "/studio/api/session", headers={"Authorization": f"Bearer {secret}"}).json()
        assert (who["tenant"], who["env"], who["role"]) == ("demo", "dev", "admin")
        assert secret not in err.read_text()
    with logged_server(home, seed=False) as (base, out, _):
        assert "cl_" not in out.read_text()  # the key exists: nothing new is made or shown
        assert httpx.get(base + "/video_render/jobs", headers={"Authorization": f"Bearer {secret}"}).status_code == 200


@pytest.mark.parametrize("args,env,says", [
    (["--env", "prod"], {"CUTLITE_SECRET": ""}, "CUTLITE_SECRET"),
    (["--env", "prod"], {}, "cutlite keys create"),
    (["--host", "0.0.0.0"], {}, "cutlite keys create"),
    (["--env", "staging"], {}, "cutlite keys create")])
def test_a_server_without_keys_or_secret_does_not_start_unless_dev_on_loopback(tmp_path, args, env, says):
    out = cutlite(tmp_path / "home", "serve", "--port", str(free_port()), *args, "--json",
                  env={"CUTLITE_SECRET": SECRET, **env})
    assert out.returncode == 2, out.stderr[-2000:]
    err = json.loads(out.stdout)["error"]
    assert says in json.dumps(err) and "Traceback" not in out.stderr


def test_a_prod_server_starts_with_its_secret_and_a_prod_key(tmp_path):
    home = tmp_path / "home"
    made = cutlite(home, "keys", "create", "--tenant", "acme", "--env", "prod", "--role", "viewer", "--json")
    secret = json.loads(made.stdout)["secret"]
    env = {"CUTLITE_HOME": str(home), "CUTLITE_SECRET": SECRET, "CUTLITE_ENV": "prod",
           "CUTLITE_STORAGE_URL": f"file://{home / 'objects'}"}
    with logged_server(home, env, seed=False) as (base, out, _):
        assert "cl_" not in out.read_text()
        r = httpx.get(base + "/video_render/jobs", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200 and r.json() == {"jobs": []}


# ---------------------------------------------------------------------------- the key store

def test_keys_from_the_command_line_print_the_secret_once(tmp_path):
    home = tmp_path / "home"
    made = cutlite(home, "keys", "create", "--tenant", "acme", "--env", "dev", "--name", "ci", "--role", "viewer")
    assert made.returncode == 0 and made.stdout.strip().startswith("cl_")
    secret = made.stdout.strip()
    listed = cutlite(home, "keys", "list", "--json")
    (key,) = json.loads(listed.stdout)["keys"]
    assert (key["name"], key["role"], key["tenant"], key["env"], key["revoked_at"]) == ("ci", "viewer", "acme", "dev",
                                                                                        None)
    assert secret not in listed.stdout and secret not in cutlite(home, "keys", "list").stdout
    assert cutlite(home, "keys", "revoke", key["id"]).returncode == 0
    assert json.loads(cutlite(home, "keys", "list", "--json").stdout)["keys"][0]["revoked_at"]
    unknown = cutlite(home, "keys", "revoke", "key_0000000000000000", "--json")
    assert unknown.returncode == 2 and json.loads(unknown.stdout)["error"]["code"] == "not_found"
    bad = cutlite(home, "keys", "create", "--tenant", "ACME", "--env", "dev", "--json")
    assert bad.returncode == 2 and "tenant" in json.loads(bad.stdout)["error"]["message"]


@pytest.fixture
def fresh_postgres():
    """A database of its own on the local Postgres (the shared one keeps other sessions' schema)."""
    psycopg = pytest.importorskip("psycopg")
    admin = os.environ.get("CUTLITE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = "cutlite_access_" + os.urandom(4).hex()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as exc:  # noqa: BLE001 - no Postgres on this machine
        pytest.skip(f"Postgres not reachable at {admin}: {exc}")
    url = "postgresql+psycopg://" + admin.removeprefix("postgresql://").rsplit("/", 1)[0] + "/" + name
    yield url
    from engines.database import _engines

    engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_keys_audit_and_webhooks_live_in_postgres_too(fresh_postgres):
    from engines.access.audit import AuditLog
    from engines.access.keys import KeyStore
    from engines.access.webhooks import Webhooks

    keys = KeyStore(fresh_postgres)
    key, secret = keys.create("acme", "prod", role="admin", name="pg")
    assert keys.authenticate(secret) == key and keys.authenticate(secret + "x") is None
    assert keys.active_count("prod") == 1 and [k.id for k in keys.list("acme")] == [key.id]
    keys.revoke(key.id)
    assert keys.authenticate(secret) is None and keys.active_count() == 0
    log = AuditLog(fresh_postgres)
    log.record(method="POST", route="/video_render/jobs", status=202, key_id=key.id, tenant="acme", env="prod",
               obj="job_1")
    assert [(e["route"], e["object"], e["status"]) for e in log.list(tenant="acme")] == [
        ("/video_render/jobs", "job_1", 202)]
    hooks = Webhooks(b"x" * 32, lambda *a: {"state": "RUNNING"}, url=fresh_postgres)
    hooks.register("job_1", "acme", "prod", "https://example.com/h")
    assert hooks.state_of("job_1") == {"url": "https://example.com/h", "state": "pending", "attempts": []}
    assert hooks.run_due() == 0  # the job has not ended: nothing is sent
    import sqlalchemy

    with sqlalchemy.create_engine(fresh_postgres).connect() as conn:
        dump = json.dumps([list(map(str, r)) for r in conn.execute(sqlalchemy.text("SELECT * FROM api_keys"))])
    assert secret not in dump and hashlib.sha256(secret.encode()).hexdigest() in dump


# ---------------------------------------------------------------------------- S3

def test_with_s3_storage_a_download_is_s3s_own_presigned_url(tmp_path):
    from conftest import moto_s3

    from engines.access.downloads import download_link
    from engines.media_v2.storage import S3Store

    payload = os.urandom(4096)
    (tmp_path / "f.bin").write_bytes(payload)
    with moto_s3() as (client, _endpoint):
        store = S3Store("cutlite", "dl", client=client, cache_dir=tmp_path / "cache")
        key = "tenants/acme/dev/media_v2/renders/job_abc/output.mp4"
        store.put_file(key, tmp_path / "f.bin")
        answer = download_link(store, key, "http://unused", SECRET.encode())
        got = httpx.get(answer["url"])
        missing = httpx.get(answer["url"].replace("job_abc", "job_abd"))
    assert "Signature=" in answer["url"] and "Expires=" in answer["url"]  # SigV2 or SigV4, as the client signs
    assert got.status_code == 200 and got.content == payload
    assert missing.status_code in (403, 404) and missing.content != payload
    assert abs(answer["expires"] - time.time() - 900) < 5


def test_every_setting_of_access_is_documented():
    import re

    root = Path(__file__).resolve().parents[1]
    code = "".join(p.read_text() for p in (root / "engines" / "access").glob("*.py"))
    names = set(re.findall(r"\"(CUTLITE_[A-Z_]+)\"", code)) | {"CUTLITE_ENV"}
    documented = (root / "docs" / "configuration.md").read_text()
    assert len(names) >= 8 and sorted(n for n in names if f"`{n}`" not in documented) == []

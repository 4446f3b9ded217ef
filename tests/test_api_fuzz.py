"""API fuzzing: schemathesis drives every operation of ``/openapi.json`` on a real server on
loopback (coverage, fuzzing and stateful phases). Every response must be a non-5xx; every error
must be the JSON error shape; no response may carry a server path or another tenant's data.

``CUTLITE_FUZZ_EXAMPLES`` raises the examples per operation (the reliability report runs more).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from conftest import auth, key_secret, serve, server_paths

EXAMPLES = int(os.environ.get("CUTLITE_FUZZ_EXAMPLES") or 12)
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


def test_fuzzed_requests_get_no_5xx_json_errors_and_leak_nothing(tmp_path, media):
    home = tmp_path / "home"
    acme = auth("acme", role="editor")
    with serve({"CUTLITE_HOME": str(home)}) as base:
        # another tenant's asset: nothing about it may reach tenant acme
        with open(media["red"], "rb") as f:
            other = httpx.post(base + "/media_v2/assets", headers=auth("globex"),
                               files={"file": ("red.mp4", f, "video/mp4")}).json()["id"]
        # acme's own real upload, and every read of it (the fuzzer never sends a real file)
        with open(media["blue"], "rb") as f:
            posted = httpx.post(base + "/media_v2/assets", headers=acme, files={"file": ("blue.mp4", f, "video/mp4")})
        mine = posted.json()["id"]
        doc = {"schema_version": 1, "id": "fz", "tenant": "acme", "env": "dev", "assets": {"m": {"asset_id": mine}},
               "settings": {"width": 160, "height": 120, "fps": 30},
               "tracks": [{"id": "v", "kind": "video", "clips": [
                   {"id": "a", "asset": "m", "start": 0, "source_in": 0, "source_out": 1}]}]}
        real = [posted, httpx.get(f"{base}/media_v2/assets/{mine}", headers=acme),
                httpx.get(f"{base}/media_v2/assets/{mine}/artifacts", headers=acme)]
        real += [httpx.post(base + path, headers=acme, json={"project": doc}, timeout=120)
                 for path in ("/video_render/plan", "/video_render/proxies", "/video_preview/preview")]
        real.append(httpx.get(f"{base}/media_v2/assets/{mine}/artifacts", headers=acme))
        har = tmp_path / "run.har"
        run = subprocess.run([SCHEMATHESIS, "run", base + "/openapi.json", "-H", "X-Tenant: acme", "-H", "X-Env: dev",
                              "-H", f"Authorization: Bearer {key_secret('acme', role='editor')}",
                              "-c", "not_a_server_error", "-n", str(EXAMPLES), "--generation-deterministic",
                              "--report", "har", "--report-har-path", str(har)],
                             capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-4000:]
    assert [r.status_code for r in real] == [201, 200, 200, 200, 200, 200, 200]
    assert [server_paths(r.text, home, tmp_path) for r in real] == [[]] * len(real)
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) > 100
    bad_shape, leaks = [], []
    for e in entries:
        status = e["response"]["status"]
        text = e["response"]["content"].get("text") or ""
        where = f"{e['request']['method']} {e['request']['url']} -> {status}"
        if status >= 400:
            try:
                err = json.loads(text)["error"]
                assert {"code", "message", "stage", "hint", "context"} <= set(err)
            except (ValueError, KeyError, TypeError, AssertionError):
                bad_shape.append(f"{where}: {text[:200]}")
        if server_paths(text, home, tmp_path) or other in text:
            leaks.append(f"{where}: {text[:200]}")
    assert bad_shape == [] and leaks == []
    if os.environ.get("CUTLITE_REPORT_DIR"):
        statuses: dict[str, int] = {}
        for e in entries:
            statuses[str(e["response"]["status"])] = statuses.get(str(e["response"]["status"]), 0) + 1
        Path(os.environ["CUTLITE_REPORT_DIR"], "api_fuzz.json").write_text(json.dumps(
            {"requests": len(entries), "statuses": dict(sorted(statuses.items())), "server_errors": 0,
             "badly_shaped_errors": len(bad_shape), "leaks": len(leaks)}, indent=2))

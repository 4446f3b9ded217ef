"""Hostile documents: what an attacker or a broken client sends, on every surface that reads one.

Each class (deep nesting, duplicate keys at every level, a huge string, a 100,000-element array, NUL
and bidi-override characters in ids and text, invalid UTF-8, a text that stops mid-way) goes to the
CLI (``validate``, ``plan``, ``render``, ``import``), the HTTP routes that take a project, the HTTP
import, and every importer (CapCut draft folder, a draft under another name, OTIO, OTIO bundle).
A refusal is exit 2 / 4xx with the JSON error naming the path, no traceback and nothing written.
A real server shows what a refused 300 MB body costs it. Counts go to ``CUTLITE_REPORT_DIR``
(``bench/reliability.py``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import opentimelineio as otio
import pytest
from conftest import CLI, A, database_of, free_port, keys_for, measure

CLASSES = ["deep", "duplicate_keys", "huge_string", "array_100k", "nul_in_id", "bidi_in_id", "nul_in_text",
           "bidi_in_text", "invalid_utf8", "truncated"]
HUGE = 5 << 20
TALLY: dict[str, dict[str, int]] = {}


def tally(surface: str, outcome: str) -> None:
    TALLY.setdefault(surface, {}).setdefault(outcome, 0)
    TALLY[surface][outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    folder = os.environ.get("CUTLITE_REPORT_DIR")
    if folder:
        Path(folder, "hostile.json").write_text(json.dumps({"surfaces": TALLY, **FIGURES}, indent=2))


FIGURES: dict[str, Any] = {}


# ---------------------------------------------------------------- the documents

def project_doc() -> dict[str, Any]:
    return {"schema_version": 1, "id": "hostile", "tenant": "acme", "env": "dev",
            "settings": {"width": 160, "height": 120, "fps": 25},
            "tracks": [{"id": "t", "kind": "overlay", "clips": [{"id": "c0", "text": "hi", "start": 0,
                                                                   "duration": 1}]}]}


def draft_doc() -> dict[str, Any]:
    return {"canvas_config": {"width": 160, "height": 120}, "fps": 25,
            "materials": {"texts": [{"id": "m0", "type": "text", "content": "hi"}], "beats": []},
            "tracks": [{"type": "text", "segments": [{"id": "s0", "material_id": "m0",
                                                      "target_timerange": {"start": 0, "duration": 1000000}}]}]}


def otio_doc() -> dict[str, Any]:
    tl = otio.schema.Timeline(name="t")
    track = otio.schema.Track()
    track.append(otio.schema.Clip(name="hi", metadata={"note": "hi"},
                                  media_reference=otio.schema.ExternalReference(target_url="/m/a.mov"),
                                  source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, 25),
                                                                       otio.opentime.RationalTime(25, 25))))
    tl.tracks.append(track)
    return json.loads(otio.adapters.write_to_string(tl))


# per family: where its id and its text are, and (text, duplicate) pairs at each level with their paths
FAMILIES: dict[str, dict[str, Any]] = {
    "project": {
        "doc": project_doc,
        "id": lambda d: (d, "id"),
        "text": lambda d: (d["tracks"][0]["clips"][0], "text"),
        "array": lambda d: (d["settings"], "fps"),
        "dups": [('"tenant": "acme"', '"tenant": "globex"', "tenant"),
                 ('"fps": 25', '"fps": 30', "settings.fps"),
                 ('"kind": "overlay"', '"kind": "audio"', "tracks[0].kind"),
                 ('"text": "hi"', '"text": "bye"', "tracks[0].clips[0].text")],
    },
    "draft": {
        "doc": draft_doc,
        "id": lambda d: (d["tracks"][0]["segments"][0], "id"),
        "text": lambda d: (d["materials"]["texts"][0], "content"),
        "array": lambda d: (d["materials"], "beats"),
        "dups": [('"fps": 25', '"fps": 30', "fps"),
                 ('"width": 160', '"width": 7680', "canvas_config.width"),
                 ('"content": "hi"', '"content": "bye"', "materials.texts[0].content"),
                 ('"material_id": "m0"', '"material_id": "m1"', "tracks[0].segments[0].material_id")],
    },
    "otio": {
        "doc": otio_doc,
        "id": lambda d: (d["tracks"]["children"][0]["children"][0], "name"),
        "text": lambda d: (d["tracks"]["children"][0]["children"][0]["metadata"], "note"),
        "array": lambda d: (d["metadata"], "list"),
        "dups": [('"name": "t"', '"name": "u"', "name"),
                 ('"name": "tracks"', '"name": "stacks"', "tracks.name"),
                 ('"note": "hi"', '"note": "bye"', "tracks.children[0].children[0].metadata.note")],
    },
}


def hostile(family: str, cls: str) -> bytes:
    """The document of ``family`` made hostile in the way ``cls`` says."""
    fam = FAMILIES[family]
    doc = fam["doc"]()
    if cls == "deep":
        return b"[" * 200_000 + b"]" * 200_000
    if cls in ("huge_string", "nul_in_id", "bidi_in_id"):
        obj, key = fam["id"](doc)
        obj[key] = {"huge_string": "x" * HUGE, "nul_in_id": "a\x00b", "bidi_in_id": "evil\u202egnp.exe"}[cls]
    elif cls in ("nul_in_text", "bidi_in_text"):
        obj, key = fam["text"](doc)
        obj[key] = "hi\x00there" if cls == "nul_in_text" else "\u202eolleh"
    elif cls == "array_100k":
        obj, key = fam["array"](doc)
        obj[key] = list(range(100_000))
    text = json.dumps(doc, ensure_ascii=False)
    if cls == "duplicate_keys":
        for first, second, _ in fam["dups"]:
            assert first in text, first
            text = text.replace(first, f"{first}, {second}", 1)
    raw = text.encode()
    if cls == "invalid_utf8":
        raw = raw.replace(b'"hi"', b'"h\xffi"', 1)
    if cls == "truncated":
        raw = raw[: len(raw) // 2]
    return raw


# what each class must come to: ("refused", problems that must be listed) or ("accepted", None)
def expected(family: str, cls: str) -> tuple[str, list[str]]:
    if cls == "deep":
        return "refused", ["$: nested 200000 levels deep; at most 128 (CUTLITE_MAX_DOCUMENT_DEPTH)"]
    if cls == "duplicate_keys":
        return "refused", [f"{path}: given twice" for *_, path in FAMILIES[family]["dups"]]
    if cls == "invalid_utf8":
        return "refused", ["$: not valid UTF-8"]
    if cls == "truncated":
        return "refused", ["$: not valid JSON"]
    if cls in ("nul_in_id", "nul_in_text"):
        return "refused", [f"{_path_of(family, cls)}: contains a NUL character"]
    if family == "project" and cls in ("huge_string", "bidi_in_id"):
        return "refused", ["id: invalid project id"]
    if family == "project" and cls == "array_100k":
        return "refused", ["settings.fps: must be a positive integer"]
    return "accepted", []


def _path_of(family: str, cls: str) -> str:
    return {("project", "nul_in_id"): "id", ("project", "nul_in_text"): "tracks[0].clips[0].text",
            ("draft", "nul_in_id"): "tracks[0].segments[0].id", ("draft", "nul_in_text"): "materials.texts[0].content",
            ("otio", "nul_in_id"): "tracks.children[0].children[0].name",
            ("otio", "nul_in_text"): "tracks.children[0].children[0].metadata.note"}[(family, cls)]


def assert_problems(problems: list[str], want: list[str], prefix: str = "") -> None:
    for w in want:
        w = w if w.startswith("$") or not prefix else prefix + w
        assert any(p.startswith(w) or w in p for p in problems), f"{w!r} not in {problems}"


# ---------------------------------------------------------------- the CLI

def cutlite(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def _refused(out: subprocess.CompletedProcess[str], want: list[str], prefix: str = "") -> None:
    assert out.returncode == 2, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    assert len(out.stdout) < 64 * 1024, "the error echoes the document"
    err = json.loads(out.stdout)["error"]
    assert set(err) == {"code", "message", "stage", "hint", "context"}
    assert_problems(err["context"].get("problems") or [err["message"]], want, prefix)


@pytest.mark.parametrize("cls", CLASSES)
def test_cli_commands_refuse_each_hostile_project(cls, tmp_path):
    (tmp_path / "p.json").write_bytes(hostile("project", cls))
    verdict, want = expected("project", cls)
    out = tmp_path / "out.mp4"
    for args in (["validate", "p.json"], ["plan", "p.json", "--profile", "draft_360p"],
                 ["render", "p.json", "--profile", "draft_360p", "-o", str(out), "--hw", "cpu"]):
        run = cutlite(*args, "--json", cwd=tmp_path)
        if verdict == "refused":
            _refused(run, want)
            assert not out.exists()
            tally("cli", "refused")
        else:
            assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
            assert "Traceback" not in run.stderr
            tally("cli", "accepted")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["out.mp4", "p.json"] if verdict == "accepted"
                                                          else ["p.json"])
    if verdict == "accepted":  # right-to-left marks in a caption render like any text
        assert measure(out).frames == 25


@pytest.mark.parametrize("family", ["draft", "draft_renamed", "otio", "otioz"])
@pytest.mark.parametrize("cls", CLASSES)
def test_cli_import_refuses_each_hostile_timeline(family, cls, tmp_path):
    path = timeline_file(tmp_path, family, cls)
    verdict, want = expected(family.split("_")[0].replace("otioz", "otio"), cls)
    run = cutlite("import", str(path), "-o", str(tmp_path / "imported.json"), "--json", cwd=tmp_path)
    if verdict == "refused":
        _refused(run, want)
        assert not (tmp_path / "imported.json").exists()
        tally("importers", "refused")
    else:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
        assert "Traceback" not in run.stderr
        json.loads((tmp_path / "imported.json").read_text())
        tally("importers", "accepted")


def timeline_file(folder: Path, family: str, cls: str) -> Path:
    raw = hostile("otio" if family.startswith("otio") else "draft", cls)
    if family == "draft":
        (folder / "draft").mkdir()
        path = folder / "draft"
        (path / "draft_content.json").write_bytes(raw)
    elif family == "draft_renamed":
        path = folder / "my_draft.json"
        path.write_bytes(raw)
    elif family == "otio":
        path = folder / "cut.otio"
        path.write_bytes(raw)
    else:
        path = folder / "cut.otioz"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("content.otio", raw)
            z.writestr("version.txt", "1.0.0")
    return path


def test_a_project_of_100_000_clips_validates_in_bounded_time(tmp_path):
    doc = project_doc()
    doc["tracks"][0]["clips"] = [{"id": f"c{i}", "text": "hi", "start": i, "duration": 1} for i in range(100_000)]
    (tmp_path / "p.json").write_text(json.dumps(doc))
    started = time.monotonic()
    run = cutlite("validate", "p.json", "--json", cwd=tmp_path)
    assert run.returncode == 0 and json.loads(run.stdout)["valid"], run.stderr[-2000:]
    assert time.monotonic() - started < 120
    tally("cli", "accepted")


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    (tmp_path / "p.json").write_bytes(json.dumps(project_doc()).encode() + b" " * 4096)
    env = dict(os.environ, CUTLITE_MAX_DOCUMENT_BYTES="4096")
    run = subprocess.run([*CLI, "validate", "p.json", "--json"], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    err = json.loads(run.stdout)["error"]
    assert err["code"] == "document_too_large" and err["context"]["limit"] == 4096
    bad = subprocess.run([*CLI, "validate", "p.json", "--json"], capture_output=True, text=True, cwd=tmp_path,
                         env=dict(os.environ, CUTLITE_MAX_DOCUMENT_DEPTH="deep"), timeout=120)
    assert bad.returncode == 2 and "CUTLITE_MAX_DOCUMENT_DEPTH: must be a whole number" in bad.stdout


# ---------------------------------------------------------------- HTTP, in process

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from fastapi.testclient import TestClient

    from engines.api import create_app
    from engines.video_render.service import RenderService

    home = tmp_path_factory.mktemp("hostile-home")
    old = os.environ["CUTLITE_HOME"]
    os.environ["CUTLITE_HOME"] = str(home)
    keys_for(database_of({}))  # the suite's API keys in this app's database: requests get past the key check
    try:
        with TestClient(create_app(RenderService(), run_jobs=False)) as c:
            yield c, home
    finally:
        os.environ["CUTLITE_HOME"] = old


ROUTES = [("/video_render/plan", b'{"profile": "draft_360p", "project": '),
          ("/video_render/jobs", b'{"profile": "draft_360p", "project": '),
          ("/video_render/proxies", b'{"profile": "draft_360p", "project": '),
          ("/video_preview/preview", b'{"project": '),
          ("/studio/api/timeline", b'{"project": '),
          ("/studio/api/previews", b'{"project": ')]


@pytest.mark.parametrize("cls", CLASSES)
def test_http_routes_refuse_each_hostile_project(client, cls):
    c, home = client
    raw = hostile("project", cls)
    verdict, want = expected("project", cls)
    if cls == "deep":
        want = ["$: nested 200001 levels deep"]
    # the loader's paths start at the body it read; the project's own rules name paths in the project
    prefix = "" if cls in ("huge_string", "bidi_in_id", "array_100k") else "project."
    jobs_before = c.get("/video_render/jobs", headers=A).json()["jobs"]
    for route, head in ROUTES:
        body = head + raw + (b"}" if cls != "truncated" else b"")
        resp = c.post(route, content=body, headers={**A, "content-type": "application/json"})
        if verdict == "accepted":
            assert resp.status_code < 500, resp.text
            tally("http", "accepted")
            continue
        assert resp.status_code == 400, (route, resp.text[:2000])
        assert len(resp.content) < 64 * 1024
        err = resp.json()["error"]
        assert set(err) == {"code", "message", "stage", "hint", "context"}
        assert_problems(err["context"]["problems"], want, prefix)
        tally("http", "refused")
    if verdict == "refused":
        assert c.get("/video_render/jobs", headers=A).json()["jobs"] == jobs_before
        assert not list((home / "objects").rglob("*.mp4"))


@pytest.mark.parametrize("family", ["draft", "otio"])
@pytest.mark.parametrize("cls", CLASSES)
def test_http_import_refuses_each_hostile_timeline(client, family, cls):
    c, _ = client
    name = "draft_content.json" if family == "draft" else "cut.otio"
    resp = c.post("/video_render/import", headers=A,
                  files={"file": (name, hostile(family, cls), "application/octet-stream")})
    verdict, want = expected(family, cls)
    if verdict == "refused":
        assert resp.status_code == 400, resp.text[:2000]
        err = resp.json()["error"]
        assert_problems(err["context"]["problems"], want)
        assert "cutlite-import-" not in resp.text  # the spool folder is not named
        tally("http_import", "refused")
    else:
        assert resp.status_code == 200, resp.text[:2000]
        tally("http_import", "accepted")


def test_http_json_body_over_the_limit_is_413_before_it_is_read(client):
    c, _ = client
    resp = c.post("/video_render/plan", content=b" " * ((16 << 20) + 1), headers={**A, "content-type": "application/json"})
    assert resp.status_code == 413 and resp.headers["connection"] == "close"
    assert resp.json()["error"]["code"] == "body_too_large"

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(20):
            yield b" " * (1 << 20)
    resp = c.post("/video_render/plan", content=chunks(), headers={**A, "content-type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "body_too_large"
    bad = c.post("/video_render/plan", content=b"{}", headers={**A, "content-type": "application/json",
                                                                  "content-length": "12abc"})
    assert bad.status_code == 400 and "Content-Length" in bad.json()["error"]["message"]


def test_http_headers_and_query_over_their_limits(client):
    c, _ = client
    resp = c.get("/video_render/jobs", params={"state": "x" * 9000}, headers=A)
    assert resp.status_code == 414 and resp.json()["error"]["code"] == "query_too_long"
    resp = c.get("/video_render/jobs", headers={**A, "X-Padding": "p" * (33 << 10)})
    assert resp.status_code == 431 and resp.json()["error"]["code"] == "headers_too_large"


# ---------------------------------------------------------------- a real server

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile-server")
    keys_for(database_of({"CUTLITE_HOME": str(home)}))  # the suite's API keys (no first-run key is made)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "engines.cli", "serve", "--port", str(port)],
                            env=dict(os.environ, CUTLITE_HOME=str(home)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the server did not start: " + proc.stderr.read().decode()[-2000:])
    try:
        yield proc, port
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        assert b"Traceback" not in err, err.decode()[-3000:]


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident memory of ``pid`` in KiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def send_raw(port: int, head: bytes, body_chunks, timeout: float = 60) -> tuple[bytes, int]:
    """Send a request as a client that does not wait for permission; (the answer, body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head)
        try:
            for chunk in body_chunks:
                s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: the rest is not read
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        answer = b""
        try:
            while block := s.recv(65536):
                answer += block
        except (ConnectionResetError, socket.timeout):
            pass
    return answer, sent


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0


def _json_error(answer: bytes) -> dict[str, Any]:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]


def test_a_refused_300_mb_body_costs_the_server_little_memory(server):
    proc, port = server
    httpx.post(f"http://127.0.0.1:{port}/video_render/plan", json={"project": project_doc()}, headers=A)  # warm
    before = rss_kib(proc.pid)
    size = 300 << 20
    block = b" " * (1 << 20)
    head = (f"POST /video_render/plan HTTP/1.1\r\nHost: x\r\nX-Tenant: acme\r\nX-Env: dev\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    started = time.monotonic()
    answer, sent_known = send_raw(port, head, (block for _ in range(300)))
    known_s = time.monotonic() - started
    assert _status(answer) == 413, answer[:500]
    assert _json_error(answer)["code"] == "body_too_large"
    after_known = rss_kib(proc.pid)

    def chunked():
        for _ in range(300):
            yield b"100000\r\n" + block + b"\r\n"
        yield b"0\r\n\r\n"
    head = (b"POST /video_render/plan HTTP/1.1\r\nHost: x\r\nX-Tenant: acme\r\nX-Env: dev\r\n"
            b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    started = time.monotonic()
    answer, sent_chunked = send_raw(port, head, chunked())
    chunked_s = time.monotonic() - started
    assert _status(answer) == 413, answer[:500]
    assert _json_error(answer)["code"] == "body_too_large"
    after_chunked = rss_kib(proc.pid)
    tally("http_server", "refused")
    tally("http_server", "refused")
    peak_growth = after_chunked[1] - before[1]
    FIGURES["refused_300mb"] = {
        "content_length": {"rss_growth_kib": after_known[0] - before[0], "peak_growth_kib": after_known[1] - before[1],
                           "seconds": round(known_s, 2)},
        "chunked": {"rss_growth_kib": after_chunked[0] - after_known[0],
                    "peak_growth_kib": after_chunked[1] - after_known[1], "seconds": round(chunked_s, 2)},
        "server_rss_kib": before[0]}
    print("refused 300 MB bodies:", FIGURES["refused_300mb"])
    # the whole body would be 300 MiB held, or parsed; the limit for a chunked body is 16 MiB of counting
    assert peak_growth < 32 << 10, FIGURES
    assert after_known[1] - before[1] < 8 << 10, FIGURES


def test_a_body_that_stops_mid_way_gets_no_answer_and_leaves_nothing(server):
    proc, port = server
    body = json.dumps({"profile": "draft_360p", "project": project_doc()}).encode()
    head = (f"POST /video_render/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: {A['Authorization']}\r\n"
            f"X-Tenant: acme\r\nX-Env: dev\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    answer, _ = send_raw(port, head, [body[: len(body) // 2]], timeout=20)
    assert answer == b"" or _status(answer) in (400, 408), answer[:500]
    jobs = httpx.get(f"http://127.0.0.1:{port}/video_render/jobs", headers=A).json()["jobs"]
    assert jobs == []
    assert proc.poll() is None
    tally("http_server", "refused")


def test_head_over_the_servers_own_bound_is_refused_by_the_server(server):
    _, port = server
    head = (b"GET /video_render/jobs HTTP/1.1\r\nHost: x\r\nX-Tenant: acme\r\nX-Env: dev\r\nX-Pad: "
            + b"p" * (64 << 10) + b"\r\n\r\n")
    answer, _ = send_raw(port, head, [], timeout=20)
    assert _status(answer) in (400, 431), answer[:300]
    small = (b"GET /video_render/jobs HTTP/1.1\r\nHost: x\r\nX-Tenant: acme\r\nX-Env: dev\r\nX-Pad: "
             + b"p" * (34 << 10) + b"\r\nConnection: close\r\n\r\n")
    answer, _ = send_raw(port, small, [], timeout=20)
    assert _status(answer) == 431 and _json_error(answer)["code"] == "headers_too_large"
    tally("http_server", "refused")


XML_CASES = {
    "deep.xml": b'<?xml version="1.0"?><xmeml version="5">' + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</xmeml>",
    "deep.fcpxml": b'<?xml version="1.0"?><fcpxml version="1.9">' + b"<a>" * 200_000 + b"</a>" * 200_000
                   + b"</fcpxml>",
    "deep.kdenlive": b'<?xml version="1.0"?><mlt>' + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</mlt>",
    "cut_short.fcpxml": b'<?xml version="1.0"?><fcpxml version="1.9"><resources><format id=',
    "not_utf8.edl": b"TITLE: x\n001  AX V C 00:00:00:00 \xff\xfe 00:00:01:00\n",
    "laughs.xml": (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                   + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), bytes([97 + i]).join([b"&", b";"]) * 10)
                              for i in range(8))
                   + b']><xmeml version="5"><sequence><name>&i;</name></sequence></xmeml>'),
}


@pytest.mark.parametrize("name", sorted(XML_CASES))
def test_cli_import_refuses_hostile_xml_and_edl(name, tmp_path):
    pytest.importorskip("otio_fcp_adapter", reason="the interchange extra reads EDL and XML timelines")
    (tmp_path / name).write_bytes(XML_CASES[name])
    run = cutlite("import", name, "-o", "imported.json", "--json", cwd=tmp_path)
    _refused(run, [f"{name}: "])
    assert not (tmp_path / "imported.json").exists()
    tally("importers", "refused")


def test_a_streamed_upload_over_its_limit_is_refused_while_it_streams(client, monkeypatch):
    c, home = client
    monkeypatch.setenv("CUTLITE_MAX_UPLOAD_BYTES", str(1 << 20))
    boundary = "hostileboundary"

    def body():  # no Content-Length: the server counts
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.mp4\"\r\n"
               f"Content-Type: video/mp4\r\n\r\n").encode()
        for _ in range(4):
            yield b"\0" * (1 << 20)
        yield f"\r\n--{boundary}--\r\n".encode()
    for route in ("/media_v2/assets", "/video_render/import"):
        resp = c.post(route, content=body(), headers={**A, "content-type": f"multipart/form-data; boundary={boundary}"})
        assert resp.status_code == 413, resp.text
        assert resp.json()["error"]["code"] == "upload_too_large"
    assert not [p for p in (home / "objects").rglob("*") if p.is_file() and "big" in p.name]
    tally("http", "refused")


# ---------------------------------------------------------------- the loader itself

def loader_problems(text: str | bytes) -> list[str]:
    from engines.documents import read_json
    from engines.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        read_json(text)
    return info.value.problems


def test_the_loader_counts_only_brackets_outside_strings():
    from engines.documents import nesting_depth, read_json

    assert read_json('{"text": "' + "[{" * 10_000 + '"}') == {"text": "[{" * 10_000}
    assert nesting_depth('[[["]]]\\"]]]"]]]') == 3
    assert read_json(b"\xef\xbb\xbf" + json.dumps(project_doc()).encode())["id"] == "hostile"  # a BOM is allowed
    assert loader_problems("[" * 129 + "]" * 129) == ["$: nested 129 levels deep; at most 128 (CUTLITE_MAX_DOCUMENT_DEPTH)"]
    assert read_json("[" * 128 + "]" * 128) is not None


def test_the_loader_names_every_problem_by_its_path():
    assert loader_problems('[{"a": 1, "a": 2}, {"b c": {"d": NaN}}, "\\ud800", {"k\\u0000": 1}]') == [
        "$[0].a: given twice", '$[1]["b c"].d: NaN is not a JSON number',
        "$[2]: contains half of a surrogate pair (not a character)",
        '$[3]["k\\u0000"]: the key contains a NUL character (\\u0000)']
    # an escaped backslash before "u0000" is text, not a NUL
    from engines.documents import read_json
    assert read_json('{"a": "\\\\u0000", "b": "\\ud83d\\ude00"}') == {"a": "\\u0000", "b": "\U0001F600"}


def test_a_body_without_a_json_content_type_is_not_parsed(client):
    c, _ = client
    resp = c.post("/video_render/plan", content=b'{"project": {"a": 1, "a": 2}}', headers=A)
    assert resp.status_code == 400 and set(resp.json()["error"]) == {"code", "message", "stage", "hint", "context"}
    resp = c.post("/video_render/plan", content=b"[" * 200_000, headers={**A, "content-type": "text/plain"})
    assert resp.status_code == 400, resp.text

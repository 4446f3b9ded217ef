"""Stills and templates over HTTP, on a real ``cutlite serve``: images, stored templates, merged renders, batches."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import av
import httpx
import pytest
from conftest import A, B, auth, close, project, serve


@pytest.fixture(scope="module")
def server(tmp_path_factory, media):
    """A server whose queue holds one job: a batch's later rows must wait for it, not be refused."""
    env = {"CUTLITE_HOME": str(tmp_path_factory.mktemp("tpl-home")),
           "CUTLITE_LOCAL_ROOTS": str(Path(media["red"]).parent), "CUTLITE_MAX_QUEUED_JOBS": "1"}
    with serve(env) as base, httpx.Client(base_url=base, timeout=120) as client:
        yield client


def edit(media) -> dict:
    return project([{"id": "v", "kind": "video", "clips": [
                       {"id": "c", "asset": "clip", "start": 0, "source_in": 0, "source_out": 1}]},
                    {"id": "o", "kind": "overlay", "clips": [
                        {"id": "t", "text": "Hi {{ NAME }}", "start": 0, "duration": 1, "color": "{{ INK }}"}]}],
                   {"clip": media["red"]}, width=160, height=90)


def template(media) -> dict:
    doc = edit(media)
    doc["assets"] = {"clip": {"variable": "CLIP"}}
    doc["variables"] = {"NAME": {"type": "text"}, "INK": {"type": "color", "default": "#FFFFFF"},
                        "CLIP": {"type": "asset", "default": str(media["red"])}}
    return doc


def pixel(data: bytes, x: int, y: int) -> tuple[int, ...]:
    """The RGB of one pixel of an encoded image."""
    with av.open(io.BytesIO(data)) as c:
        return tuple(int(v) for v in next(c.decode(video=0)).to_ndarray(format="rgb24")[y, x])


def wait_done(client, job_id: str, headers=A, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        view = client.get(f"/video_render/jobs/{job_id}", headers=headers).json()
        if view["state"] in ("COMPLETED", "FAILED", "CANCELED") or time.monotonic() > deadline:
            return view
        time.sleep(0.2)


def test_a_still_is_an_image_and_several_are_a_zip(server, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "r", "asset": "red", "start": 0, "source_in": 0, "source_out": 1},
        {"id": "b", "asset": "blue", "start": 1, "source_in": 0, "source_out": 1}]}],
        {"red": media["red"], "blue": media["blue"]}, width=160, height=90)
    one = server.post("/video_render/stills", headers=A, json={"project": doc, "at": ["1/2"], "profile": "draft_360p"})
    assert one.status_code == 200 and one.headers["content-type"] == "image/png", one.text
    assert one.headers["x-cutlite-frames"] == "15" and close(pixel(one.content, 80, 45), (255, 0, 0), 30)
    many = server.post("/video_render/stills", headers=A,
                       json={"project": doc, "at": [0.5, 1.5], "profile": "draft_360p", "format": "jpeg"})
    assert many.status_code == 200 and many.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(many.content)) as z:
        assert sorted(z.namelist()) == ["still-15.jpg", "still-45.jpg"]
        assert close(pixel(z.read("still-45.jpg"), 80, 45), (0, 0, 255), 30)
    bad = server.post("/video_render/stills", headers=A, json={"project": doc, "at": [5], "profile": "draft_360p"})
    assert bad.status_code == 400 and "at[0]: 5 s is outside the timeline" in bad.json()["error"]["message"]
    other = server.post("/video_render/stills", headers=B, json={"project": doc, "at": [0]})
    assert other.status_code == 403  # acme's project with globex's key


def test_templates_are_stored_by_content_and_kept_per_tenant(server, media):
    first = server.post("/templates", headers=A, json=template(media))
    assert first.status_code == 201, first.text
    tid = first.json()["id"]
    again = server.post("/templates", headers=A, json=template(media))
    assert again.status_code == 200 and again.json()["id"] == tid
    assert server.get(f"/templates/{tid}", headers=auth("acme", role="viewer")).json()["template"] == template(media)
    assert server.get(f"/templates/{tid}", headers=B).status_code == 404  # another tenant's: not found
    broken = template(media)
    broken["variables"]["INK"] = {"type": "colour"}
    broken["tracks"][1]["clips"][0]["text"] = "{{ NOPE }}"
    refused = server.post("/templates", headers=A, json=broken)
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert "variables.INK.type: must be one of" in message and "{{ NOPE }} is not declared" in message
    assert server.post("/templates", headers=A, json=edit(media) | {"id": "plain"}).status_code == 400


def test_a_merge_renders_one_job_and_the_same_merge_is_the_same_job(server, media):
    tid = server.post("/templates", headers=A, json=template(media)).json()["id"]
    body = {"profile": "draft_360p", "merge": [{"find": "NAME", "replace": "Ana"},
                                              {"find": "CLIP", "replace": str(media["blue"])}]}
    made = server.post(f"/templates/{tid}/renders", headers=A, json=body)
    assert made.status_code == 202, made.text
    view = wait_done(server, made.json()["id"])
    assert view["state"] == "COMPLETED", view
    again = server.post(f"/templates/{tid}/renders", headers=A, json=body)
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    unknown = server.post(f"/templates/{tid}/renders", headers=A,
                          json={"profile": "draft_360p", "variables": {"NAME": "x", "CITY": "Oslo"}})
    assert unknown.status_code == 400 and "values.CITY" in unknown.json()["error"]["message"]
    both = server.post(f"/templates/{tid}/renders", headers=A, json={**body, "variables": {"NAME": "x"}})
    assert both.status_code == 400


def test_a_batch_queues_past_the_limits_and_a_bad_row_fails_alone(server, media):
    tid = server.post("/templates", headers=A, json=template(media)).json()["id"]
    rows = [{"NAME": f"row {i}"} for i in range(1, 5)]
    rows.insert(2, {"NAME": "bad", "INK": "red"})
    made = server.post(f"/templates/{tid}/renders", headers=A, json={"profile": "draft_360p", "rows": rows})
    assert made.status_code == 202, made.text
    answer = made.json()
    states = {r["row"]: r["state"] for r in answer["rows"]}
    assert states[3] == "INVALID" and "values.INK" in answer["rows"][2]["error"]["message"]
    # the queue holds one job: the first row is taken, the rest wait in order instead of a 429
    assert "WAITING" in states.values() and answer["waiting"] == sum(s == "WAITING" for s in states.values())
    # the same batch again, until every good row's job has completed: the same jobs, nothing rendered twice
    deadline = time.monotonic() + 240
    while True:
        again = server.post(f"/templates/{tid}/renders", headers=A,
                            json={"profile": "draft_360p", "rows": rows}).json()["rows"]
        if all(r["state"] == "COMPLETED" for r in again if r["row"] != 3) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert [r["state"] for r in again] == ["COMPLETED", "COMPLETED", "INVALID", "COMPLETED", "COMPLETED"], again
    assert len({r["job_id"] for r in again if r["job_id"]}) == 4

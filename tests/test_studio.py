"""The studio page (``/studio``) in a real browser, and its HTTP routes.

Browser tests drive Debian's ``chromium`` through Playwright on a real ``cutlite serve`` with a
tiny demo project made with lavfi: a red clip, a blue clip crossfading into it, both with a tone.
A screenshot of each state is kept under ``test-artifacts/studio/`` (and the test's tmp_path).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from conftest import CHROMIUM, CHROMIUM_ARGS, A, B, auth, key_secret, measure, serve

from engines.ffmpeg import samples
from engines.ffmpeg.probe import probe
from engines.studio.filmstrip import plan_filmstrip, vtt_time
from engines.studio.waveform import bucket_peaks, samples_per_bucket

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "studio"
FPS = 30
# the demo: red [0, 2), blue from 1.5 crossfading for 0.5 s, so blue [1.5, 3.5); 3.5 s in all
CLIPS = {"red": (Fraction(0), Fraction(2)), "blue": (Fraction(3, 2), Fraction(7, 2))}


# ---------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def studio(tmp_path_factory, runner):
    """(client, base URL, demo project, its folder) on a server with the demo media uploaded."""
    d = tmp_path_factory.mktemp("studio")
    red = samples.make_video(d / "red.mp4", seconds=2, width=160, height=120, color="red", tone_hz=440, runner=runner)
    blue = samples.make_video(d / "blue.mp4", seconds=2, width=160, height=120, color="blue", tone_hz=880,
                              runner=runner)
    with serve({"CUTLITE_HOME": str(d / "home")}) as base, httpx.Client(base_url=base, timeout=120) as client:
        ids = {}
        for name, path in (("red", red), ("blue", blue)):
            with open(path, "rb") as f:
                r = client.post("/media_v2/assets", headers=A, files={"file": (path.name, f, "video/mp4")})
            assert r.status_code in (200, 201), r.text
            ids[name] = r.json()["id"]
        doc = {"schema_version": 1, "id": "studio-demo", "tenant": "acme", "env": "dev",
               "settings": {"width": 160, "height": 120, "fps": FPS},
               "assets": {"red": {"asset_id": ids["red"]}, "blue": {"asset_id": ids["blue"]}},
               "tracks": [{"id": "main", "kind": "video", "clips": [
                   {"id": "c_red", "asset": "red", "start": 0, "source_in": 0, "source_out": 2},
                   {"id": "c_blue", "asset": "blue", "start": 1.5, "source_in": 0, "source_out": 2,
                    "transition_in": {"type": "crossfade", "duration": 0.5}}]}]}
        (d / "project.json").write_text(json.dumps(doc))
        yield client, base, doc, d


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="cutlite-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                        args=CHROMIUM_ARGS, accept_downloads=True,
                                                        viewport={"width": 1280, "height": 800})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


def open_studio(p, base: str, folder: Path) -> None:
    """The studio opened, acme's editor key typed into its key form, the demo project loaded."""
    p.goto(base + "/studio")
    p.fill("#key", key_secret("acme", role="editor"))
    p.click("#key-save")
    p.wait_for_selector("body[data-scope='acme/dev']", timeout=20000)
    p.set_input_files("#project-file", str(folder / "project.json"))


@pytest.fixture
def page(browser_context, studio):
    """The studio opened with acme's key and the demo project loaded."""
    _, base, _, folder = studio
    p = browser_context.new_page()
    requests: list = []
    p.on("request", lambda r: requests.append(r))
    open_studio(p, base, folder)
    p.wait_for_selector("body[data-loaded='studio-demo']", timeout=20000)
    p.requests = requests  # type: ignore[attr-defined]
    yield p
    p.close()


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, ARTIFACTS / path.name)


FRAME_COLOUR = """async (t) => {
  const v = document.getElementById('player');
  v.pause();
  const covered = () => { for (let i = 0; i < v.buffered.length; i++)
    if (v.buffered.start(i) <= t + 0.05 && v.buffered.end(i) >= t + 0.1) return true; return false; };
  for (let i = 0; i < 300 && !covered(); i++) await new Promise((r) => setTimeout(r, 50));  // still encoding
  await new Promise((done) => { v.addEventListener('seeked', done, {once: true}); v.currentTime = t; });
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const d = g.getImageData(c.width >> 1, c.height >> 1, 1, 1).data;
  return [d[0], d[1], d[2]];
}"""


def wait_playing_past(page, seconds: float) -> None:
    page.wait_for_function(f"() => {{ const v = document.getElementById('player'); "
                           f"return !v.paused && v.currentTime > {seconds}; }}", timeout=30000)


def close_to(rgb, want, tol=40) -> bool:
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))


# ---------------------------------------------------------------------------- in the browser

def test_the_page_loads_the_demo_and_draws_its_clips_at_their_times(page, tmp_path):
    lane = page.locator(".lane[data-track='main']")
    pps = float(lane.get_attribute("data-px-per-second"))
    lane_box = lane.bounding_box()
    for clip, (start, end) in (("c_red", CLIPS["red"]), ("c_blue", CLIPS["blue"])):
        box = page.locator(f".clip[data-clip='{clip}']").bounding_box()
        assert abs(box["x"] - lane_box["x"] - float(start) * pps) <= 1.5, (clip, box, lane_box, pps)
        assert abs(box["width"] - float(end - start) * pps) <= 1.5, (clip, box, pps)
    fade = page.locator(".transition[data-transition='crossfade']").bounding_box()
    assert abs(fade["x"] - lane_box["x"] - 1.5 * pps) <= 1.5 and abs(fade["width"] - 0.5 * pps) <= 1.5
    assert page.locator("#ruler .tick").count() >= 4
    # the filmstrip tiles come from the sprite, the waveform is drawn from the peaks
    page.wait_for_function("() => document.querySelectorAll('.clip .strip div').length >= 4", timeout=20000)
    assert "blob:" in page.locator(".clip[data-clip='c_red'] .strip div").first.evaluate(
        "d => d.style.backgroundImage")
    page.wait_for_function("""() => { const c = document.querySelector(".clip[data-clip='c_red'] canvas.wave");
        if (!c || !c.width) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }""", timeout=20000)
    shot(page, tmp_path, "1-loaded")
    secret = key_secret("acme", role="editor")
    keyless = [r.url for r in page.requests if "/studio/api/" in r.url or "/video_render/" in r.url
               if r.headers.get("authorization") != f"Bearer {secret}"]
    assert keyless == []
    assert not [r.url for r in page.requests if secret in r.url]  # the key is never in a URL


def test_the_player_plays_the_window_and_shows_the_right_colour(page, tmp_path):
    page.click("#play")
    wait_playing_past(page, 0.4)
    assert page.evaluate("() => window.studio.session.window.start_seconds") == 0
    shot(page, tmp_path, "2-playing")
    assert close_to(page.evaluate(FRAME_COLOUR, 0.5), (255, 0, 0))   # 0.5 s: the red clip
    assert close_to(page.evaluate(FRAME_COLOUR, 3.0), (0, 0, 255))   # 3.0 s: the blue one
    assert float(page.locator("#playhead").get_attribute("data-seconds")) >= 0.4


def test_scrubbing_moves_the_playhead_and_plays_that_time(page, tmp_path):
    lane = page.locator("#ruler")
    pps = float(lane.get_attribute("data-px-per-second"))
    box = lane.bounding_box()
    clicked = time.monotonic()
    page.mouse.click(box["x"] + 2.9 * pps, box["y"] + box["height"] / 2)
    page.wait_for_function("() => window.studio.session && window.studio.session.window.start_seconds > 2.8",
                           timeout=30000)
    start = page.evaluate("() => window.studio.session.window.start_seconds")
    assert abs(start - 2.9) <= 1 / FPS
    wait_playing_past(page, 0.0)
    scrub_to_play = time.monotonic() - clicked          # the click to the new window playing
    session = page.evaluate("() => window.studio.session")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "scrub.json").write_text(json.dumps({
        "scrub_to_play_ms": round(scrub_to_play * 1000), "first_segment_ms": session["first_segment_ms"],
        "estimated_latency_ms": session["estimated_latency_ms"]}))
    assert scrub_to_play < 10, scrub_to_play
    # the scrubbed frame itself came first, as a still (the player's poster): 2.9 s is frame 87 at draft_360p
    still = page.evaluate("() => window.studio.still")
    assert still["frame"] == 87 and still["url"].startswith("blob:")
    assert page.evaluate("() => document.getElementById('player').poster") == still["url"]
    wait_playing_past(page, 0.2)
    assert float(page.locator("#playhead").get_attribute("data-seconds")) >= 3.0
    shot(page, tmp_path, "3-scrubbed")
    assert close_to(page.evaluate(FRAME_COLOUR, 0.1), (0, 0, 255))   # 3.0 s on the timeline: blue


def test_a_render_started_from_the_page_completes_and_downloads(page, tmp_path):
    page.select_option("#profile", "draft_360p")
    page.click("#render")
    page.wait_for_selector("#render-state[data-state='COMPLETED']", timeout=60000)
    assert page.locator("#render-progress").evaluate("p => p.value") == 1
    shot(page, tmp_path, "4-rendered")
    with page.expect_download(timeout=30000) as info:
        page.click("#download")
    out = tmp_path / "download.mp4"
    info.value.save_as(str(out))
    m = measure(out)
    # draft_360p keeps a 30 fps project at 30 fps: 3.5 s is 105 frames, as the job planned
    assert m.frames == 105 == page.evaluate("() => window.studio.job.frames")
    assert (m.width, m.height, m.fps) == (160, 120, 30)
    assert close_to(m.rgb(12, 80, 60), (255, 0, 0)) and close_to(m.rgb(72, 80, 60), (0, 0, 255))


def test_keyframes_show_as_markers_at_their_times_and_the_preview_moves_the_clip(page, tmp_path, studio):
    """A marker per key of each animated field, at the key's timeline time; the preview of the
    window shows the moved picture (the red clip slid right by 1 s: the left edge shows background)."""
    _, _, doc, folder = studio
    moving = json.loads(json.dumps(doc))
    moving["id"] = "studio-motion"
    red = moving["tracks"][0]["clips"][0]
    red["x"] = [{"t": 0, "value": 0.5, "ease": "ease_in_out"}, ["1/2", 1.5]]
    red["scale"] = [[0, 1], [1, 0.5]]
    red["filters"] = [{"type": "color", "brightness": 0}]  # listed, and leaves the red red
    red["mask"] = {"shape": "ellipse", "width": 2, "height": 2}  # wider than the picture: nothing cut off
    (folder / "motion.json").write_text(json.dumps(moving))
    page.set_input_files("#project-file", str(folder / "motion.json"))
    page.wait_for_selector("body[data-loaded='studio-motion']", timeout=20000)
    lane_box = page.locator(".lane[data-track='main']").bounding_box()
    pps = float(page.locator(".lane[data-track='main']").get_attribute("data-px-per-second"))
    markers = page.locator(".clip[data-clip='c_red'] .kf")
    assert markers.count() == 4
    at = sorted((m.get_attribute("data-field"), m.get_attribute("data-at")) for m in markers.all())
    assert at == [("scale", "0"), ("scale", "1"), ("x", "0"), ("x", "1/2")]
    for m in markers.all():
        box = m.bounding_box()
        centre = box["x"] + box["width"] / 2 - lane_box["x"]
        assert abs(centre - float(Fraction(m.get_attribute("data-at"))) * pps) <= 2, (centre, pps)
    assert "ease_in_out" in page.locator(".clip[data-clip='c_red'] .kf[data-field='x']").first.get_attribute("title")
    looks = page.locator(".clip[data-clip='c_red'] .look")  # its effects on the clip, in drawing order
    assert [looks.nth(i).get_attribute("data-look") for i in range(looks.count())] == ["color", "mask: ellipse"]
    assert "brightness: 0" in looks.first.get_attribute("title")
    page.click("#play")
    wait_playing_past(page, 0.2)
    shot(page, tmp_path, "keyframes")
    assert close_to(page.evaluate(FRAME_COLOUR, 0.1), (255, 0, 0))    # still near the middle
    assert close_to(page.evaluate(FRAME_COLOUR, 0.8), (0, 0, 0))      # slid right: the middle is background


def test_a_broken_project_shows_its_error(page, tmp_path, studio):
    _, _, doc, folder = studio
    broken = json.loads(json.dumps(doc))
    broken["tracks"][0]["clips"][0]["speed"] = 50
    broken["tracks"][0]["clips"][1]["transition_in"]["type"] = "crossfad"
    (folder / "broken.json").write_text(json.dumps(broken))
    page.set_input_files("#project-file", str(folder / "broken.json"))
    page.wait_for_selector("#error:not([hidden])", timeout=10000)
    message = page.locator("#error .message").inner_text()
    problems = page.locator("#error .problems li").all_inner_texts()
    assert "tracks[0].clips[0].speed" in message
    assert any("speed: must be between 0.1 and 16" in p for p in problems), problems
    shot(page, tmp_path, "5-broken")


def test_missing_media_shows_beside_the_player_as_a_warning(page, tmp_path, studio):
    _, _, doc, folder = studio
    ghost = json.loads(json.dumps(doc))
    ghost["id"] = "studio-ghost"
    ghost["assets"]["ghost"] = {"asset_id": "ast_" + "0" * 20}
    ghost["tracks"].append({"id": "over", "kind": "overlay", "clips": [
        {"id": "g1", "asset": "ghost", "start": 0, "source_in": 0, "source_out": 1}]})
    (folder / "ghost.json").write_text(json.dumps(ghost))
    page.set_input_files("#project-file", str(folder / "ghost.json"))
    page.wait_for_selector("body[data-loaded='studio-ghost']", timeout=20000)
    assert "missing" in page.locator(".clip[data-clip='g1']").get_attribute("class")
    page.click("#play")
    wait_playing_past(page, 0.2)
    warnings = page.locator("#warnings li").all_inner_texts()
    assert any("assets.ghost" in w and "slate" in w for w in warnings), warnings
    shot(page, tmp_path, "6-warnings")


def test_without_mse_the_browsers_own_hls_player_plays_with_the_session_cookie(browser_context, studio, tmp_path):
    _, base, _, folder = studio
    p = browser_context.new_page()
    try:   # as on iOS: no Media Source Extensions, so no hls.js; Chromium has its own HLS player
        p.add_init_script("for (const k of ['MediaSource', 'ManagedMediaSource', 'WebKitMediaSource']) "
                          "Object.defineProperty(window, k, {value: undefined});")
        open_studio(p, base, folder)
        p.wait_for_selector("body[data-loaded='studio-demo']", timeout=20000)
        assert p.evaluate("() => Hls.isSupported()") is False
        p.click("#play")
        wait_playing_past(p, 0.3)
        assert "?" not in p.evaluate("() => document.getElementById('player').currentSrc")
        cookie = next(c for c in browser_context.cookies() if c["name"] == "cutlite_studio")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert key_secret("acme", role="editor") not in cookie["value"]
        shot(p, tmp_path, "7-native-hls")
        assert close_to(p.evaluate(FRAME_COLOUR, 0.5), (255, 0, 0))
    finally:
        p.close()


def test_another_editors_file_goes_through_the_import(page, studio):
    _, _, doc, folder = studio
    (folder / "draft.otio").write_text("{}")
    imported = json.loads(json.dumps(doc))
    imported["id"] = "from-otio"
    page.route("**/video_render/import", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({"project": imported, "warnings": ["tracks[0]: an effect was left out"]})))
    page.set_input_files("#project-file", str(folder / "draft.otio"))
    page.wait_for_selector("body[data-loaded='from-otio']", timeout=20000)
    assert "an effect was left out" in " ".join(page.locator("#warnings li").all_inner_texts())


def test_without_the_import_route_the_page_says_so(page, studio):
    folder = studio[3]
    (folder / "draft.otio").write_text("{}")
    page.route("**/video_render/import", lambda route: route.fulfill(
        status=404, content_type="application/json",
        body=json.dumps({"error": {"code": "http_error", "message": "Not Found", "stage": "request", "hint": None,
                                   "context": {}}})))
    page.set_input_files("#project-file", str(folder / "draft.otio"))
    page.wait_for_selector("#error:not([hidden])", timeout=10000)
    assert "cannot import other formats" in page.locator("#error .message").inner_text()
    assert "cutlite import" in page.locator("#error .hint").inner_text()


def test_the_page_asks_for_a_key_and_a_wrong_one_is_refused(browser_context, studio):
    p = browser_context.new_page()
    try:
        p.goto(studio[1] + "/studio")
        p.wait_for_selector("#key-form:not([hidden])", timeout=10000)
        assert "needs an API key" in p.locator("#error .message").inner_text()
        assert "cutlite keys create" in p.locator("#error .hint").inner_text()
        p.fill("#key", "cl_" + "0" * 64)
        p.click("#key-save")
        p.wait_for_function("() => document.querySelector('#error .message').textContent.includes('unknown or revoked')",
                            timeout=10000)
        assert p.locator("#key-form").is_visible()
        assert p.evaluate("() => sessionStorage.getItem('cutlite.key')") is None
    finally:
        p.close()


# ---------------------------------------------------------------------------- HTTP

def test_timeline_lists_clips_at_exact_times_and_assets_without_paths(studio):
    client, _, doc, folder = studio
    r = client.post("/studio/api/timeline", headers=A, json={"project": doc})
    assert r.status_code == 200, r.text
    view = r.json()
    clips = {c["id"]: c for c in view["tracks"][0]["clips"]}
    assert (clips["c_red"]["start"], clips["c_red"]["end"]) == ("0", "2")
    assert (clips["c_blue"]["start"], clips["c_blue"]["end"]) == ("3/2", "7/2")
    assert clips["c_blue"]["transition"] == {"type": "crossfade", "start_seconds": 1.5, "end_seconds": 2.0}
    assert view["duration"] == "7/2" and view["assets"]["red"]["has_audio"] is True
    assert str(folder) not in r.text
    assert clips["c_red"]["keyframes"] == [] and clips["c_blue"]["keyframes"] == []
    moving = json.loads(json.dumps(doc))
    moving["tracks"][0]["clips"][1]["rotation"] = [[0, 0], {"t": 1, "value": 90, "ease": [0.2, 0, 0.4, 1]}]
    r = client.post("/studio/api/timeline", headers=A, json={"project": moving})
    keys = {c["id"]: c for c in r.json()["tracks"][0]["clips"]}["c_blue"]["keyframes"]
    assert keys == [{"field": "rotation", "exact": "3/2", "seconds": 1.5, "value": 0.0, "ease": "linear"},
                    {"field": "rotation", "exact": "5/2", "seconds": 2.5, "value": 90.0, "ease": [0.2, 0.0, 0.4, 1.0]}]
    assert clips["c_red"]["looks"] == []


def test_timeline_lists_each_clips_looks_in_drawing_order(studio):
    client, _, doc, _ = studio
    looked = json.loads(json.dumps(doc))
    blue = looked["tracks"][0]["clips"][1]
    blue["filters"] = [{"type": "color", "brightness": [[0, 0], [1, 0.2]]}]
    blue["mask"] = {"shape": "rectangle", "width": 0.5, "invert": True}
    blue["blend"] = "screen"
    r = client.post("/studio/api/timeline", headers=A, json={"project": looked})
    assert r.status_code == 200, r.text
    clip = {c["id"]: c for c in r.json()["tracks"][0]["clips"]}["c_blue"]
    assert [look["label"] for look in clip["looks"]] == ["color", "mask: rectangle (inverted)", "blend: screen"]
    assert clip["looks"][0]["fields"] == {"brightness": [["0", 0.0], ["1", 0.2]]}
    assert clip["looks"][1]["fields"] == {"shape": "rectangle", "width": 0.5, "invert": True}
    assert [k["field"] for k in clip["keyframes"]] == ["filters[0].brightness", "filters[0].brightness"]


@pytest.mark.parametrize("method,path", [
    ("POST", "/studio/api/timeline"), ("POST", "/studio/api/previews"), ("GET", "/studio/api/projects"),
    ("GET", "/studio/api/assets/ast_00000000000000000000/waveform.json"),
    ("GET", "/studio/api/assets/ast_00000000000000000000/filmstrip.jpg"),
    ("GET", "/studio/api/jobs/job_x0000/output")])
def test_a_request_without_a_key_is_401(studio, method, path):
    client = studio[0]
    r = client.request(method, path, headers={"X-Tenant": "acme", "X-Env": "dev"}, json={"project": {}})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_filmstrip_is_a_tiled_sprite_with_xywh_cues_made_once(studio):
    client, _, doc, folder = studio
    red = doc["assets"]["red"]["asset_id"]
    cues = client.get(f"/studio/api/assets/{red}/filmstrip.vtt", headers=A)
    assert cues.status_code == 200, cues.text
    assert cues.text.splitlines()[:4] == ["WEBVTT", "", "00:00:00.000 --> 00:00:01.000", "filmstrip.jpg#xywh=0,0,72,54"]
    sprite = client.get(f"/studio/api/assets/{red}/filmstrip.jpg", headers=A)
    (folder / "sprite.jpg").write_bytes(sprite.content)
    with av.open(str(folder / "sprite.jpg")) as c:
        pic = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert pic.shape == (54, 144, 3)                       # 2 s: two 72x54 tiles side by side
    assert close_to(tuple(int(x) for x in pic[27, 36]), (255, 0, 0))
    arts = client.get(f"/media_v2/assets/{red}/artifacts", headers=A, params={"kind": "filmstrip"}).json()["artifacts"]
    again = client.get(f"/studio/api/assets/{red}/filmstrip.jpg", headers=A)
    assert again.content == sprite.content
    assert client.get(f"/media_v2/assets/{red}/artifacts", headers=A,
                      params={"kind": "filmstrip"}).json()["artifacts"] == arts   # reused, not made again
    assert sorted(a["key"].rsplit("/", 1)[1] for a in arts) == ["filmstrip.jpg", "filmstrip.vtt"]


def test_waveform_peaks_follow_the_tone(studio):
    client, _, doc, _ = studio
    red = doc["assets"]["red"]["asset_id"]
    r = client.get(f"/studio/api/assets/{red}/waveform.json", headers=A)
    assert r.status_code == 200, r.text
    peaks = r.json()
    assert (peaks["version"], peaks["channels"], peaks["bits"]) == (2, 1, 8)
    assert abs(peaks["length"] - 200) <= 3                          # 2 s at 100 pairs a second
    highs = peaks["data"][1::2][10:-10]
    assert all(abs(h - 16) <= 3 for h in highs), highs[:10]        # lavfi's sine: amplitude 1/8


def test_other_tenants_see_no_asset_session_or_job(studio):
    client, _, doc, _ = studio
    red = doc["assets"]["red"]["asset_id"]
    assert client.get(f"/studio/api/assets/{red}/waveform.json", headers=B).status_code == 404
    assert client.get(f"/studio/api/assets/{red}/filmstrip.vtt", headers=B).status_code == 404
    s = client.post("/studio/api/previews", headers=A, json={"project": doc, "start": 1})
    assert s.status_code == 201, s.text
    session = s.json()
    for path in (f"/studio/api/previews/{session['session']}", session["playlist"]):
        assert client.get(path, headers=B).status_code == 404
    other = json.loads(json.dumps(doc))
    other["tenant"] = "globex"
    assert client.post("/studio/api/previews", headers=A, json={"project": other}).status_code == 403
    jobs = client.get("/video_render/jobs", headers=A).json()["jobs"]
    done = [j["id"] for j in jobs if j["state"] == "COMPLETED"] or ["job_x0000"]
    assert client.get(f"/studio/api/jobs/{done[0]}/output", headers=B).status_code == 404


def test_a_preview_session_serves_its_playlist_by_name_and_leaks_no_path(studio):
    client, _, doc, folder = studio
    r = client.post("/studio/api/previews", headers=A, json={"project": doc, "start": "1/2", "end": 2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["window"]["start"] == "1/2" and body["window"]["end"] == "2"
    assert body["playlist"] == f"/studio/api/previews/{body['session']}/index.m3u8"
    playlist = client.get(body["playlist"], headers=A).text
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    assert segment == "seg_00000.ts"
    assert client.get(body["playlist"].replace("index.m3u8", segment), headers=A).status_code == 200
    # a browser's own HLS player cannot send headers: the studio session's cookie lets it through
    assert client.get(body["playlist"], params={"tenant": "acme", "env": "dev"}).status_code == 401
    with httpx.Client(base_url=str(client.base_url)) as browser:
        assert browser.get(body["playlist"]).status_code == 401
        opened = browser.post("/studio/api/session", headers=auth("acme", role="viewer"))
        assert opened.json() == {"tenant": "acme", "env": "dev", "role": "viewer", "key_id": opened.json()["key_id"]}
        assert "httponly" in opened.headers["set-cookie"].lower() and "samesite=strict" in opened.headers["set-cookie"].lower()
        # the same playlist (its segments still appear as they are encoded: it may have grown since)
        assert browser.get(body["playlist"]).text.startswith(playlist)
        assert browser.get(body["playlist"].replace("index.m3u8", segment)).status_code == 200
        assert browser.post("/studio/api/previews", json={"project": doc}).status_code == 401  # reads only
        browser.cookies.set("cutlite_studio", browser.cookies["cutlite_studio"][:-1] + "0", path="/studio/api/")
    with httpx.Client(base_url=str(client.base_url), cookies={"cutlite_studio": "key_x.9999999999.00"}) as forged:
        assert forged.get(body["playlist"]).status_code == 401
    assert client.get(body["playlist"].replace("index.m3u8", "..%2F..%2Fetc%2Fpasswd"), headers=A).status_code == 404
    status = client.get(f"/studio/api/previews/{body['session']}", headers=A)
    for text in (r.text, status.text, playlist):
        assert str(folder) not in text and "cutlite-studio-" not in text and "/tmp" not in text


def test_recent_projects_come_from_the_tenants_jobs(studio):
    client, _, doc, _ = studio
    job = client.post("/video_render/jobs", headers=A, json={"project": doc, "profile": "draft_360p"}).json()
    listed = client.get("/studio/api/projects", headers=A).json()["projects"]
    assert any(p["id"] == "studio-demo" for p in listed)
    assert client.get("/studio/api/projects", headers=B).json()["projects"] == []
    got = client.get(f"/studio/api/projects/{job['id']}", headers=A).json()["project"]
    assert got["id"] == "studio-demo"
    assert client.get(f"/studio/api/projects/{job['id']}", headers=B).status_code == 404


def test_the_page_and_its_vendored_player_are_served(studio):
    client = studio[0]
    page = client.get("/studio", params={"tenant": "acme", "env": "dev"})
    assert page.status_code == 200 and "/studio/static/vendor/hls.min.js" in page.text
    hls = client.get("/studio/static/vendor/hls.min.js")
    assert hls.status_code == 200 and len(hls.content) > 100_000
    assert client.get("/studio/static/vendor/hls.js.LICENSE").status_code == 200
    assert client.get("/studio/static/../routes.py").status_code == 404


# ---------------------------------------------------------------------------- pure parts

def test_filmstrip_plan_tiles_one_thumbnail_a_second(media):
    plan = plan_filmstrip(probe(media["red"]))                       # 4 s, 320x240
    assert (plan.count, plan.columns, plan.rows, plan.tile_width, plan.tile_height) == (4, 4, 1, 72, 54)
    assert "fps=1,scale=72:54,setsar=1,tile=4x1" in plan.args[plan.args.index("-vf") + 1]
    assert plan.cues().splitlines()[-2:] == ["00:00:03.000 --> 00:00:04.000", "filmstrip.jpg#xywh=216,0,72,54"]


def test_vtt_times_floor_to_the_millisecond():
    assert vtt_time(Fraction(3661, 1) + Fraction(1001, 30000)) == "01:01:01.033"


def test_bucket_peaks_are_min_max_pairs_across_block_edges():
    blocks = [np.array([0.0, 0.5, -0.5]), np.array([1.0, -1.0, 0.25, 0.1])]
    assert bucket_peaks(blocks, 3) == [-64, 64, -127, 127, 13, 13]
    assert samples_per_bucket(10) == 160 and samples_per_bucket(4 * 3600) > 160

"""The proxy ladder: generation, reuse by cache key, crash safety and concurrency."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import pytest
from conftest import REAL_MEDIA, needs_real_media, project, write_project

from engines.ffmpeg import samples
from engines.ffmpeg.probe import probe
from engines.ffmpeg.profiles import get_profile
from engines.ffmpeg.runner import FFmpegRunner
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.model.project import load_project
from engines.planning.plan import build_plan
from engines.video_render.service import RenderService, ensure_proxies_for_project


def make_library(root: Path) -> MediaLibrary:
    return MediaLibrary(Registry(f"sqlite:///{root / 'cutlite.db'}"), stores={"dev": LocalStore(root / "objects")})


class CountingRunner(FFmpegRunner):
    """The real runner, counting proxy encodes."""

    def __init__(self) -> None:
        super().__init__()
        self.proxy_runs = 0

    def run(self, args, *, stage, **kw):  # noqa: ANN001
        if stage == "proxy":
            self.proxy_runs += 1
        return super().run(args, stage=stage, **kw)


@pytest.fixture
def ladder_env(tmp_path):
    library = make_library(tmp_path / "home")
    runner = CountingRunner()
    return library, RenderService(runner, library=library), runner


def two_clip_project(tmp_path, media):
    doc = project([
        {"id": "v", "kind": "video", "clips": [
            {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1},
            {"id": "b", "asset": "rot", "start": 1, "source_in": 0, "source_out": 1}]},
        {"id": "o", "kind": "overlay", "clips": [{"id": "l", "asset": "logo", "start": 0, "duration": 1}]},
    ], {"red": media["red"], "rot": media["rotated"], "logo": media["logo"]})
    return write_project(tmp_path, doc)


def test_first_call_creates_second_reuses_quickly(ladder_env, media, tmp_path):
    library, service, runner = ladder_env
    proj = two_clip_project(tmp_path, media)
    first = {o.asset: o for o in ensure_proxies_for_project(proj, service=service)}
    assert {k: o.status for k, o in first.items()} == {"red": "created", "rot": "created", "logo": "not_needed"}
    started = time.monotonic()
    second = {o.asset: o for o in ensure_proxies_for_project(proj, service=service)}
    assert {k: o.status for k, o in second.items()} == {"red": "reused", "rot": "reused", "logo": "not_needed"}
    assert time.monotonic() - started < 1.0
    assert runner.proxy_runs == 2
    assert second["red"].key == first["red"].key


def test_proxy_key_meta_and_picture(ladder_env, media, tmp_path):
    library, service, _ = ladder_env
    out = {o.asset: o for o in ensure_proxies_for_project(two_clip_project(tmp_path, media), service=service)}
    rot = out["rot"]
    assert rot.key == f"tenants/acme/dev/media_v2/{rot.asset_id}/proxy_draft_360p.mp4"
    art = library.registry.artifacts("acme", "dev", rot.asset_id, kind="proxy")[0]
    assert art.meta["profile_name"] == "draft_360p" and art.meta["source_asset_id"] == rot.asset_id
    assert art.meta["hw_encoder_used"] == "libx264" and art.meta["ffmpeg_version"]
    info = probe(library.store("dev").local_path(rot.key))
    # stored 160x96 with "turn 90 clockwise": the proxy is upright 96x160, no rotation left
    assert info.video.display_size == (96, 160) and info.video.rotation == 0
    assert info.video.pix_fmt == "yuv420p" and art.size == info.size_bytes


def test_a_proxy_is_planned_from_the_registered_facts_and_keeps_its_own(ladder_env, media, tmp_path, monkeypatch):
    """Generation reads the source's facts from its registration (no second probe of the source);
    the proxy's own facts go into its meta, for previews; facts from an older probe are probed."""
    import engines.rendering.proxies as proxies_module
    library, service, _ = ladder_env
    probed = []
    monkeypatch.setattr(proxies_module, "probe", lambda p: probed.append(Path(p).name) or probe(p))
    out = {o.asset: o for o in ensure_proxies_for_project(two_clip_project(tmp_path, media), service=service)}
    assert sorted(probed) == ["proxy.mp4", "proxy.mp4"]  # each output once, no source
    art = library.registry.artifacts("acme", "dev", out["rot"].asset_id, kind="proxy")[0]
    assert art.meta["facts"] == probe(library.store("dev").local_path(art.key)).facts()
    asset = library.get_asset("acme", "dev", out["red"].asset_id)
    older = asset.model_copy(update={"probe": {k: v for k, v in asset.probe.items() if k != "stream_count"}})
    from engines.media_v2.library import registered_facts
    source = library.source_path(asset)
    assert registered_facts(asset, source) == probe(source)
    assert registered_facts(older, source) is None


def test_a_render_reads_registered_sources_from_their_facts(ladder_env, media, tmp_path):
    """A plan of registered assets (a render, each worker rebuilding a job) takes their facts from
    the registration; the same facts a probe gives, so the same plan on every machine."""
    from engines.rendering.sources import gather_sources
    library, service, _ = ladder_env
    red, _ = library.register_file("acme", "dev", media["red"])
    tone, _ = library.register_file("acme", "dev", media["tone"])
    doc = project([{"id": "v", "kind": "video", "clips": [
                       {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1}]},
                   {"id": "m", "kind": "audio", "clips": [
                       {"id": "t", "asset": "bed", "start": 0, "source_in": 0, "source_out": 1}]}],
                  {"red": media["red"], "bed": media["tone"]})
    doc["assets"] = {"red": {"asset_id": red.id}, "bed": {"asset_id": tone.id}}
    proj = load_project(doc)
    probed = []
    sources = gather_sources(proj, tmp_path, lookup=library.lookup, facts=library.facts_of,
                             prober=lambda p: probed.append(p) or probe(p))
    assert probed == [] and not sources.problems
    assert sources.media == {name: probe(info.path) for name, info in sources.media.items()}
    probed_sources = gather_sources(proj, tmp_path, lookup=library.lookup)  # every source probed
    profile = get_profile("draft_360p")
    decision = service.decide(profile, "cpu")
    assert build_plan(proj, sources, profile, decision).plan_hash == \
        build_plan(proj, probed_sources, profile, decision).plan_hash


def test_a_proxy_whose_object_vanished_is_made_again(ladder_env, media, tmp_path):
    library, service, runner = ladder_env
    proj = two_clip_project(tmp_path, media)
    first = {o.asset: o for o in ensure_proxies_for_project(proj, service=service)}
    library.store("dev").delete(first["red"].key)
    again = {o.asset: o for o in ensure_proxies_for_project(proj, service=service)}
    assert again["red"].status == "created" and again["rot"].status == "reused"
    assert library.store("dev").exists(first["red"].key)


def test_missing_source_object_is_a_failed_outcome_not_a_crash(ladder_env, media, tmp_path):
    library, service, _ = ladder_env
    proj = two_clip_project(tmp_path, media)
    asset, _ = library.register_file("acme", "dev", media["red"])
    library.store("dev").delete(asset.source_key)
    out = {o.asset: o for o in ensure_proxies_for_project(proj, service=service)}
    # the project's path asset re-registers the same bytes and restores the source object
    assert out["red"].status == "created"
    doc = json.loads(proj.read_text())
    doc["assets"]["red"] = {"asset_id": asset.id}
    library.store("dev").delete(asset.source_key)
    library.store("dev").delete(out["red"].key)
    out = {o.asset: o for o in ensure_proxies_for_project(doc, service=service, base_dir=tmp_path)}
    assert out["red"].status == "failed" and "missing from the store" in out["red"].detail
    assert out["rot"].status == "reused"


def test_time_window_only_touches_assets_in_it(ladder_env, media, tmp_path):
    _, service, runner = ladder_env
    out = ensure_proxies_for_project(two_clip_project(tmp_path, media), service=service, start=1, end=2)
    assert [(o.asset, o.status) for o in out] == [("rot", "created")]


def test_concurrent_requests_generate_one_proxy(tmp_path, media):
    proj = two_clip_project(tmp_path, media)
    home = tmp_path / "home"
    runners = [CountingRunner(), CountingRunner()]
    results: list[list] = [[], []]
    barrier = threading.Barrier(2)

    def go(i: int) -> None:
        library = make_library(home)  # each caller has its own registry connection and store
        service = RenderService(runners[i], library=library)
        barrier.wait()
        results[i] = ensure_proxies_for_project(proj, service=service)

    threads = [threading.Thread(target=go, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert runners[0].proxy_runs + runners[1].proxy_runs == 2  # red and rot, once each
    for name in ("red", "rot"):
        statuses = sorted(next(o.status for o in r if o.asset == name) for r in results)
        assert statuses == ["created", "reused"]


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _proxy_ffmpegs() -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"cutlite-proxy-" in cmd and b"ffmpeg" in cmd and _state(int(proc.name)) not in (None, "Z"):
                pids.append(int(proc.name))
    return pids


def test_kill_9_during_generation_leaves_no_artifact_and_no_ffmpeg(tmp_path, runner):
    long_clip = samples.make_video(tmp_path / "long.mp4", seconds=40, width=1280, height=720, pattern="testsrc2",
                                   runner=runner)
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "long", "start": 0, "source_in": 0, "source_out": 40}]}], {"long": long_clip})
    proj = write_project(tmp_path, doc)
    env = dict(os.environ, CUTLITE_HOME=str(tmp_path / "home"))
    cmd = [sys.executable, "-m", "engines.cli", "proxies", str(proj), "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not _proxy_ffmpegs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _proxy_ffmpegs(), "the proxy encode never started"
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while _proxy_ffmpegs() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _proxy_ffmpegs() == [], "ffmpeg outlived the killed process"
    library = make_library(tmp_path / "home")
    asset = library.registry.find_by_hash("acme", "dev", __import__("hashlib").sha256(long_clip.read_bytes()).hexdigest())
    assert asset is not None  # the source was registered before the encode began
    assert library.registry.artifacts("acme", "dev", asset.id, kind="proxy") == []
    objects = [p.name for p in (tmp_path / "home" / "objects").rglob("*") if p.is_file()]
    assert objects == ["source.mp4"]  # no proxy, no temporary file in the store
    # a new run takes over the dead process's lease at once and makes the proxy
    started = time.monotonic()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["status"] == "created"
    assert time.monotonic() - started < 60


REAL = REAL_MEDIA / "video"


@needs_real_media
@pytest.mark.parametrize("name,size,audio", [
    ("androidx_iphone_hlg_dovi_portrait_editlist.mp4", (360, 640), True),  # rotated iPhone HDR
    ("mediabunny_cursed-vfr_screenrec.mp4", (786, 360), False),           # VFR screen recording
    ("moviepy_no_duration.webm", (640, 360), True),                       # webm without duration
    ("dvtoolbox_sony_dcr-trv460_ntsc_interlaced.dv", (480, 360), True),   # interlaced DV, SAR 8:9
    ("androidx_8k24fps_300ms.mp4", (640, 360), True),                     # 8K HEVC
])
def test_real_media_proxies_are_upright_sdr_and_scrubbable(ladder_env, tmp_path, name, size, audio):
    library, service, _ = ladder_env
    info = probe(REAL / name)
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "src", "start": 0, "source_in": 0, "source_out": str(info.duration)}]}],
        {"src": REAL / name})
    (out,) = ensure_proxies_for_project(write_project(tmp_path, doc), service=service)
    assert out.status == "created", out.detail
    path = library.store("dev").local_path(out.key)
    p = probe(path)
    assert p.video.display_size == size and p.video.rotation == 0 and p.video.sar == 1
    assert p.video.pix_fmt == "yuv420p" and not p.video.is_hdr and not p.video.interlaced
    assert (p.audio is not None) is audio
    with av.open(str(path)) as c:
        keyframes = [i for i, pkt in enumerate(c.demux(c.streams.video[0])) if pkt.size and pkt.is_keyframe]
    assert keyframes[0] == 0 and all(b - a <= 15 for a, b in zip(keyframes, keyframes[1:]))

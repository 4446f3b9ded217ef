"""The preview service: strategies, proxy enforcement, fallbacks, slates, windows, estimates, HLS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest
from conftest import close, measure, project, write_project

from engines.errors import AssetNotReady, FFmpegError, FFmpegTimeout, ValidationError
from engines.ffmpeg import samples
from engines.ffmpeg.runner import FFmpegRunner
from engines.media_v2.library import MediaLibrary
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.model.project import load_project
from engines.video_preview.latency import LatencyModel, calibrate
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService, ensure_proxies_for_project

SLATE_GREY = (58, 58, 58)


@pytest.fixture
def svc(tmp_path):
    root = tmp_path / "home"
    library = MediaLibrary(Registry(f"sqlite:///{root / 'cutlite.db'}"), stores={"dev": LocalStore(root / "objects")})
    return RenderService(FFmpegRunner(), library=library)


def previews(svc, **kw) -> PreviewService:
    return PreviewService(svc, model=kw.pop("model", LatencyModel()), **kw)


def one_clip(media, *, width=640, height=360, fps=30, seconds=4, asset="red"):
    return project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "src", "start": 0, "source_in": 0, "source_out": seconds}]}],
        {"src": media[asset]}, width=width, height=height, fps=fps)


def with_proxies(svc, path: Path, *profiles: str) -> None:
    for profile in profiles:
        outcomes = ensure_proxies_for_project(path, profile, service=svc)
        assert all(o.status in ("created", "reused", "not_needed") for o in outcomes), outcomes


# ---------------------------------------------------------------- strategies

@pytest.mark.parametrize("strategy, size, fps", [("fast", (640, 360), "30"), ("balanced", (854, 480), "30"),
                                                 ("quality", (1280, 720), "30")])
def test_each_strategy_picks_its_profile(svc, tmp_path, media, strategy, size, fps):
    path = write_project(tmp_path, one_clip(media, width=1920, height=1080))
    with_proxies(svc, path, "draft_360p", "draft_480p", "preview_720p")
    result = previews(svc).plan(path, strategy)
    profile = {"fast": "draft_360p", "balanced": "draft_480p", "quality": "preview_720p"}[strategy]
    assert (result.profile, (result.plan.width, result.plan.height), result.plan.fps) == (profile, size, fps)
    assert result.warnings == []


def test_a_preview_never_upscales_nor_exceeds_the_project_fps(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media, width=320, height=240, fps=15))
    service = previews(svc, allow_full_res_fallback=True)
    for strategy in ("fast", "balanced", "quality"):
        plan = service.plan(path, strategy).plan
        assert (plan.width, plan.height, plan.fps) == (320, 240, "15")


def test_an_unknown_strategy_is_a_validation_error(svc, tmp_path, media):
    with pytest.raises(ValidationError, match="strategy: must be one of fast, balanced, quality"):
        previews(svc).plan(write_project(tmp_path, one_clip(media)), "turbo")


@pytest.mark.parametrize("start, end, message", [(3, 1, "end: must be after start"), (-1, None, "start: must be >= 0"),
                                                 (9, None, "past the end"), ("x", None, "start:")])
def test_a_bad_window_names_start_or_end(svc, tmp_path, media, start, end, message):
    with pytest.raises(ValidationError, match=message):
        previews(svc, allow_full_res_fallback=True).plan(write_project(tmp_path, one_clip(media)), "fast", start, end)


# ---------------------------------------------------------------- proxies forced

def test_the_plan_reads_proxies_not_sources(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media))
    with_proxies(svc, path, "draft_360p")
    result = previews(svc).preview(path, "fast", output=tmp_path / "p.mp4")
    assert [(a.asset, a.read_from, a.proxy_profile) for a in result.assets] == [("src", "proxy", "draft_360p")]
    assert all(i.path.endswith("/proxy_draft_360p.mp4") for i in result.plan.inputs)
    assert str(media["red"]) not in result.plan.model_dump_json()
    m = measure(tmp_path / "p.mp4")
    assert (m.frames, m.width, m.height, m.fps) == (120, 640, 360, 30)  # 4 s at 30 fps, no upscale
    assert close(m.rgb(50, 320, 180), (254, 0, 0), tol=20)


def test_a_proxy_is_read_from_the_facts_kept_when_it_was_made(svc, tmp_path, media, monkeypatch):
    """No probe on the preview path (a cold preview's PyAV import and decodes): a proxy is read
    from the facts kept when it was made, a registered sound from its registration's; a proxy
    registered before facts were kept is probed, with the same plan."""
    import engines.video_preview.service as preview_module
    from engines.ffmpeg.probe import probe
    doc = one_clip(media)
    doc["assets"]["bed"] = {"path": str(media["tone"])}
    doc["tracks"].append({"id": "m", "kind": "audio", "clips": [
        {"id": "t", "asset": "bed", "start": 0, "source_in": 0, "source_out": 4}]})
    path = write_project(tmp_path, doc)
    with_proxies(svc, path, "draft_360p")
    probed = []
    monkeypatch.setattr(preview_module, "probe", lambda p: probed.append(p) or probe(p))
    cold = previews(svc).plan(path, "fast")
    assert probed == [] and [(a.asset, a.read_from) for a in cold.assets] == [("bed", "source"), ("src", "proxy")]
    with_facts = cold.plan
    art = svc.library.registry.artifact_by_key("acme", "dev", cold.assets[1].key)
    local = svc.library.store("dev").local_path(art.key)
    assert art.meta["facts"] == probe(local).facts()
    svc.library.registry.put_artifact(art.model_copy(update={"meta": {k: v for k, v in art.meta.items()
                                                                      if k != "facts"}}))
    assert previews(svc).plan(path, "fast").plan.plan_hash == with_facts.plan_hash and probed == [local]


def test_a_cold_preview_imports_nothing_it_does_not_use(tmp_path, media):
    """``cutlite preview --json`` from ready proxies, as a new process: SQLite read through sqlite3,
    frames counted from the MP4's sample table, no tables printed, no captions, no migrations, so
    none of SQLAlchemy, Alembic, PyAV, rich, pysubs2 is imported (a quarter second of start-up)."""
    import json

    doc = one_clip(media)
    doc["assets"]["bed"] = {"path": str(media["tone"])}
    doc["tracks"].append({"id": "m", "kind": "audio", "clips": [
        {"id": "t", "asset": "bed", "start": 0, "source_in": 0, "source_out": 4}]})
    path = write_project(tmp_path, doc)
    env = {**os.environ, "CUTLITE_HOME": str(tmp_path / "home")}
    made = subprocess.run([sys.executable, "-m", "engines.cli", "proxies", str(path), "--json"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    heavy = ("sqlalchemy", "alembic", "av", "rich", "pysubs2", "fastapi", "celery")
    code = ("import json, sys\nfrom engines import cli\n"
            f"code = cli.main(['preview', {str(path)!r}, '--start', '1', '--end', '3', '-o', "
            f"{str(tmp_path / 'p.mp4')!r}, '--json'])\n"
            f"print(json.dumps([code, sorted(m for m in {heavy!r} if m in sys.modules)]))\n")
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert cold.returncode == 0, cold.stderr
    assert json.loads(cold.stdout.strip().splitlines()[-1]) == [0, []]
    assert measure(tmp_path / "p.mp4", decode=False).frames == 60


def test_a_smaller_rung_serves_when_the_profiles_proxy_is_missing(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media, width=1920, height=1080))
    with_proxies(svc, path, "draft_360p")
    service = previews(svc)
    result = service.plan(path, "quality")
    assert result.profile == "preview_720p" and result.queued_proxies == ["src"]
    assert [(a.read_from, a.proxy_profile) for a in result.assets] == [("proxy", "draft_360p")]
    assert [w for w in result.warnings if "frames repeat" in w] == result.warnings  # no fallback, no refusal
    service.close(cancel=True)


def test_a_stand_in_rung_queues_the_profiles_own_proxy(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media, width=1920, height=1080))
    with_proxies(svc, path, "draft_360p")
    service = previews(svc)
    first = service.plan(path, "balanced")  # the draft_360p proxy stands in (at the same 30 fps: every
    assert first.queued_proxies == ["src"] and first.assets[0].proxy_profile == "draft_360p"  # rung keeps the rate)
    assert not [w for w in first.warnings if "frames repeat" in w]
    assert [o.status for o in service.wait_for_proxies(timeout=120)] == ["created"]
    again = service.plan(path, "balanced")
    assert again.assets[0].proxy_profile == "draft_480p" and again.warnings == [] and again.queued_proxies == []
    service.close()


def test_a_registered_asset_whose_source_and_proxy_are_gone_is_a_slate_not_a_refusal(svc, tmp_path, media):
    asset, _ = svc.library.register_file("acme", "dev", media["blue"])
    svc.library.store("dev").delete(asset.source_key)
    doc = one_clip(media)
    doc["assets"] = {"src": {"asset_id": asset.id}}
    service = previews(svc, allow_full_res_fallback=False)
    result = service.plan(doc, "quality")
    assert [(a.read_from, a.asset_id) for a in result.assets] == [("slate", asset.id)]
    assert result.queued_proxies == [] and result.profile == "preview_720p"  # nothing to make, nothing lowered
    assert result.warnings == [f"assets.src: the source of asset {asset.id} is missing from the store; "
                               f"shown as a slate"]
    service.close()


def test_a_damaged_or_foreign_calibration_falls_back_to_the_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path))
    (tmp_path / "calibration.json").write_text(
        '{"version": 2, "ffmpeg_version": "x", "profiles": {"draft_360p/libx264": {"overhead_ms": "?"}}}')
    assert LatencyModel.load().throughput("draft_360p", "libx264")[1] == "default"
    (tmp_path / "calibration.json").write_text('{"version": 2, "ffmpeg_version": "other", "profiles": '
                                               '{"draft_360p/libx264": {"overhead_ms": 1, "per_input_ms": 1, '
                                               '"encode_ms_per_mpx": 1}}}')
    assert LatencyModel.load().throughput("draft_360p", "libx264")[1] == "calibrated"
    assert LatencyModel.load("n9.0").throughput("draft_360p", "libx264")[1] == "default"


def test_a_missing_proxy_warns_is_queued_and_falls_back_to_the_source(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media, width=1920, height=1080))
    service = previews(svc, allow_full_res_fallback=True)
    result = service.plan(path, "quality")
    assert "assets.src: no proxy for preview_720p; its generation is queued" in result.warnings
    assert "assets.src: read from the full-resolution source" in result.warnings
    assert any("lowered to draft_480p" in w for w in result.warnings)
    assert result.profile == "draft_480p"  # full-resolution reads are previewed at draft quality
    assert result.queued_proxies == ["src"] and result.assets[0].read_from == "source"
    assert result.plan.inputs[0].path == str(media["red"].resolve()) or result.plan.inputs[0].path.endswith("source.mp4")
    outcomes = service.wait_for_proxies(timeout=120)
    assert [o.status for o in outcomes] == ["created"]
    again = service.plan(path, "quality")
    assert again.warnings == [] and again.assets[0].read_from == "proxy" and again.profile == "preview_720p"
    service.close()


def test_a_missing_proxy_is_refused_without_fallback(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media))
    service = previews(svc, allow_full_res_fallback=False)
    with pytest.raises(AssetNotReady) as err:  # HTTP 409, exit 2
        service.plan(path, "fast")
    assert err.value.context["retryable"] and err.value.context["problems"] == [
        "assets.src: no proxy for draft_360p"]
    assert "cutlite proxies" in err.value.hint
    service.wait_for_proxies(timeout=120)  # queued even when refused: the next try works
    assert service.plan(path, "fast").assets[0].read_from == "proxy"
    service.close()


def test_fallback_defaults_to_dev_only_and_the_environment_overrides(svc, media, monkeypatch):
    doc = one_clip(media)
    service = previews(svc)
    assert service.fallback_allowed(load_project(doc)) is True
    prod = load_project({**doc, "env": "prod", "assets": {"src": {"asset_id": "ast_00000000000000000000"}}})
    assert service.fallback_allowed(prod) is False
    monkeypatch.setenv("CUTLITE_PREVIEW_FALLBACK", "1")
    assert service.fallback_allowed(prod) is True
    assert service.fallback_allowed(prod, False) is False


# ---------------------------------------------------------------- missing sources: slates

def test_missing_sources_become_slates_with_a_warning_each(svc, tmp_path, media):
    doc = project([
        {"id": "v", "kind": "video", "clips": [
            {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1},
            {"id": "b", "asset": "gone", "start": 1, "source_in": 0, "source_out": 1}]},
        {"id": "o", "kind": "overlay", "clips": [{"id": "l", "asset": "lost_logo", "start": 0, "duration": 2,
                                                  "x": 0.25, "y": 0.25, "scale": 0.25}]},
        {"id": "m", "kind": "audio", "clips": [{"id": "s", "asset": "lost_song", "start": 0, "source_in": 0,
                                                "source_out": 2}]},
    ], {"red": media["red"], "gone": tmp_path / "nope.mp4", "lost_logo": tmp_path / "nope.png",
        "lost_song": tmp_path / "nope.m4a"}, width=640, height=360)
    path = write_project(tmp_path, doc)
    with_proxies(svc, write_project(tmp_path, one_clip(media), "red_only.json"), "draft_360p")
    result = previews(svc).preview(path, "fast", output=tmp_path / "p.mp4")
    assert sorted(a.asset for a in result.assets if a.read_from == "slate") == ["gone", "lost_logo", "lost_song"]
    assert f"assets.gone: file not found: {tmp_path / 'nope.mp4'}; shown as a slate" in result.warnings
    assert f"assets.lost_logo: file not found: {tmp_path / 'nope.png'}; shown as a slate" in result.warnings
    assert f"assets.lost_song: file not found: {tmp_path / 'nope.m4a'}; its sound is left out" in result.warnings
    m = measure(tmp_path / "p.mp4")
    assert m.frames == 60 and result.plan.samples == 96000
    assert abs(m.audio_samples - 96000) < 1024  # the decoder hands out whole AAC frames
    assert close(m.rgb(15, 480, 300), (254, 0, 0), tol=20)       # the clip that is there
    assert close(m.rgb(15, 90, 52), SLATE_GREY, tol=12)          # the overlay's slate, in its box [80, 240) x [45, 135)
    assert close(m.rgb(15, 160, 140), (254, 0, 0), tol=20)       # and the red clip just below it
    assert close(m.rgb(45, 40, 40), SLATE_GREY, tol=12)          # the missing clip's slate
    texts = [t for name, t in result.plan.files.items() if name.startswith("slate_")]
    assert "MEDIA MISSING\ngone" in texts


# ---------------------------------------------------------------- windows

def test_a_range_preview_has_exact_frames_and_seeks_near_its_window(svc, tmp_path, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "counter", "start": 0, "source_in": 0, "source_out": 4}]},
        {"id": "m", "kind": "audio", "clips": [{"id": "t", "asset": "tone", "start": 0, "source_in": 0,
                                                "source_out": 4}]}],
        {"counter": media["counter"], "tone": media["tone"]}, width=640, height=360)
    path = write_project(tmp_path, doc)
    with_proxies(svc, path, "draft_360p")
    result = previews(svc).preview(path, "fast", "2", "7/2", output=tmp_path / "w.mp4")
    assert result.plan.window == [60, 105] and (result.start, result.end) == (Fraction(2), Fraction(7, 2))
    for inp in result.plan.inputs:  # each input seeks to the window less the pre-roll, not from 0
        assert Fraction(inp.args[inp.args.index("-ss") + 1]) == Fraction(3, 2)
    m = measure(tmp_path / "w.mp4")
    assert m.frames == 45 and result.plan.samples == 72000  # 1.5 s at 30 fps and 48 kHz
    assert abs(m.audio_samples - 72000) < 1024  # the decoder hands out whole AAC frames
    full = previews(svc).preview(path, "fast", output=tmp_path / "full.mp4")
    whole = measure(tmp_path / "full.mp4")
    assert whole.frames == 120
    # the window's first picture is the full preview's frame 60 (same frame picked, same place)
    assert abs(int(m.pictures[0].astype(int).mean()) - int(whole.pictures[60].astype(int).mean())) <= 2
    assert full.plan.plan_hash != result.plan.plan_hash


def test_the_same_preview_gives_the_same_plan(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media))
    with_proxies(svc, path, "draft_360p")
    a, b = previews(svc).plan(path, "fast", 1, 2), previews(svc).plan(path, "fast", 1, 2)
    assert a.plan.plan_hash == b.plan.plan_hash and a.to_dict() == b.to_dict()


# ---------------------------------------------------------------- latency estimate

def test_the_calibrated_estimate_is_within_30_percent_of_the_render(svc, tmp_path, media, monkeypatch):
    """Calibrated on this machine, the estimate is within 30 % of the render. The box is shared:
    when its speed changed between the calibration and the renders (seen: the same estimate, the
    renders 35 % faster on one run in four), the calibration is stale, so it is made again, once,
    and the second attempt must hold."""
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "calibration-home"))
    # a preview with some substance (5 s at 640x360, an overlay, a title, sound), so that the
    # ~20 ms jitter of starting a process on a busy 2-core box is not the whole measurement
    source = samples.make_video(tmp_path / "src.mp4", seconds=5, width=640, height=360, pattern="testsrc2",
                                runner=svc.runner)
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "src", "start": 0, "source_in": 0, "source_out": 5}]},
        {"id": "o", "kind": "overlay", "clips": [
            {"id": "l", "asset": "logo", "start": 0, "duration": 5, "x": 0.8, "y": 0.2},
            {"id": "t", "text": "Hello", "start": 0, "duration": 5}]}],
        {"src": source, "logo": media["logo"]}, width=1280, height=720)
    path = write_project(tmp_path, doc)
    with_proxies(svc, path, "draft_360p")

    def attempt():
        model = calibrate(svc, ["draft_360p"], repeats=3)
        assert LatencyModel.load().throughput("draft_360p", "libx264")[1] == "calibrated"
        service = previews(svc, model=model)
        runs = [service.preview(path, "fast", 0, 5, output=tmp_path / "p.mp4") for _ in range(3)]
        assert runs[0].estimate.source == "calibrated"
        return runs[0].estimate, statistics.median(r.measured_ms for r in runs), [r.measured_ms for r in runs]

    estimate, measured, runs = attempt()
    if abs(estimate.ms - measured) > 0.3 * measured:
        estimate, measured, runs = attempt()
    assert abs(estimate.ms - measured) <= 0.3 * measured, (estimate.to_dict(), runs)


# ---------------------------------------------------------------- errors, HLS

class BrokenEncoder(FFmpegRunner):
    """The real runner, asked for an encoder this ffmpeg does not have (a real ffmpeg failure)."""

    def run(self, args, *, stage, **kw):  # noqa: ANN001
        if stage == "preview" or stage == "render":
            args = ["libnope" if a == "libx264" else a for a in args]
        return super().run(args, stage=stage, **kw)


def test_a_failing_render_propagates_its_stage_and_stderr_tail(tmp_path, media):
    root = tmp_path / "home"
    library = MediaLibrary(Registry(f"sqlite:///{root / 'cutlite.db'}"), stores={"dev": LocalStore(root / "objects")})
    svc = RenderService(BrokenEncoder(), library=library)
    path = write_project(tmp_path, one_clip(media))
    with pytest.raises(FFmpegError) as err:
        previews(svc, allow_full_res_fallback=True).preview(path, "fast", 0, 1, output=tmp_path / "p.mp4")
    assert err.value.stage == "render" and "libnope" in err.value.context["stderr_tail"]
    assert not (tmp_path / "p.mp4").exists() and not list(tmp_path.glob(".p.mp4.partial*"))


def test_a_stalled_ffmpeg_is_ended_by_the_watchdog(tmp_path):
    fifo = tmp_path / "never"
    os.mkfifo(fifo)  # nobody writes: ffmpeg waits forever, with no progress
    started = time.monotonic()
    with pytest.raises(FFmpegTimeout, match="no progress"):
        FFmpegRunner().run(["-y", "-f", "s16le", "-i", str(fifo), "-f", "null", "-"], stage="preview",
                           stall_timeout=1.0)
    assert time.monotonic() - started < 10


def test_an_hls_preview_lists_segments_as_they_are_made(svc, tmp_path, media):
    path = write_project(tmp_path, one_clip(media))
    with_proxies(svc, path, "draft_360p")
    result = previews(svc).preview(path, "fast", 0, "7/2", hls=tmp_path / "hls")
    hls = result.hls
    assert hls is not None and hls.segments == 4  # 3.5 s in 1 s segments
    assert 0 < hls.first_segment_ms <= hls.total_ms
    text = (tmp_path / "hls" / "index.m3u8").read_text()
    assert "#EXT-X-ENDLIST" in text and text.count("#EXTINF") == 4
    with av.open(str(tmp_path / "hls" / "index.m3u8")) as c:
        frames = sum(1 for p in c.demux(c.streams.video[0]) if p.size)
    assert frames == result.plan.frames == 105
    assert not list((tmp_path / "hls").glob("*.tmp"))
    (tmp_path / "hls" / "notes.txt").write_text("mine")
    with pytest.raises(ValidationError, match="holds other files"):
        previews(svc).preview(path, "fast", 0, 1, hls=tmp_path / "hls")
    assert (tmp_path / "hls" / "index.m3u8").exists() and (tmp_path / "hls" / "notes.txt").exists()


# ---------------------------------------------------------------- CLI

def test_cli_preview_json_and_refusal(tmp_path, media):
    env = dict(os.environ, CUTLITE_HOME=str(tmp_path / "cli-home"))
    path = write_project(tmp_path, one_clip(media))
    cli = [sys.executable, "-m", "engines.cli", "preview", str(path)]
    refused = subprocess.run([*cli, "--no-fallback", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 2 and '"no proxy for draft_360p' not in refused.stdout
    assert "assets.src: no proxy for draft_360p" in refused.stdout  # listed in the error's problems
    ok = subprocess.run([*cli, "--start", "1", "--end", "2", "-o", str(tmp_path / "p.mp4"), "--json"],
                        capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stderr
    import json
    doc = json.loads(ok.stdout)
    assert doc["profile"] == "draft_360p" and doc["proxies_used"] == ["src"]  # made by the refused run's queue
    assert doc["window"]["frame_count"] == 30 and doc["estimated_latency_ms"] > 0 and doc["measured_ms"] > 0
    assert measure(tmp_path / "p.mp4", decode=False).frames == 30
    wait = doc["wait"]  # what the user waits for: start-up and planning (measured) + the render
    assert 0 < wait["startup_and_planning_ms"] < wait["total_ms"]
    assert wait["estimated_total_ms"] == wait["startup_and_planning_ms"] + wait["render_estimate_ms"]
    assert wait["render_ms"] <= wait["total_ms"]

"""Damaged media is reported: found by a full decode (proxy generation, `cutlite probe --deep`),
kept in the asset's meta with time spans, named by every plan, render and preview whose clips
use a damaged span, and by a render whose ffmpeg met decode errors. Clean files: no warning."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import make_damaged, project, write_project

from engines.ffmpeg.damage import scan_damage
from engines.media_v2.library import MediaLibrary, known_damage
from engines.media_v2.registry import Registry
from engines.media_v2.storage import LocalStore
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService, ensure_proxies_for_project


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, runner) -> dict[str, Path]:
    return make_damaged(tmp_path_factory.mktemp("damaged"), runner)


def spans_of(path: Path) -> list[tuple[str, float, float]]:
    return [(s.stream, float(s.start), float(s.end)) for s in scan_damage(path)]


def test_a_clean_file_has_no_damage(damaged):
    assert scan_damage(damaged["clean"]) == []


def test_flipped_bytes_mid_file_are_found_where_they_are(damaged):
    spans = spans_of(damaged["flipped"])
    assert {s for s, _, _ in spans} == {"video", "audio"}
    assert all(2.5 <= a < 3.0 and 3.2 < b <= 3.7 for _, a, b in spans), spans


def test_a_truncated_tail_is_damage_from_the_cut_to_the_end(damaged):
    spans = spans_of(damaged["truncated"])
    assert ("file", spans[0][1], 6.0) == spans[0] and 3.5 < spans[0][1] < 4.5, spans


def test_a_missing_keyframe_is_found_at_its_gop(damaged):
    spans = spans_of(damaged["nokey"])
    assert [s for s, _, _ in spans] == ["video"] and spans[0][1] <= 3.0 < spans[0][2], spans


def test_cli_probe_deep_reports_spans_in_json(damaged):
    out = subprocess.run([sys.executable, "-m", "engines.cli", "probe", "--deep", "--json", str(damaged["flipped"])],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["kind"] == "video" and {d["stream"] for d in doc["damage"]} == {"video", "audio"}
    clean = json.loads(subprocess.run([sys.executable, "-m", "engines.cli", "probe", "--deep", "--json",
                                       str(damaged["clean"])], capture_output=True, text=True, timeout=120).stdout)
    assert clean["damage"] == []


@pytest.fixture
def library_env(tmp_path, runner):
    library = MediaLibrary(Registry(f"sqlite:///{tmp_path / 'db.sqlite'}"), stores={"dev": LocalStore(tmp_path / "o")})
    return library, RenderService(runner, library=library)


def two_cuts(asset_id: str) -> dict:
    """One cut inside the damaged middle (2.5..3.5 s of the source), one well before it."""
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "early", "asset": "src", "start": 0, "source_in": 0, "source_out": 1},
        {"id": "middle", "asset": "src", "start": 1, "source_in": "5/2", "source_out": "7/2"}]}], {})
    doc["assets"] = {"src": {"asset_id": asset_id}}
    return doc


def test_proxy_generation_stores_the_damage_and_plans_and_previews_warn(library_env, damaged, tmp_path):
    library, svc = library_env
    bad, _ = library.register_file("acme", "dev", damaged["flipped"])
    good, _ = library.register_file("acme", "dev", damaged["clean"])
    for asset in (bad, good):
        path = write_project(tmp_path, two_cuts(asset.id), f"{asset.id}.json")
        [outcome] = ensure_proxies_for_project(path, "draft_360p", service=svc)
        assert outcome.status == "created" and (outcome.meta["decode_errors"] > 0) == (asset is bad)
    assert [s.stream for s in known_damage(library.get_asset("acme", "dev", bad.id))] == ["video", "audio"]
    assert library.get_asset("acme", "dev", good.id).meta == {"damage": [], "damage_found_by": "proxy"}

    warned = svc.plan_project(write_project(tmp_path, two_cuts(bad.id), "bad.json"), "draft_360p", "cpu")
    lines = [w for w in warned.meta["warnings"] if "damaged" in w]
    assert len(lines) == 2 and all(w.startswith("tracks[0].clips[1]: \"src\" is damaged at 2.") for w in lines)
    assert "this clip uses 2.50-3.50 s" in lines[0]
    clean = svc.plan_project(write_project(tmp_path, two_cuts(good.id), "good.json"), "draft_360p", "cpu")
    assert clean.meta["warnings"] == []

    previews = PreviewService(svc)
    try:
        doc = write_project(tmp_path, two_cuts(bad.id), "preview.json")
        before = previews.plan(doc, "fast", Fraction(0), Fraction(1))  # the early cut only: nothing damaged
        during = previews.plan(doc, "fast", Fraction(1), Fraction(2))
    finally:
        previews.close(cancel=True)
    assert not any("damaged" in w for w in before.warnings)
    assert sum("damaged" in w for w in during.warnings) == 2


def test_a_job_says_its_ffmpeg_met_decode_errors_and_a_clean_one_says_nothing(library_env, damaged, tmp_path):
    _, svc = library_env
    views = {}
    # chunked (1 s chunks: a sound pass and chunk passes) and in one pass (a job of one chunk)
    for name, chunk_seconds in (("flipped", 1), ("flipped", None), ("clean", None)):
        doc = project([{"id": "v", "kind": "video", "clips": [
            {"id": "a", "asset": "src", "start": 0, "source_in": 2, "source_out": 4}]}], {"src": damaged[name]})
        job, _ = svc.submit_job(write_project(tmp_path, doc, f"{name}.json"), "draft_360p", hw="cpu",
                                options={"chunk_seconds": chunk_seconds})
        done = svc.run_job(job.id)
        assert done.state == "COMPLETED", done.error
        views[name, chunk_seconds] = svc.job_view(job.id)
    warnings = views["flipped", 1]["warnings"]
    assert any(w.startswith("audio: ffmpeg reported") for w in warnings), warnings
    assert any(w.startswith("chunk 0: ffmpeg reported") and "decode error" in w for w in warnings), warnings
    (one,) = views["flipped", None]["warnings"]
    assert one.startswith("render: ffmpeg reported") and "decode error" in one
    assert views["clean", None]["warnings"] == []


def test_a_rendered_preview_says_its_ffmpeg_met_decode_errors(library_env, damaged, tmp_path):
    _, svc = library_env
    previews = PreviewService(svc)
    results = {}
    try:
        for name in ("flipped", "clean"):
            doc = project([{"id": "v", "kind": "video", "clips": [
                {"id": "a", "asset": "src", "start": 0, "source_in": 2, "source_out": 4}]}], {"src": damaged[name]})
            results[name] = previews.preview(write_project(tmp_path, doc, f"{name}.json"), "fast",
                                             output=tmp_path / f"{name}.mp4")
    finally:
        previews.close(cancel=True)
    assert any(w.startswith("render: ffmpeg reported") for w in results["flipped"].warnings)
    assert not any("decode error" in w or "damaged" in w for w in results["clean"].warnings)

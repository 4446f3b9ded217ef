"""The console script, run as a user runs it: exit codes and --json documents."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from conftest import CLI, measure, project, running_encodes, write_project


def cutlite(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_profiles_json_lists_the_matrix():
    out = cutlite("profiles", "--json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert [p["profile"] for p in doc["profiles"]][0] == "draft_360p"
    assert {e["encoder"] for e in doc["encoders"]} >= {"libx264", "h264_nvenc", "hevc_videotoolbox", "h264_qsv"}


def test_doctor_reports_ffmpeg_and_each_trial_encode():
    out = cutlite("doctor", "--json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["ffmpeg_version"] and Path(doc["ffmpeg"]).exists()
    assert all("reason" in p and "usable" in p for p in doc["hardware_encoders"])
    assert {p["profile"] for p in doc["profiles"]} == {"draft_360p", "draft_480p", "preview_720p",
                                                       "social_1080p", "master_4k", "web_1080p_webm", "gif_480p",
                                                       "prores_master", "audio_m4a"}
    assert {p["encoder"] for p in doc["profiles"] if p["profile"] == "web_1080p_webm"} == {"libvpx-vp9"}


def test_validate_lists_every_problem_and_exits_2(tmp_path):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "nope", "start": 0, "source_in": 0, "source_out": 1, "speed": 99}]}], {})
    doc["tenant"] = "../evil"
    out = cutlite("validate", str(write_project(tmp_path, doc)), "--json")
    assert out.returncode == 2
    problems = json.loads(out.stdout)["error"]["context"]["problems"]
    assert "tracks[0].clips[0].speed: must be between 0.1 and 16" in problems
    assert any(p.startswith("tenant:") for p in problems)
    assert any(p.startswith("tracks[0].clips[0].asset: unknown asset") for p in problems)


def test_plan_dry_run_names_each_missing_asset_and_exits_2(tmp_path, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1},
        {"id": "b", "asset": "gone1", "start": 1, "source_in": 0, "source_out": 1},
        {"id": "c", "asset": "gone2", "start": 2, "source_in": 0, "source_out": 1}]}],
        {"red": media["red"], "gone1": tmp_path / "gone1.mp4", "gone2": tmp_path / "gone2.mov"})
    out = cutlite("plan", str(write_project(tmp_path, doc)), "--profile", "draft_360p", "--json")
    assert out.returncode == 2
    problems = json.loads(out.stdout)["error"]["context"]["problems"]
    assert [p.split(":")[0] for p in problems] == ["assets.gone1", "assets.gone2"]
    assert "gone1.mp4" in out.stderr and "gone2.mov" in out.stderr


def test_plan_json_is_the_same_twice(tmp_path, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1}]}], {"red": media["red"]})
    path = str(write_project(tmp_path, doc))
    first = cutlite("plan", path, "--profile", "draft_360p", "--hw", "auto", "--json")
    second = cutlite("plan", path, "--profile", "draft_360p", "--hw", "auto", "--json")
    assert first.returncode == 0 and first.stdout == second.stdout
    plan = json.loads(first.stdout)
    assert plan["meta"]["hardware"]["requested"] == "auto" and plan["meta"]["encoder"] == "libx264"


def test_required_gpu_plans_on_a_gpu_and_is_exit_2_with_a_hint_without_one(tmp_path, media):
    from engines.ffmpeg.runner import detect_hardware

    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1}]}], {"red": media["red"]})
    out = cutlite("plan", str(write_project(tmp_path, doc)), "--profile", "draft_360p", "--hw", "gpu", "--json")
    if any(p.usable and p.codec == "h264" for p in detect_hardware().probes):  # this host has a usable GPU
        assert out.returncode == 0 and json.loads(out.stdout)["meta"]["hardware"]["family"] != "cpu"
    else:
        assert out.returncode == 2 and "--hw auto" in out.stderr


def test_render_writes_the_output_and_reports_it(tmp_path, media):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "red", "start": 0, "source_in": 0, "source_out": 1}]}], {"red": media["red"]})
    target = tmp_path / "out" / "final.mp4"
    out = cutlite("render", str(write_project(tmp_path, doc)), "--profile", "draft_480p", "-o", str(target), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["state"] == "COMPLETED" and doc["id"].startswith("job_")
    assert doc["frames"] == 30 and measure(target, decode=False).frames == 30


def test_bad_flag_is_exit_2():
    assert cutlite("render", "x.json", "--profile", "ultra", "-o", "y.mp4").returncode == 2


def test_ctrl_c_cancels_cleanly_with_exit_130(tmp_path, media, ours):
    doc = project([{"id": "v", "kind": "video", "clips": [
        {"id": "a", "asset": "c", "start": 0, "source_in": 0, "source_out": 4}]}], {"c": media["counter"]},
        width=1920, height=1080)
    target = tmp_path / "final.mp4"
    # a state folder of its own: no chunk another test rendered is reused, so there is an encode to interrupt
    env = {**os.environ, "CUTLITE_HOME": str(tmp_path / "home")}
    # the child must not inherit an ignored SIGINT (a suite started in the background by a shell has it
    # ignored, and Python then installs no Ctrl-C handler): the default disposition, as in a terminal
    proc = subprocess.Popen([*CLI, "render", str(write_project(tmp_path, doc)), "--profile", "social_1080p",
                             "-o", str(target), "--chunk-seconds", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 30
    while not running_encodes(b"cutlite-chunk-", ours):
        assert proc.poll() is None and time.monotonic() < deadline, "no chunk encode was seen running"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert not target.exists() and not list(tmp_path.glob(".final.mp4.partial*"))
    assert "cancelled" in err
    assert running_encodes(b"cutlite-chunk-", ours) == []

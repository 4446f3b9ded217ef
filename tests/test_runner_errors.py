"""ffmpeg failures become specific errors with stage, stderr tail and a remediation hint."""

import os
from fractions import Fraction
from pathlib import Path

import pytest

from engines.errors import DiskFull, FFmpegError, FFmpegNotFound
from engines.ffmpeg.probe import MediaInfo, VideoInfo
from engines.ffmpeg.runner import FFmpegRunner, classify_failure, find_ffmpeg, key_line
from engines.model.project import Clip
from engines.planning.reading import fit_box


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_is_disk_full_with_a_hint(runner):
    with pytest.raises(DiskFull) as err:
        runner.run(["-y", "-f", "lavfi", "-i", "testsrc2=s=320x240:d=2", "-c:v", "libx264", "-f", "mp4",
                    "/dev/full"], stage="render")
    assert err.value.stage == "render" and "No space left on device" in err.value.stderr_tail
    assert "free space" in err.value.hint and err.value.context["returncode"] != 0


def test_missing_configured_ffmpeg_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("CUTLITE_FFMPEG", str(tmp_path / "no-ffmpeg"))
    with pytest.raises(FFmpegNotFound) as err:
        find_ffmpeg()
    assert "CUTLITE_FFMPEG" in err.value.message and err.value.hint


def test_the_bundled_binary_and_its_version_are_remembered_until_the_binary_changes(monkeypatch, tmp_path, runner):
    """A new process neither re-runs imageio-ffmpeg's validation nor ``ffmpeg -version`` (binary_facts.py)."""
    import subprocess

    from engines.ffmpeg import binary_facts

    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CUTLITE_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH: the bundled one
    fake = tmp_path / "ffmpeg-copy"
    fake.write_bytes(Path(runner.ffmpeg).read_bytes())
    fake.chmod(0o755)
    binary_facts.note("bundled", str(fake), str(fake))
    assert find_ffmpeg() == str(fake)
    assert FFmpegRunner(str(fake)).version == runner.version  # asked once, then remembered
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a) or pytest.fail("ran ffmpeg again"))
    assert FFmpegRunner(str(fake)).version == runner.version and not calls
    monkeypatch.undo()
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    with open(fake, "ab") as f:
        f.write(b"\0")  # another binary now: nothing recalled for it
    assert binary_facts.recall("bundled") is None
    assert binary_facts.recall(f"version:{fake.resolve()}") is None


def test_a_broken_ffmpeg_binary_cannot_start(tmp_path):
    fake = tmp_path / "ffmpeg"
    fake.write_text("not a program")
    fake.chmod(0o755)
    with pytest.raises(FFmpegNotFound):
        FFmpegRunner(str(fake)).run(["-version"], stage="render")


def test_unknown_failures_are_plain_ffmpeg_errors_with_the_explaining_line(runner):
    with pytest.raises(FFmpegError) as err:
        runner.run(["-f", "lavfi", "-i", "testsrc2=d=0.1", "-vf", "nosuchfilter", "-f", "null", "-"], stage="render")
    assert type(err.value) is FFmpegError and err.value.code == "ffmpeg_failed"
    assert err.value.message.endswith("No such filter: 'nosuchfilter'")
    assert err.value.context["argv"][0] == runner.ffmpeg and err.value.hint


@pytest.mark.parametrize("line,code", [
    ("[h264_nvenc @ 0x55] Cannot load libcuda.so.1", "encoder_unavailable"),
    ("av_interleaved_write_frame(): No space left on device", "disk_full"),
    ("in.mp4: Invalid data found when processing input", "input_unreadable"),
    ("Something nobody expected", "ffmpeg_failed"),
])
def test_stderr_patterns_map_to_leaf_classes(line, code):
    cls, hint = classify_failure("some noise\n" + line + "\nmore noise")
    assert cls.code == code and hint


def test_the_explaining_line_is_the_first_known_one_without_addresses():
    tail = "[vf#0] junk\n[h264_nvenc @ 0x5601a9e55b80] Cannot load libcuda.so.1\n[out] Nothing was written"
    assert key_line(tail) == "[h264_nvenc] Cannot load libcuda.so.1"


def _info(w, h):
    return MediaInfo("x", "mov", "video", Fraction(1), 1,
                     VideoInfo(0, "h264", w, h, Fraction(30), 0, "yuv420p", 8, Fraction(1), False, None, None,
                               None, 1), None, 1)


@pytest.mark.parametrize("fit,size,filters", [
    ("contain", (608, 1080), ["scale=608:1080"]),
    ("cover", (1920, 1080), ["scale=1920:3414", "crop=1920:1080:0:1167"]),
    ("stretch", (1920, 1080), ["scale=1920:1080"]),
])
def test_fit_of_a_vertical_clip_in_a_landscape_frame(fit, size, filters):
    clip = Clip(id="c", start=0, asset="a", source_in=0, source_out=1, fit=fit)
    w, h, f = fit_box(_info(1080, 1920), clip, 1920, 1080)
    assert (w, h) == size and f == filters

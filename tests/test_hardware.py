"""Hardware policy with mocked GPUs (both sides), and real detection on this GPU-less machine."""

import os

import pytest

from engines.errors import EncoderUnavailable, HardwareError
from engines.ffmpeg import runner as ffmpeg_runner
from engines.ffmpeg.hardware import decide_hardware, requested_hw
from engines.ffmpeg.runner import EncoderProbe, FFmpegRunner, HardwareReport, probe_hardware


def report(*usable: str, listed_only: tuple[str, ...] = ()) -> HardwareReport:
    probes = []
    for family in ("nvenc", "videotoolbox", "vaapi", "qsv"):
        for codec in ("h264", "hevc"):
            enc = ffmpeg_runner.encoder_name(family, codec)
            ok = family in usable
            listed = ok or family in listed_only
            reason = "trial encode succeeded" if ok else ("Cannot load libcuda.so.1" if listed else "not in build")
            probes.append(EncoderProbe(family, codec, enc, listed, ok, reason))
    return HardwareReport("ffmpeg", "test", tuple(probes))


def test_auto_takes_nvenc_when_its_trial_encode_works():
    d = decide_hardware("auto", "h264", report("nvenc"))
    assert (d.family, d.encoder, d.fell_back) == ("nvenc", "h264_nvenc", False)


def test_auto_falls_back_to_cpu_when_nvenc_is_listed_but_fails():
    d = decide_hardware("auto", "h264", report(listed_only=("nvenc",)))
    assert (d.family, d.encoder, d.fell_back) == ("cpu", "libx264", True)
    assert "h264_nvenc: Cannot load libcuda.so.1" in d.detail


def test_auto_order_is_deterministic():
    assert decide_hardware("auto", "h264", report("qsv", "videotoolbox")).family == "videotoolbox"
    assert decide_hardware("auto", "hevc", report("vaapi", "nvenc")).encoder == "hevc_nvenc"


def test_videotoolbox_present_and_absent():
    assert decide_hardware("videotoolbox", "h264", report("videotoolbox")).encoder == "h264_videotoolbox"
    with pytest.raises(HardwareError) as err:
        decide_hardware("videotoolbox", "h264", report())
    assert "--hw auto" in err.value.hint


def test_required_gpu_is_an_error_not_a_silent_cpu_render():
    with pytest.raises(HardwareError, match="no usable h264 hardware encoder"):
        decide_hardware("gpu", "h264", report(listed_only=("nvenc",)))
    assert decide_hardware("gpu", "h264", report("qsv")).family == "qsv"


def test_cpu_is_always_cpu():
    assert decide_hardware("cpu", "hevc", report("nvenc")).encoder == "libx265"


def test_cutlite_hw_environment_is_honoured(monkeypatch):
    monkeypatch.setenv("CUTLITE_HW", "cpu")
    assert requested_hw(None) == "cpu"
    assert requested_hw("nvenc") == "nvenc"
    monkeypatch.setenv("CUTLITE_HW", "tpu")
    with pytest.raises(Exception, match="unknown hardware choice"):
        requested_hw(None)


class FakeRunner(FFmpegRunner):
    """Lists NVENC; its trial encode fails or works as told. Counts trial encodes."""

    def __init__(self, works: bool) -> None:
        self.ffmpeg = f"/fake/ffmpeg-{works}"
        self.works = works
        self.trials = 0

    version = "fake"

    def list_encoders(self) -> set[str]:
        return {"libx264", "libx265", "h264_nvenc", "hevc_nvenc"}

    def trial_encode(self, family: str, codec: str, timeout: float = 20) -> tuple[bool, str]:
        self.trials += 1
        return (True, "trial encode succeeded") if self.works else (False, "[h264_nvenc] Cannot load libcuda.so.1")


@pytest.mark.parametrize("works", [True, False])
def test_detection_proves_listed_encoders_by_trial(works):
    rep = probe_hardware(FakeRunner(works))
    nv = [p for p in rep.probes if p.family == "nvenc"]
    assert all(p.listed for p in nv) and all(p.usable is works for p in nv)
    assert not any(p.listed for p in rep.probes if p.family != "nvenc")
    assert decide_hardware("auto", "h264", rep).family == ("nvenc" if works else "cpu")


def test_detection_runs_once_per_process(monkeypatch):
    monkeypatch.setattr(ffmpeg_runner, "_hardware_cache", {})
    fake = FakeRunner(False)
    ffmpeg_runner.detect_hardware(fake)
    ffmpeg_runner.detect_hardware(fake)
    assert fake.trials == 2  # h264 + hevc, once


def test_real_detection_on_this_machine_matches_real_trial_encodes(runner):
    """Whatever this host has: every listed GPU encoder is usable exactly when a real trial encode
    passes, every decision carries its reason, and auto takes a GPU only when one is usable."""
    rep = probe_hardware(runner)
    for p in rep.probes:
        assert p.reason
        assert p.usable == (p.listed and runner.trial_encode(p.family, p.codec)[0])
    d = decide_hardware("auto", "h264", rep)
    has_gpu = any(p.usable for p in rep.probes if p.codec == "h264")
    assert (d.family != "cpu") == has_gpu and d.fell_back == (not has_gpu)


def test_real_nvenc_run_renders_or_fails_as_encoder_unavailable(runner):
    """Running the NVENC argument set for real: it renders where NVENC works, and elsewhere fails as
    EncoderUnavailable with a hint."""
    if "h264_nvenc" not in runner.list_encoders():
        pytest.skip("this ffmpeg build does not list NVENC (needs an NVENC-enabled build)")
    args = ["-f", "lavfi", "-i", "color=s=64x64:d=0.1", "-c:v", "h264_nvenc", "-f", "null", "-"]
    if runner.trial_encode("nvenc", "h264")[0]:
        assert runner.run(args, stage="hardware_probe")
        return
    with pytest.raises(EncoderUnavailable) as err:
        runner.run(args, stage="hardware_probe")
    assert "--hw cpu" in err.value.hint and err.value.stderr_tail


def test_the_report_is_kept_on_disk_for_the_next_process_and_redone_when_the_binary_changes(tmp_path,
                                                                                           monkeypatch):
    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    binary = tmp_path / "ffmpeg"
    binary.write_text("#!/bin/sh\n")
    fake = FakeRunner(False)
    fake.ffmpeg = str(binary)
    for expected_trials in (2, 2):  # a new process (its memory cleared) reads the report from disk
        monkeypatch.setattr(ffmpeg_runner, "_hardware_cache", {})
        report = ffmpeg_runner.detect_hardware(fake)
        assert fake.trials == expected_trials and not report.usable("nvenc", "h264")
    assert len(list((tmp_path / "home" / "cache").glob("hardware-*.json"))) == 1
    os.utime(binary, ns=(1, 1))  # another ffmpeg build at the same path: probed again
    monkeypatch.setattr(ffmpeg_runner, "_hardware_cache", {})
    ffmpeg_runner.detect_hardware(fake)
    assert fake.trials == 4
    ffmpeg_runner.detect_hardware(fake, refresh=True)  # `cutlite doctor --refresh`
    assert fake.trials == 6


def test_a_damaged_cache_file_is_probed_again(tmp_path, monkeypatch):
    from engines.ffmpeg import hardware_cache

    monkeypatch.setenv("CUTLITE_HOME", str(tmp_path / "home"))
    binary = tmp_path / "ffmpeg"
    binary.write_text("#!/bin/sh\n")
    fake = FakeRunner(True)
    fake.ffmpeg = str(binary)
    path = hardware_cache.cache_path(hardware_cache.machine_identity(str(binary)))
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    monkeypatch.setattr(ffmpeg_runner, "_hardware_cache", {})
    assert ffmpeg_runner.detect_hardware(fake).usable("nvenc", "h264") and fake.trials == 2

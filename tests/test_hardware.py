"""Hardware policy with mocked GPUs (both sides), and real detection on this GPU-less machine."""

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


def test_real_detection_on_this_machine_rejects_listed_but_unusable_gpus(runner):
    """This machine has no GPU: whatever the ffmpeg build lists, no trial encode may pass."""
    rep = probe_hardware(runner)
    assert not any(p.usable for p in rep.probes)
    for p in rep.probes:
        assert p.reason  # every decision carries its reason
    d = decide_hardware("auto", "h264", rep)
    assert d.family == "cpu" and d.fell_back


def test_real_trial_encode_error_is_classified(runner):
    """Running the NVENC argument set for real here fails as EncoderUnavailable, with a hint."""
    if "h264_nvenc" not in runner.list_encoders():
        pytest.skip("this ffmpeg build does not list NVENC (needs an NVENC-enabled build)")
    with pytest.raises(EncoderUnavailable) as err:
        runner.run(["-f", "lavfi", "-i", "color=s=64x64:d=0.1", "-c:v", "h264_nvenc", "-f", "null", "-"],
                   stage="hardware_probe")
    assert "--hw cpu" in err.value.hint and err.value.stderr_tail

from fractions import Fraction

import pytest

from engines.model.timebase import frames_to_samples, parse_fps, parse_time, snap_to_frame, to_ffmpeg_seconds


def test_decimal_seconds_are_exact_rationals():
    assert parse_time(0.1) == Fraction(1, 10)
    assert parse_time("1001/30000") == Fraction(1001, 30000)
    assert parse_time("2.5") == Fraction(5, 2)
    assert parse_time(3) == 3


@pytest.mark.parametrize("bad", [True, "abc", "1/0", float("nan"), float("inf"), None, [1]])
def test_bad_times_are_refused(bad):
    with pytest.raises(ValueError):
        parse_time(bad)


def test_snap_goes_to_nearest_frame_and_ties_to_the_earlier():
    fps = Fraction(30)
    assert snap_to_frame(Fraction(1, 30), fps) == 1
    assert snap_to_frame(Fraction(1, 60), fps) == 0          # exactly half a frame: earlier
    assert snap_to_frame(Fraction(1, 60) + Fraction(1, 10**9), fps) == 1
    assert snap_to_frame(Fraction(59, 2), fps) == 885         # 29.5 s at 30 fps


def test_ntsc_rate_does_not_drift_over_an_hour():
    fps = Fraction(30000, 1001)
    assert snap_to_frame(Fraction(3600), fps) == 107892      # 3600 * 29.97002997 = 107892.1
    assert snap_to_frame(Fraction(107892) / fps, fps) == 107892


def test_decimal_fps_is_refused_with_a_hint():
    with pytest.raises(ValueError, match="30000/1001"):
        parse_fps(29.97)
    assert parse_fps("30000/1001") == Fraction(30000, 1001)
    assert parse_fps(25) == 25
    with pytest.raises(ValueError):
        parse_fps(0)


def test_ffmpeg_seconds_text_is_microsecond_decimal():
    assert to_ffmpeg_seconds(Fraction(1001, 30000)) == "0.033367"
    assert to_ffmpeg_seconds(Fraction(5, 2)) == "2.500000"


def test_audio_samples_cover_frames_exactly():
    assert frames_to_samples(885, Fraction(30), 48000) == 1_416_000
    assert frames_to_samples(1, Fraction(30000, 1001), 48000) == 1602  # 1601.6 -> nearest

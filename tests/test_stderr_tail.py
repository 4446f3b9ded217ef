"""The stderr tail keeps what explains a failure: first error lines, last lines, no known noise."""

import pytest

from engines.errors import FFmpegError
from engines.ffmpeg.runner import key_line
from engines.ffmpeg.stderr import StderrTail

NOISE = "Codec AVOption b (set bitrate (in bits/s)) has not been used for any stream. The most likely reason is ..."


def tail_of(lines, **kw) -> StderrTail:
    t = StderrTail(**kw)
    for ln in lines:
        t.add(ln)
    return t


def test_known_noise_is_left_out_and_counted():
    t = tail_of([NOISE] * 5 + ["[aac @ 0x5] Error while opening encoder", "Conversion failed!"])
    assert t.text() == "[aac @ 0x5] Error while opening encoder\nConversion failed!" and t.noise == 5


def test_the_first_errors_survive_a_long_run_of_later_lines():
    lines = ["[in#0] Error opening input: No such file or directory"] + [f"frame={i} progress line" for i in range(500)]
    lines.append("Exiting with exit code 1")
    text = tail_of(lines, last_lines=3).text()
    assert text.splitlines() == ["[in#0] Error opening input: No such file or directory",
                                 "[... 498 line(s) left out ...]", "frame=498 progress line", "frame=499 progress line",
                                 "Exiting with exit code 1"]


def test_only_the_first_few_error_lines_are_kept_ahead_of_the_last_lines():
    lines = [f"[h264 @ 0x1] error while decoding MB {i} 3" for i in range(100)] + ["the end"]
    t = tail_of(lines, first_errors=2, last_lines=2)
    assert t.text().splitlines() == [lines[0], lines[1], "[... 97 line(s) left out ...]", lines[99], "the end"]
    assert t.decode_errors == 100 and len(t.decode_examples) == 5


def test_the_key_line_is_the_known_failure_or_the_first_error_never_a_marker():
    tail = tail_of(["frame= 1", "[vist#0:0] Invalid argument for filter", *["frame=2"] * 60]).text()
    assert key_line(tail) == "[vist#0:0] Invalid argument for filter"
    assert key_line(tail_of([f"line {i}" for i in range(50)], last_lines=3).text()) == "line 47"


def test_a_failing_run_reports_its_first_error_not_noise(runner, tmp_path):
    with pytest.raises(FFmpegError) as err:
        runner.run(["-y", "-f", "lavfi", "-i", "sine=d=1", "-b:v", "1M", "-af", "nosuchfilter", "-f", "null", "-"],
                   stage="audio")
    assert "has not been used for any stream" not in err.value.stderr_tail
    assert "nosuchfilter" in err.value.message

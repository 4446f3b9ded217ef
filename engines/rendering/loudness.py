"""Measuring loudness with ffmpeg's ``ebur128`` (BS.1770-4: gated integrated loudness, true peak).

``measure_mix`` renders a plan's mix once to float WAV and measures it; ``measure_file`` measures
a file's first audio stream (the finished output, for its artifact's meta); ``metered`` measures a
plan's mix in the pass that encodes it (a job rendered in one pass: no second process).
"""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from engines.errors import FFmpegError
from engines.ffmpeg.runner import FFmpegRunner
from engines.planning.filtergraph import graph_parts
from engines.planning.loudness import Measurement, parse_ebur128
from engines.planning.render_plan import RenderPlan

_INPUT = re.compile(r"\[\d+:\d+\]")  # an input stream's label in a graph


def measure_file(runner: FFmpegRunner, path: str | Path, *, cancel: threading.Event | None = None,
                 input_args: list[str] | None = None, **context: Any) -> Measurement:
    """``input_args`` describe a raw input (format, rate, channels), such as a job's joined PCM."""
    # "-v info": the summary is an info line; framelog=quiet keeps the per-frame lines out
    result = runner.run(["-v", "info", *(input_args or []), "-i", str(path), "-map", "0:a:0", "-af",
                         "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                        stage="loudness", cancel=cancel, timeout=600, **context)
    measured = parse_ebur128(result.stderr_tail)
    if measured is None:
        raise FFmpegError("ebur128 printed no loudness summary", stage="loudness", stderr_tail=result.stderr_tail,
                          hint="report it with the ffmpeg version (`cutlite doctor`)", **context)
    return measured


def measure_mix(renderer: Any, audio_plan: RenderPlan, *, cancel: threading.Event | None = None,
                **context: Any) -> Measurement:
    """The integrated loudness and true peak of ``audio_plan``'s mix (a Renderer runs it)."""
    lossless = audio_plan.model_copy(update={"output_args": ["-map", "[aout]", "-c:a", "pcm_f32le", "-f", "wav"]})
    with tempfile.TemporaryDirectory(prefix="cutlite-loudness-") as work:
        wav = Path(work) / "mix.wav"
        renderer.encode(lossless, wav, cancel=cancel, stage="loudness", **context)
        return measure_file(renderer.runner, wav, cancel=cancel, **context)


def metered(plan: RenderPlan) -> RenderPlan | None:
    """``plan`` whose mix is also measured by the pass that encodes it: ``[aout]`` split, one copy to
    the encoder, one through ``ebur128`` into a sink; the summary is read from the run's stderr
    (``meter_reading``). The same numbers as ``measure_file`` on the output, to the 0.1 dB it prints
    (the mix measured as the encoder is given it, without the AAC round trip).

    None when the sound reads no input (a timeline of silence): ffmpeg 9 cannot schedule a graph
    without inputs that ends in a sink of its own (``Assertion best_input >= 0 failed``); the output
    is measured as before."""
    assert plan.filter_graph.count("[aout]") == 1, "the audio graph ends in one [aout]"
    (sound,) = [part for part in graph_parts(plan.filter_graph) if "[aout]" in part]
    if not _INPUT.search(sound):
        return None
    graph = plan.filter_graph.replace("[aout]", "[amix]") + \
        ";\n[amix]asplit=2[aout][ameter];\n[ameter]ebur128=peak=true:framelog=quiet,anullsink"
    # the summary is an info line ("-v" given last wins over the runner's)
    return plan.model_copy(update={"filter_graph": graph, "global_args": [*plan.global_args, "-v", "info"]})


def meter_reading(stderr_tail: str) -> Measurement | None:
    """What a ``metered`` pass measured; None when its summary is not in the tail (then measure the file)."""
    return parse_ebur128(stderr_tail)

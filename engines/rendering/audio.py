"""Rendering a timeline's sound in windows (``engines.planning.audio_passes``): each window to raw
PCM, checked to the sample and appended to one file, then a single AAC encode of it.

With a loudness target the whole mix is measured once on that PCM (``loudness.py``) and the one
gain (and a limiter, only where needed) is applied by the final encode: every chunk of the job
shares the same sound, so chunked and single-pass renders sound the same."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from engines.errors import FFmpegError
from engines.planning.audio_passes import PCM_FORMAT, encode_pcm_args, pcm_bytes, to_pcm
from engines.planning.loudness import Target, normalise_filters
from engines.planning.render_plan import RenderPlan

from .loudness import measure_file
from .renderer import Renderer, decode_warnings


def render_sound(renderer: Renderer, plan: Callable[..., RenderPlan], windows: list[tuple[int, int]], target: Path,
                 *, audio_args: tuple[str, ...], timeout: Callable[[RenderPlan], float], stall_timeout: float | None = None,
                 cancel: threading.Event | None = None, stage: str = "audio", loudness: Target | None = None,
                 **context: Any) -> list[str]:
    """The sound of ``plan(streams="audio")`` into ``target`` (AAC in mp4); warnings for the passes
    whose decoders reported damaged input.

    ``plan`` is the job's plan with keyword overrides; ``timeout`` gives each pass its limit
    from its own plan (the final encode's from the whole sound)."""
    whole = plan(streams="audio")
    if len(windows) <= 1 and loudness is None:
        run = renderer.encode(whole, target, cancel=cancel, stage=stage, timeout=timeout(whole),
                              stall_timeout=stall_timeout, **context)
        return decode_warnings("audio", run)
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cutlite-audio-") as work:
        joined, piece = Path(work) / "sound.pcm", Path(work) / "window.pcm"
        with open(joined, "wb") as out:
            # with a loudness target, even one window goes through PCM: measured once, then encoded with the gain
            for index, (a, b) in enumerate(windows or [(0, whole.frames)]):
                part = to_pcm(plan(window=(a, b), streams="audio"))
                run = renderer.encode(part, piece, cancel=cancel, stage=stage, timeout=timeout(part),
                                      stall_timeout=stall_timeout, audio_window=index, **context)
                warnings += decode_warnings(f"audio window {index} (frames {a}..{b})", run)
                size = piece.stat().st_size
                if size != pcm_bytes(part):
                    raise FFmpegError(f"audio window {index} (frames {a}..{b}) has {size} bytes of PCM, the plan "
                                      f"{pcm_bytes(part)}", stage="verify", retryable=True, **context,
                                      hint="this is an engine bug if it repeats: report it with `cutlite plan "
                                           "--json`")
                with open(piece, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                piece.unlink()
        filters = None
        if loudness is not None:
            measured = measure_file(renderer.runner, joined, cancel=cancel,
                                    input_args=["-f", PCM_FORMAT, "-ar", str(whole.sample_rate), "-ac", "2"],
                                    **context)
            gain = normalise_filters(measured, loudness, whole.sample_rate)
            # exactly the planned sample count, whatever the resampling around a limiter did
            filters = [*gain, "apad", f"atrim=end_sample={whole.samples}"] if gain else None
        renderer.runner.run(encode_pcm_args(str(joined), whole, audio_args, str(target), filters=filters), stage=stage,
                            cancel=cancel, timeout=timeout(whole), stall_timeout=stall_timeout, **context)
    return warnings

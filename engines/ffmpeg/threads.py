"""A machine's thread budget for ffmpeg: ``CUTLITE_ENCODER_THREADS``.

Threads are a property of the machine that runs an encode, not of the deliverable: the profile
says ``threads`` (0 = ffmpeg decides from the cores it may use), and a machine that must use
fewer (a one-core worker, a box shared with other jobs) says so here. The override is applied
when a command is run, never written into a plan, so a plan (and its hash, which submitters and
workers compare) is the same on every machine of a farm, whatever each one's budget.
"""

from __future__ import annotations

import os

from engines.errors import ValidationError

ENV = "CUTLITE_ENCODER_THREADS"


def encoder_threads() -> int | None:
    """The override from the environment (None when unset or empty)."""
    raw = (os.environ.get(ENV) or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValidationError([f"{ENV}: must be a whole number of threads, 1 or more (got {raw!r})"],
                              stage="config")
    return int(raw)


def with_threads(args: list[str], threads: int | None) -> list[str]:
    """``args`` (ending with the output path) limited to ``threads``: the encoders' ``-threads``
    and the filter graphs' (``-filter_threads``, ``-filter_complex_threads``; global options,
    the last one given wins) set just before the output. Unchanged when ``threads`` is None."""
    if threads is None:
        return list(args)
    n = str(threads)
    return [*args[:-1], "-filter_threads", n, "-filter_complex_threads", n, "-threads", n, args[-1]]

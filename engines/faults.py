"""Failpoints: named places where a test can make this process die as a crash would (SIGKILL).

``CUTLITE_FAILPOINT=name`` kills the process the first time execution reaches ``failpoint(name)``.
Only the reliability tests set it; without it a failpoint is one environment lookup. This is how
the fault-injection tests crash a render exactly before its first chunk, during the join or
between storing the output and registering it, which a kill from outside can only hit by luck.
"""

from __future__ import annotations

import os
import signal

POINTS = ("job.before_chunks", "job.before_join", "job.after_join", "job.after_store", "job.before_complete")


def failpoint(name: str) -> None:
    assert name in POINTS, name
    if os.environ.get("CUTLITE_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)

"""Per-key request rate: a token bucket per API key, in this server process.

``CUTLITE_RATE_LIMIT`` is requests per second (default 20) and ``CUTLITE_RATE_BURST`` how many may
come at once (default 5 seconds' worth). Past it a request is refused with the seconds until the
next token, which the HTTP layer sends as ``Retry-After``. Several server processes each keep
their own buckets: the limit is per key per process.
"""

from __future__ import annotations

import math
import os
import threading
import time

from engines.errors import RateLimited, ValidationError


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name) or ""
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValidationError([f"{name}: a positive number (got {raw!r})"], stage="config")
    return value


class RateLimiter:
    def __init__(self, rate: float | None = None, burst: float | None = None) -> None:
        self.rate = rate or _number("CUTLITE_RATE_LIMIT", 20.0)
        self.burst = burst or _number("CUTLITE_RATE_BURST", self.rate * 5)
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> None:
        """One request of ``key_id``, or ``RateLimited`` with ``retry_after`` whole seconds."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens < 1:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, math.ceil((1 - tokens) / self.rate))
                raise RateLimited(f"too many requests with this API key (over {self.rate:g} a second)",
                                  stage="auth", retry_after=wait, hint=f"retry after {wait} s")
            self._buckets[key_id] = (tokens - 1, now)

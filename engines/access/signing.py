"""Signed, expiring URLs for downloads: ``PATH?expires=UNIX&sig=HEX``.

``sig`` is HMAC-SHA256 with the server secret over ``PATH`` and ``expires``: the URL is a capability
for exactly that object until that time. A changed character anywhere (path, expiry or signature)
or a time in the past is refused; the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from urllib.parse import quote

from engines.errors import SignatureInvalid, ValidationError

DEFAULT_TTL = 900  # seconds


def url_ttl() -> int:
    """``CUTLITE_URL_TTL``: how long a signed download URL stays valid (default 900 s)."""
    raw = (os.environ.get("CUTLITE_URL_TTL") or "").strip()
    if not raw:
        return DEFAULT_TTL
    if not raw.isdigit() or not 1 <= int(raw) <= 7 * 86400:
        raise ValidationError([f"CUTLITE_URL_TTL: whole seconds from 1 to 604800 (got {raw!r})"], stage="config")
    return int(raw)


def signature(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"GET\n{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign_path(secret: bytes, path: str, ttl: int, now: float | None = None) -> tuple[str, int]:
    """The signed URL of ``path`` (already URL-quoted) and its expiry (unix seconds)."""
    expires = int(now if now is not None else time.time()) + ttl
    return f"{path}?expires={expires}&sig={signature(secret, path, expires)}", expires


def verify(secret: bytes, path: str, expires: str | None, sig: str | None, now: float | None = None) -> None:
    """Nothing when ``sig`` signs ``path`` until ``expires`` and that time has not passed."""
    if not expires or not sig or not expires.isdigit():
        raise SignatureInvalid("the download URL is not signed", stage="download",
                               hint="ask the API for a new URL (.../download)")
    if not hmac.compare_digest(signature(secret, path, int(expires)), sig):
        raise SignatureInvalid("the download URL's signature does not match", stage="download",
                               hint="use the URL exactly as the API gave it, or ask for a new one")
    if int(expires) < (now if now is not None else time.time()):
        raise SignatureInvalid("the download URL has expired", stage="download",
                               hint="ask the API for a new URL (.../download)")


def quoted(key: str) -> str:
    return quote(key, safe="/")

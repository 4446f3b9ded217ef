"""A download answer: a URL that fetches one stored object until it expires, and needs no key.

With S3 storage it is S3's own presigned URL (the bytes never pass through the server); with the
local store it is ``/files/<object key>?expires=&sig=`` on this server (``signing.py``).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from .signing import quoted, sign_path, url_ttl

FILES = "/files/"


def download_link(store: Any, key: str, base_url: str, secret: bytes) -> dict[str, Any]:
    ttl = url_ttl()
    presign = getattr(store, "presigned_url", None)
    if presign is not None:
        url, expires = presign(key, ttl), int(time.time()) + ttl
    else:
        path, expires = sign_path(secret, FILES + quoted(key), ttl)
        url = base_url.rstrip("/") + path
    at = datetime.fromtimestamp(expires, timezone.utc).isoformat(timespec="seconds")
    return {"url": url, "expires": expires, "expires_at": at}

"""Server paths never leave the server: text sent to a client (error messages, stderr tails,
job records) has every absolute file path cut down to its file name.

A path says where this machine keeps things (a temp spool, the object store's folder, a user's
home); the file name alone still tells the reader which file a line is about.
"""

from __future__ import annotations

import re
from typing import Any

# an absolute path: a slash not preceded by a word character, dot, colon or slash (so "1/30",
# "tenants/acme/..." object keys and "http://" URLs are left alone), then folders and a name
_ABSOLUTE = re.compile(r"(?<![\w.~:/\\-])/(?:[^\s'\"/:,;()\[\]<>]+/)+([^\s'\"/:,;()\[\]<>]*)")


def redact_paths(text: str) -> str:
    """``text`` with each absolute path replaced by its last part (``.../name``)."""
    return _ABSOLUTE.sub(lambda m: ".../" + m.group(1), text)


def redact(value: Any) -> Any:
    """``redact_paths`` over every string in a JSON-like value."""
    if isinstance(value, str):
        return redact_paths(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value

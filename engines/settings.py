"""Where state lives, from the environment (every variable: docs/configuration.md).

- ``CUTLITE_HOME`` (default ``./.cutlite``): the SQLite database and the local object store.
- ``CUTLITE_DATABASE_URL``: a ``postgresql://`` URL puts the registry (and jobs) on Postgres.
- ``CUTLITE_STORAGE_URL``: ``file:///path`` or ``s3://bucket[/prefix]``.

Storage policy: ``dev`` may use the local default (``CUTLITE_HOME/objects``); ``staging`` and
``prod`` need an explicit ``CUTLITE_STORAGE_URL`` unless ``CUTLITE_ALLOW_LOCAL_STORAGE=1``
says so; a location inside the system's temporary folder is refused for ``prod`` always.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import StorageError


def home() -> Path:
    return Path(os.environ.get("CUTLITE_HOME") or ".cutlite").resolve()


def database_url() -> str:
    url = os.environ.get("CUTLITE_DATABASE_URL")
    if url:
        # SQLAlchemy wants the driver spelled out; postgresql:// means psycopg 3 here.
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{home() / 'cutlite.db'}"


def storage_url(env: str) -> str:
    """The object store for ``env``, refusing what the policy above refuses."""
    explicit = os.environ.get("CUTLITE_STORAGE_URL")
    if not explicit and env != "dev" and os.environ.get("CUTLITE_ALLOW_LOCAL_STORAGE") != "1":
        raise StorageError(f"no object store configured for env {env}", stage="storage",
                           hint="set CUTLITE_STORAGE_URL (s3://bucket or file:///durable/path); only dev "
                                "falls back to the local default")
    url = explicit or f"file://{home() / 'objects'}"
    if env == "prod" and url.startswith("file://") and _is_temporary(Path(url.removeprefix("file://"))):
        raise StorageError(f"refusing a temporary folder as prod storage: {url}", stage="storage",
                           hint="point CUTLITE_STORAGE_URL at durable storage")
    return url


def _is_temporary(path: Path) -> bool:
    p = path.resolve()
    temps = {Path(tempfile.gettempdir()).resolve(), Path("/tmp").resolve(), Path("/var/tmp").resolve(),
             Path("/dev/shm").resolve()}
    return any(p == t or t in p.parents for t in temps)


EXECUTORS = ("local", "celery")


def executor() -> str:
    """``CUTLITE_EXECUTOR``: ``local`` (a pool in the submitting process) or ``celery`` (workers)."""
    from .errors import ValidationError

    name = os.environ.get("CUTLITE_EXECUTOR") or "local"
    if name not in EXECUTORS:
        raise ValidationError([f"CUTLITE_EXECUTOR: must be one of {', '.join(EXECUTORS)} (got {name!r})"],
                              stage="config")
    return name


# A chunk's encode is padded (a 15-frame pre-roll and the preset's lookahead as post-roll: 35
# frames at social_1080p's `faster`): 11.7 % more frames encoded at 10 s chunks, 5.8 % at 20 s.
# Measured on 2 workers (docs/performance.md): 10 s chunks 0.99x the single pass, 20 s 0.93x.
DEFAULT_CHUNK_SECONDS = "20"


def default_chunk_seconds() -> str:
    """The chunk length of a job that names none: ``CUTLITE_CHUNK_SECONDS`` or 20 s (a farm of
    many machines wants longer chunks: docs/engines/scale_out.md)."""
    return (os.environ.get("CUTLITE_CHUNK_SECONDS") or "").strip() or DEFAULT_CHUNK_SECONDS



# ---------------------------------------------------------------- limits on what comes in

# The largest document read (a project file, a draft, a timeline file, the JSON text of an HTTP body):
# a 2,000-clip project is ~0.5 MB and the largest real drafts and OTIO files a few MB.
DEFAULT_MAX_DOCUMENT_BYTES = 64 << 20
# The deepest nesting of arrays and objects in a JSON document: a project is 6 levels deep, a CapCut
# draft about 12, an OTIO file 4 per nested stack.
DEFAULT_MAX_DOCUMENT_DEPTH = 128
# HTTP: the largest JSON (or any non-multipart) request body, and the request line and headers.
DEFAULT_MAX_JSON_BODY_BYTES = 16 << 20
DEFAULT_MAX_HEADER_BYTES = 32 << 10
DEFAULT_MAX_QUERY_BYTES = 8 << 10


def _limit(name: str, default: int) -> int:
    """A whole number >= 1 from ``name``, else ``default``; anything else is a config error."""
    from .errors import ValidationError

    text = (os.environ.get(name) or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ValidationError([f"{name}: must be a whole number >= 1 (got {text!r})"], stage="config")
    return value


def max_document_bytes() -> int:
    """``CUTLITE_MAX_DOCUMENT_BYTES``: the largest project, draft or timeline file (or JSON text) read."""
    return _limit("CUTLITE_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES)


def max_document_depth() -> int:
    """``CUTLITE_MAX_DOCUMENT_DEPTH``: the deepest nesting of arrays and objects a JSON document may have."""
    return _limit("CUTLITE_MAX_DOCUMENT_DEPTH", DEFAULT_MAX_DOCUMENT_DEPTH)


def max_json_body_bytes() -> int:
    """``CUTLITE_MAX_JSON_BODY_BYTES``: the largest HTTP request body that is not a multipart upload."""
    return _limit("CUTLITE_MAX_JSON_BODY_BYTES", DEFAULT_MAX_JSON_BODY_BYTES)


def max_header_bytes() -> int:
    """``CUTLITE_MAX_HEADER_BYTES``: the largest HTTP request headers (names and values together)."""
    return _limit("CUTLITE_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES)


def max_query_bytes() -> int:
    """``CUTLITE_MAX_QUERY_BYTES``: the longest query string of an HTTP request."""
    return _limit("CUTLITE_MAX_QUERY_BYTES", DEFAULT_MAX_QUERY_BYTES)

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


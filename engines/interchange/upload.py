"""An uploaded timeline (HTTP import): spooled to a private temporary folder under its own file
name, imported with media linked only through the caller's resolver, and the folder removed.
Nothing in the answer or in an error names the spool folder (a server path)."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from engines.errors import CutliteError, TooLarge, ValidationError

from . import ImportResult, import_timeline
from .media import Resolver

CHUNK = 1 << 20


def import_upload(stream: BinaryIO, filename: str, tenant: str, env: str, resolver: Resolver | None,
                  max_bytes: int) -> ImportResult:
    name = re.sub(r"[^\w.\-]+", "_", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip("._") or "timeline"
    spool = tempfile.mkdtemp(prefix="cutlite-import-")
    try:
        target = Path(spool) / name
        size = 0
        with target.open("wb") as out:
            while block := stream.read(CHUNK):
                size += len(block)
                if size > max_bytes:
                    raise TooLarge(f"{name}: larger than the limit of {max_bytes} bytes", stage="upload")
                out.write(block)
        try:
            return import_timeline(target, tenant=tenant, env=env, resolver=resolver, local_files=False, name=name)
        except CutliteError as exc:
            raise _scrubbed(exc, spool) from None
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def _scrubbed(exc: CutliteError, spool: str) -> CutliteError:
    """The same error with the spool folder cut out of every message."""
    def clean(text: str) -> str:
        return text.replace(spool + "/", "").replace(spool, "")
    if isinstance(exc, ValidationError):
        return ValidationError([clean(p) for p in exc.problems], stage=exc.stage or "import", hint=exc.hint)
    exc.message = clean(exc.message)
    exc.args = (exc.message,)
    exc.context = {k: clean(v) if isinstance(v, str) else v for k, v in exc.context.items()}
    return exc

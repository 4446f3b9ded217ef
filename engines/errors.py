"""The error tree of the engine: one leaf for every failure it reports.

    CutliteError                 root; carries keyword-only context
    ├── ValidationError          bad project / bad parameter
    ├── Unauthorized             no API key, or an unknown or revoked one
    ├── Forbidden                the request may not touch this (another tenant's project, a server file)
    │   └── SignatureInvalid     a signed download URL that was changed or has expired
    ├── NotFound                 no such thing in the caller's tenant and env
    │   ├── AssetNotFound        (also an AssetError)
    │   └── JobNotFound          (also a JobError)
    ├── TooLarge                 over a size or length limit
    │   ├── UploadTooLarge
    │   ├── MediaTooLong
    │   ├── QuotaExceeded        the tenant's storage quota
    │   ├── DocumentTooLarge     a project, draft or timeline file (or JSON text) over the limit
    │   ├── BodyTooLarge         an HTTP request body over the limit
    │   ├── HeadersTooLarge      HTTP request headers over the limit
    │   └── QueryTooLong         an HTTP query string over the limit
    ├── AssetError               missing or unreadable asset
    │   └── AssetNotReady        proxies missing and the full-resolution fallback refused (retryable)
    ├── HardwareError            a required encoder is not usable
    ├── MissingDependency        an optional dependency (an extra) is not installed
    ├── FFmpegError              ffmpeg failed; leaf classes by stderr pattern
    │   ├── FFmpegNotFound
    │   ├── EncoderUnavailable
    │   ├── InputUnreadable
    │   ├── DiskFull
    │   └── FFmpegTimeout
    ├── JobError                 the job state machine refuses (a conflict)
    │   └── ChunkFailed          a chunk that ended its worker on every attempt
    ├── BackpressureError        too many jobs
    │   └── RateLimited          too many requests with one API key
    ├── BrokerUnavailable        the Celery broker refused a job
    ├── StorageError             object store failures
    └── Cancelled                the user cancelled; never matched by message text

Nothing here says how a failure is shown: the CLI maps the tree to exit codes
(``engines/cli.py``) and the HTTP layer to status codes (``engines/api.py``), in one table each.
Every class has its own ``code``, so an error stored as JSON (a job's ``error``) is rebuilt into
its own class by ``from_record``.
"""

from __future__ import annotations

from typing import Any


class CutliteError(Exception):
    code = "error"

    def __init__(self, message: str, *, stage: str | None = None, hint: str | None = None,
                 **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage
        self.hint = hint
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "stage": self.stage,
                "hint": self.hint, "context": _jsonable(self.context)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


class ValidationError(CutliteError):
    """Every problem found, each with the JSON path of the bad field."""

    code = "invalid_project"

    def __init__(self, problems: list[str], *, stage: str = "validate", **context: Any) -> None:
        self.problems = list(problems)
        summary = f"{len(self.problems)} problem(s): " + "; ".join(self.problems[:20])
        super().__init__(summary, stage=stage, problems=self.problems, **context)


class Unauthorized(CutliteError):
    """No API key, or one that is unknown or revoked: the request is not anyone's."""

    code = "unauthorized"


class Forbidden(CutliteError):
    code = "forbidden"


class SignatureInvalid(Forbidden):
    """A signed URL whose signature does not match (a changed character) or whose time has passed."""

    code = "signature_invalid"


class NotFound(CutliteError):
    code = "not_found"




class TooLarge(CutliteError):
    code = "too_large"


class UploadTooLarge(TooLarge):
    code = "upload_too_large"


class MediaTooLong(TooLarge):
    code = "media_too_long"


class QuotaExceeded(TooLarge):
    """The tenant's stored objects would pass its storage quota; nothing was written."""

    code = "quota_exceeded"


class DocumentTooLarge(TooLarge):
    code = "document_too_large"


class BodyTooLarge(TooLarge):
    code = "body_too_large"


class HeadersTooLarge(TooLarge):
    code = "headers_too_large"


class QueryTooLong(TooLarge):
    code = "query_too_long"


class AssetError(CutliteError):
    code = "asset_error"


class AssetNotFound(NotFound, AssetError):
    """Also an AssetError: code that skips unusable assets skips unknown ones too."""

    code = "asset_not_found"


class AssetNotReady(AssetError):
    """Proxies are missing and the full-resolution fallback is not allowed: retry once they exist."""

    code = "asset_not_ready"


class MissingDependency(CutliteError):
    """A feature's optional dependency is not installed; names the extra that brings it."""

    code = "missing_dependency"

    def __init__(self, module: str, extra: str, feature: str) -> None:
        super().__init__(f"{feature} needs the Python module {module!r}, which is not installed",
                         stage="dependencies", module=module, extra=extra,
                         hint=f'pip install "cutlite[{extra}]" (from a checkout: pip install -e ".[{extra}]")')


class HardwareError(CutliteError):
    code = "hardware_unavailable"


class FFmpegError(CutliteError):
    """ffmpeg failed. Carries argv, returncode and the tail of stderr."""

    code = "ffmpeg_failed"

    @property
    def stderr_tail(self) -> str:
        return str(self.context.get("stderr_tail") or "")

    def __str__(self) -> str:
        parts = [self.message]
        if self.stage:
            parts.append(f"stage: {self.stage}")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if self.stderr_tail:
            parts.append("stderr tail:\n" + self.stderr_tail)
        return "\n".join(parts)


class FFmpegNotFound(FFmpegError):
    code = "ffmpeg_not_found"


class EncoderUnavailable(FFmpegError):
    code = "encoder_unavailable"


class InputUnreadable(FFmpegError):
    code = "input_unreadable"


class DiskFull(FFmpegError):
    code = "disk_full"


class FFmpegTimeout(FFmpegError):
    code = "ffmpeg_timeout"


class JobError(CutliteError):
    code = "job_error"


class JobNotFound(NotFound, JobError):
    code = "job_not_found"


class ChunkFailed(JobError):
    code = "chunk_failed"


class BackpressureError(CutliteError):
    code = "backpressure"


class RateLimited(BackpressureError):
    """One API key sent more requests than its rate allows; ``retry_after`` says when to try again."""

    code = "rate_limited"


class BrokerUnavailable(CutliteError):
    code = "broker_unavailable"


class StorageError(CutliteError):
    code = "storage_error"


class Cancelled(CutliteError):
    code = "cancelled"


def most_specific(exc: CutliteError, table: dict[type[CutliteError], int]) -> int:
    """The value ``table`` gives the most specific class of ``exc`` it lists (the root is always listed
    by the CLI's and the API's tables)."""
    return next(table[cls] for cls in type(exc).__mro__ if cls in table)


def _leaves(cls: type[CutliteError]) -> list[type[CutliteError]]:
    return [cls] + [leaf for sub in cls.__subclasses__() for leaf in _leaves(sub)]


def from_record(record: dict[str, Any] | None) -> CutliteError:
    """An error stored as JSON (``to_dict``) rebuilt into its own class, with its context."""
    record = record or {}
    by_code = {cls.code: cls for cls in _leaves(CutliteError)}
    cls = by_code.get(str(record.get("code")), CutliteError)
    err = CutliteError.__new__(cls)
    CutliteError.__init__(err, str(record.get("message") or "failed"), stage=record.get("stage"),
                          hint=record.get("hint"), **(record.get("context") or {}))
    if isinstance(err, ValidationError):
        err.problems = list(err.context.get("problems") or [])
    return err

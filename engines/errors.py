"""The error tree of the engine.

    CutliteError                 root; carries keyword-only context
    ├── ValidationError          bad project / bad parameter (exit 2, HTTP 400/422)
    ├── AssetError               missing or unreadable asset (exit 2)
    ├── HardwareError            a required encoder is not usable (exit 2)
    ├── FFmpegError              ffmpeg failed (exit 1); leaf classes by stderr pattern
    │   ├── FFmpegNotFound
    │   ├── EncoderUnavailable
    │   ├── InputUnreadable
    │   ├── DiskFull
    │   └── FFmpegTimeout
    ├── JobError                 job repository / state machine refusals
    ├── BackpressureError        too many jobs (exit 3, HTTP 429)
    ├── StorageError             object store failures
    └── Cancelled                the user cancelled (exit 130); never matched by message text

The CLI and the HTTP layer map this tree to exit and status codes in one place each.
"""

from __future__ import annotations

from typing import Any


class CutliteError(Exception):
    code = "error"
    exit_code = 1

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
    exit_code = 2

    def __init__(self, problems: list[str], *, stage: str = "validate", **context: Any) -> None:
        self.problems = list(problems)
        summary = f"{len(self.problems)} problem(s): " + "; ".join(self.problems[:20])
        super().__init__(summary, stage=stage, problems=self.problems, **context)


class AssetError(CutliteError):
    code = "asset_error"
    exit_code = 2


class HardwareError(CutliteError):
    code = "hardware_unavailable"
    exit_code = 2


class FFmpegError(CutliteError):
    """ffmpeg failed. Carries argv, returncode and the tail of stderr."""

    code = "ffmpeg_failed"
    exit_code = 1

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
    exit_code = 2


class BackpressureError(CutliteError):
    code = "backpressure"
    exit_code = 3


class StorageError(CutliteError):
    code = "storage_error"


class Cancelled(CutliteError):
    code = "cancelled"
    exit_code = 130

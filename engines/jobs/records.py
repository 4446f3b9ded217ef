"""What the job tables hold, as typed, frozen records: jobs, their chunks, and their states.

    QUEUED ──> RUNNING ──> COMPLETED
      │          │ ├────> FAILED ───┐
      │          │ └────> CANCELED ─┤
      └──────────┴──────> CANCELED  │
    RUNNING (owner gone) ─> QUEUED <┘   resume

    chunk: PENDING ──> RUNNING ──> DONE
                          └─────> FAILED   (after the last attempt)
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Mapping


class JobState(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    COMPLETED = "COMPLETED"

    @property
    def ended(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELED)


class ChunkState(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


def _from_row(cls: type, row: Mapping[str, Any]) -> Any:
    return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Job:
    id: str
    tenant: str
    env: str
    state: JobState
    profile: str
    params: dict[str, Any]
    params_hash: str
    plan_hash: str
    progress: float
    owner: str | None
    heartbeat_at: float | None
    cancel_requested: bool
    error: dict[str, Any] | None
    output_key: str | None
    timings: dict[str, Any]
    created_at: str
    updated_at: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", JobState(self.state))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Job":
        return _from_row(cls, row)

    @property
    def on_workers(self) -> bool:
        """Owned by the Celery workers rather than one process."""
        return str(self.owner or "").startswith("celery")


@dataclass(frozen=True)
class Chunk:
    job_id: str
    idx: int
    start_frame: int
    end_frame: int
    state: ChunkState
    attempts: int
    content_hash: str | None
    key: str | None
    checksum: str | None
    reused: bool
    seconds: float | None
    worker: str | None
    error: dict[str, Any] | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", ChunkState(self.state))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Chunk":
        return _from_row(cls, row)

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

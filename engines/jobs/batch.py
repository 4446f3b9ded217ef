"""Batches: one template, many rows of values, one render job per row.

Each row is an ordinary job of the filled template (``FilledTemplate``), so its id comes from what it
renders: the same row again is the same job (already COMPLETED: nothing is rendered again), and rows
that make the same video share it. Rows run one after another through ``JobService.start`` (here, or
followed on the workers), each submitted only when it is its turn, so a batch of any length never
fills the queue: past the limits (another process's jobs holding the slots) a row waits for a slot
instead of being refused. A row that is invalid or fails is recorded with its error and the others go
on; the outcome of every row is the batch's manifest.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from engines.errors import BackpressureError, Cancelled, CutliteError, ValidationError
from engines.model.template import FilledTemplate

from .records import JobState
from .runner import copy_out, error_record
from .service import JobService

log = logging.getLogger(__name__)
SLOT_WAIT = 1.0       # seconds between tries for a running slot, doubled up to SLOT_WAIT_MAX
SLOT_WAIT_MAX = 15.0
_UNSAFE = re.compile(r"[/\\\x00]|^\.\.?$")  # a value may not add folders to an output path


@dataclass
class RowOutcome:
    row: int                       # 1-based, in the order given
    values: dict[str, Any]
    state: str = "NOT_STARTED"     # a job state, INVALID (refused before a job existed) or NOT_STARTED
    job_id: str | None = None
    output: str | None = None
    reused: bool = False           # the job had already completed: nothing rendered again
    error: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def output_for(pattern: str, row: int, values: dict[str, Any]) -> str:
    """``pattern`` with ``{NAME}`` replaced by the row's values (``{row}``: its number). A value that
    would add or leave folders is refused."""
    fields = {"row": row, **{k: str(v) for k, v in values.items()}}
    for name, value in fields.items():
        if isinstance(value, str) and _UNSAFE.search(value) and f"{{{name}}}" in pattern:
            raise ValidationError([f"{name}: the value {value!r} cannot be part of a file name"], stage="batch")
    try:
        return pattern.format_map(fields)
    except KeyError as exc:
        raise ValidationError([f"output: {{{exc.args[0]}}} names no column of this row "
                               f"(columns: {', '.join(sorted(values)) or 'none'})"], stage="batch") from None
    except (ValueError, IndexError) as exc:
        raise ValidationError([f"output: not a pattern of {{NAME}} fields: {exc}"], stage="batch") from None


def row_values(row: dict[str, Any]) -> dict[str, Any]:
    """A row's values; an empty cell (CSV) or null (JSON) leaves the variable at its default."""
    return {str(k): v for k, v in row.items() if v is not None and v != ""}


def run_batch(jobs: JobService, template: Path, rows: list[dict[str, Any]], profile: str, output: str, *,
              options: dict[str, Any] | None = None, hw: str | None = None, workers: int | None = None,
              progress: Callable[[float], None] | None = None,
              cancel: threading.Event | None = None) -> list[RowOutcome]:
    """Every row rendered (or refused) in order; the outcomes, one per row.

    ``workers`` encodes at once: here (the local executor) that many rows run side by side, each in
    a thread of this process (a row's job gets the workers left over for its chunks), as a job runs
    that many chunks at once. The batch holds one running slot of the limits, like one job: the row
    that takes it is submitted when a slot is free (``need_slot``), the rows running beside it are
    riders (``repository.RIDER``) that start only while it runs and are not counted again. When the
    slot's row ends before its riders, the next row waits for a slot again, so other tenants' jobs
    get theirs in turn. On the workers, rows are followed one after another (the workers render)."""
    cancel = cancel or threading.Event()
    outcomes = [RowOutcome(i + 1, row_values(r)) for i, r in enumerate(rows)]
    lanes = 1 if jobs.on_workers else max(1, min(int(workers or 1), len(outcomes)))
    row_workers = max(1, int(workers or 1) // lanes)
    done_share: dict[int, float] = {}  # row index -> its job's progress
    lock = threading.Lock()

    def report(i: int, f: float) -> None:
        if progress is None:
            return
        with lock:
            done_share[i] = f
            total = sum(done_share.values())
        progress(total / len(outcomes))

    def render(i: int, outcome: RowOutcome, job: Any, rider: bool) -> None:
        done = jobs.start(job.id, workers=row_workers, cancel=cancel, rider=rider,
                          progress=lambda f, _block: report(i, f))
        outcome.state = done.state.value
        copied_by_run = not jobs.on_workers and not outcome.reused and job.params.get("output") == outcome.output
        if done.state == JobState.COMPLETED and not copied_by_run:
            copy_out(jobs.output_path(done), Path(outcome.output or ""))
        elif done.state != JobState.COMPLETED:
            outcome.error = done.error
        report(i, 1.0)

    running: dict[Future[None], tuple[bool, str]] = {}  # a row's render -> (a rider?, its job id)

    def settle(block: bool) -> None:
        """Take finished rows out of ``running`` (waiting for one first when ``block``): their
        exceptions (engine bugs) are raised."""
        if not running:
            return
        finished, _ = wait(list(running), return_when=FIRST_COMPLETED, timeout=None if block else 0)
        for f in finished:
            running.pop(f)
            f.result()

    with ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="batch-row") as pool:
        try:
            for i, outcome in enumerate(outcomes):
                settle(block=False)
                while len(running) >= lanes:
                    settle(block=True)
                if cancel.is_set():
                    break
                # a rider only beside the batch's slot-holding row while that row still runs
                rider = any(not r and not f.done() for f, (r, _) in running.items())
                try:
                    outcome.output = str(Path(output_for(output, outcome.row, outcome.values)).resolve())
                    job = submit_when_free(jobs, FilledTemplate(template, outcome.values), profile, options=options,
                                           hw=hw, output=outcome.output, cancel=cancel,
                                           need_slot=not jobs.on_workers and not rider)
                except Cancelled:
                    break
                except CutliteError as exc:
                    outcome.state, outcome.error = "INVALID", error_record(exc, "submit")
                    report(i, 1.0)
                    continue
                while any(jid == job.id for _, jid in running.values()):
                    settle(block=True)  # rows that make the same video share its job: this one waits for it
                    job = jobs.jobs.get(job.id)
                outcome.job_id, outcome.reused = job.id, job.state == JobState.COMPLETED
                running[pool.submit(render, i, outcome, job, rider)] = (rider, job.id)
            while running:
                settle(block=True)
        except BaseException:
            cancel.set()  # an engine bug in one row: the others stop too
            raise
    return outcomes


def submit_when_free(jobs: JobService, project: Any, profile: str, *, options: dict[str, Any] | None,
                     hw: str | None, cancel: threading.Event, output: str | None = None,
                     base_dir: Path | None = None, need_slot: bool = False) -> Any:
    """Submit a row's job, waiting for a slot (never refusing) while the limits are reached; Cancelled
    when ``cancel`` is set meanwhile."""
    wait = SLOT_WAIT
    while True:
        try:
            job, _ = jobs.submit(project, profile, options=options, hw=hw, output=output, base_dir=base_dir,
                                 need_slot=need_slot)
            return job
        except BackpressureError:
            if cancel.wait(wait):
                raise Cancelled("the batch was cancelled while waiting for a slot", stage="batch") from None
            wait = min(SLOT_WAIT_MAX, wait * 2)


@dataclass
class PendingRow:
    """A row's job not submitted yet: the limits were reached when its batch came in."""
    row: int
    project: Any
    profile: str
    options: dict[str, Any]
    hw: str | None
    base_dir: Path | None
    callback_url: str | None = None


class BatchFeeder:
    """An API server's batches past the limits: their waiting rows submitted in order, as slots free.

    ``on_submitted(row, job)`` is told of each (to register a webhook, wake the executor). Waiting
    rows live in this process: a server that stops before it submitted them loses them (the batch's
    answer said which rows were waiting; posting the batch again submits them, the others being the
    same jobs)."""

    def __init__(self, jobs: JobService, on_submitted: Callable[[PendingRow, Any], None]) -> None:
        self.jobs = jobs
        self.on_submitted = on_submitted
        self._rows: list[PendingRow] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, rows: list[PendingRow]) -> None:
        with self._lock:
            self._rows.extend(rows)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="batch-feeder", daemon=True)
                self._thread.start()
        self._wake.set()

    def waiting(self) -> int:
        with self._lock:
            return len(self._rows)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                row = self._rows[0] if self._rows else None
            if row is None:
                self._wake.wait(SLOT_WAIT_MAX)
                self._wake.clear()
                continue
            try:
                job = submit_when_free(self.jobs, row.project, row.profile, options=row.options, hw=row.hw,
                                       base_dir=row.base_dir, cancel=self._stop)
            except Cancelled:  # the server stops: the rows still waiting go with it (said above)
                return
            except CutliteError as exc:  # the sources changed since the batch came in: said, not skipped silently
                log.warning("batch row %d was not submitted: %s", row.row, exc.message)
                job = None
            with self._lock:
                self._rows.pop(0)
            if job is not None:
                self.on_submitted(row, job)

"""Preview sessions: the window around the playhead, rendered as HLS into a folder of its own.

``PreviewSessions.start`` plans the window (errors raise at once, with their hint), starts the
encode in a thread (``PreviewService.preview(..., hls=folder)``) and returns as soon as the
playlist lists its first segment, so the player starts while the rest encodes. A session is
known by an unguessable id bound to its tenant and env; files are served by name only
(``index.m3u8``, ``seg_NNNNN.ts``), never by path. Folders live in one temporary folder per
server process, removed at exit; each tenant and env keeps its ``KEEP`` newest sessions, older
ones are cancelled and deleted (a scrub replaces the window being played).
"""

from __future__ import annotations

import atexit
import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engines.errors import CutliteError, FFmpegTimeout, NotFound
from engines.model.project import Project
from engines.model.timebase import fraction_text
from engines.video_preview.hls import PLAYLIST
from engines.video_preview.service import PreviewService

KEEP = 3
FIRST_SEGMENT_WAIT = 60.0  # seconds: past this the start request answers with a timeout error
WINDOW_SECONDS = 6         # the default window after the playhead
NAME_RE = re.compile(r"index\.m3u8|seg_\d{5}\.ts")
SID_RE = re.compile(r"[0-9a-f]{32}")


@dataclass
class Session:
    id: str
    tenant: str
    env: str
    folder: Path
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    error: CutliteError | None = None
    created: float = field(default_factory=time.monotonic)

    def state(self) -> str:
        if not self.done.is_set():
            return "running"
        return "failed" if self.error is not None else "done"


class PreviewSessions:
    def __init__(self, previews: PreviewService) -> None:
        self.previews = previews
        self._root: Path | None = None
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def _folder(self, sid: str) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="cutlite-studio-"))
                atexit.register(shutil.rmtree, self._root, True)
            return self._root / sid

    def start(self, project: Project, base_dir: Path, *, strategy: str, start: Any, end: Any = None,
              hw: str | None = None, allow_full_res_fallback: bool | None = None) -> dict[str, Any]:
        """Plan the window, start its HLS encode, return once the first segment is listed."""
        plan = self.previews.plan(project, strategy, start, end, hw=hw, base_dir=base_dir,
                                  allow_full_res_fallback=allow_full_res_fallback, queue_proxies=False)
        sid = secrets.token_hex(16)
        session = Session(sid, project.tenant, project.env, self._folder(sid))
        self._evict(project.tenant, project.env)
        with self._lock:
            self._sessions[sid] = session
        window = (fraction_text(plan.start), fraction_text(plan.end))
        started = time.monotonic()
        threading.Thread(target=self._encode, name=f"studio-preview-{sid[:8]}", daemon=True,
                         args=(session, project, base_dir, strategy, window, hw, allow_full_res_fallback)).start()
        playlist = session.folder / PLAYLIST
        while not session.done.wait(0.02):
            if _lists_a_segment(playlist):
                break
            if time.monotonic() - started > FIRST_SEGMENT_WAIT:
                self.stop(sid)
                raise FFmpegTimeout(f"the preview listed no segment within {FIRST_SEGMENT_WAIT:.0f} s",
                                  stage="preview", retryable=True, hint="the server is busy: try again")
        if session.error is not None:
            self.forget(sid)
            raise session.error
        return {"session": sid, "playlist": f"/studio/api/previews/{sid}/{PLAYLIST}",
                "strategy": plan.strategy, "profile": plan.profile,
                "window": {"start": window[0], "end": window[1], "start_seconds": float(plan.start),
                           "end_seconds": float(plan.end)},
                "warnings": plan.warnings, "slates": sorted(a.asset for a in plan.assets if a.read_from == "slate"),
                "proxies_used": sorted(a.asset for a in plan.assets if a.read_from == "proxy"),
                "queued_proxies": plan.queued_proxies, "estimated_latency_ms": round(plan.estimate.ms),
                "first_segment_ms": round((time.monotonic() - started) * 1000)}

    def _encode(self, session: Session, project: Project, base_dir: Path, strategy: str,
                window: tuple[str, str], hw: str | None, allow: bool | None) -> None:
        try:
            self.previews.preview(project, strategy, window[0], window[1], hls=session.folder, hw=hw,
                                  base_dir=base_dir, allow_full_res_fallback=allow, cancel=session.cancel)
        except CutliteError as exc:
            session.error = exc
        except Exception:  # noqa: BLE001 - reported to the page as an internal error, never a traceback
            session.error = CutliteError("internal error while rendering the preview", stage="preview",
                                         hint="retry; if it persists, report it")
        finally:
            session.done.set()

    def get(self, sid: str, tenant: str, env: str) -> Session:
        with self._lock:
            session = self._sessions.get(sid) if SID_RE.fullmatch(sid) else None
        if session is None or (session.tenant, session.env) != (tenant, env):
            raise NotFound(f"preview session {sid[:40]} not found", stage="studio")
        return session

    def status(self, sid: str, tenant: str, env: str) -> dict[str, Any]:
        session = self.get(sid, tenant, env)
        err = session.error.to_dict() if session.error is not None else None
        if err is not None:
            for private in ("argv", "path", "stderr_tail"):
                err["context"].pop(private, None)
        return {"session": sid, "state": session.state(), "error": err}

    def file(self, sid: str, tenant: str, env: str, name: str) -> Path:
        session = self.get(sid, tenant, env)
        path = session.folder / name
        if not NAME_RE.fullmatch(name) or not path.is_file():
            raise NotFound(f"{name[:40]} not found in the preview session", stage="studio")
        return path

    def stop(self, sid: str) -> None:
        with self._lock:
            session = self._sessions.get(sid)
        if session is not None:
            session.cancel.set()

    def forget(self, sid: str) -> None:
        with self._lock:
            session = self._sessions.pop(sid, None)
        if session is not None:
            session.cancel.set()
            threading.Thread(target=_remove_when_done, args=(session,), daemon=True).start()

    def _evict(self, tenant: str, env: str) -> None:
        with self._lock:
            mine = sorted((s for s in self._sessions.values() if (s.tenant, s.env) == (tenant, env)),
                          key=lambda s: s.created)
        for old in mine[: max(0, len(mine) - KEEP + 1)]:
            self.forget(old.id)

    def close(self) -> None:
        with self._lock:
            sids = list(self._sessions)
        for sid in sids:
            self.forget(sid)


def _lists_a_segment(playlist: Path) -> bool:
    try:
        return "#EXTINF" in playlist.read_text()
    except OSError:
        return False


def _remove_when_done(session: Session) -> None:
    session.done.wait(30)
    shutil.rmtree(session.folder, ignore_errors=True)

"""The studio's HTTP routes, mounted by ``engines.api`` with one ``include_router`` line.

- ``GET /studio`` and ``/studio/static/...``: the page and its files (the same for everyone:
  no tenant data, no key needed; the page asks for an API key once and keeps it in the tab's
  ``sessionStorage``, never in a URL).
- ``POST /studio/api/session``: the key's tenant, env and role, and an HttpOnly, SameSite=Strict
  cookie bound to the key, so media the browser fetches itself (a native HLS player) need no header.
- ``POST /studio/api/timeline``: the project's tracks and clips at their placed times, and each
  asset's registry facts (local ``path`` assets register on first use, as previews do).
- ``GET /studio/api/assets/{asset_id}/filmstrip.jpg|filmstrip.vtt|waveform.json``: made once
  per asset and stored as media_v2 artifacts (``filmstrip.py``, ``waveform.py``).
- ``POST /studio/api/previews``: an HLS preview session of the window at the playhead
  (``sessions.py``); ``GET``/``DELETE /studio/api/previews/{id}``, its files by name.
- ``GET /studio/api/jobs/{job_id}/output``: a COMPLETED job's output, streamed.
- ``GET /studio/api/projects`` and ``/studio/api/projects/{job_id}``: the projects the tenant
  has rendered (the job registry keeps each job's project document).

Every data route takes the API's key check (``engines.access``); another tenant's asset, session
or job is a 404. GETs under ``/studio/api/`` also accept the session cookie, because a browser's
own HLS player cannot send headers (the page uses hls.js, which can, wherever the browser has MSE).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict

from engines.access.http import Gate
from engines.errors import CutliteError, JobError, NotFound
from engines.http_limits import JsonRoute
from engines.jobs.records import JobState
from engines.model.project import Project
from engines.rendering.proxies import ProxyLadder
from engines.video_preview.hls import PLAYLIST
from engines.video_preview.service import PreviewService
from engines.video_preview.strategy import parse_window
from engines.video_render.service import RenderService

from .filmstrip import ensure_filmstrip
from .sessions import WINDOW_SECONDS, PreviewSessions
from .timeline_view import timeline_view
from .waveform import ensure_waveform

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css",
         ".txt": "text/plain; charset=utf-8", ".LICENSE": "text/plain; charset=utf-8"}
NO_STORE = {"Cache-Control": "no-store"}


class TimelineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]


class SessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    strategy: str = "fast"
    start: float | str = 0
    end: float | str | None = None
    hw: str | None = None


def static_files() -> dict[str, Path]:
    """Every file the page may load, by its name under ``/studio/static/``: nothing else is served."""
    return {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}


OUTPUT_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime", ".gif": "image/gif",
                ".m4a": "audio/mp4"}


def studio_router(svc: RenderService, previews: PreviewService, scope: Callable[..., Any],
                  project_in_scope: Callable[[dict[str, Any], Any], tuple[Project, Path]], gate: Gate) -> APIRouter:
    router = APIRouter(route_class=JsonRoute)  # JSON bodies through the one loader
    sessions = PreviewSessions(previews)
    files = static_files()

    @router.get("/studio", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type=TYPES[".html"], headers=NO_STORE)

    @router.get("/studio/static/{name:path}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        path = files.get(name)
        if path is None:
            raise NotFound(f"no studio file {name[:60]!r}", stage="studio")
        return FileResponse(path, media_type=TYPES.get(path.suffix, "application/octet-stream"))

    @router.post("/studio/api/session")
    def session(request: Request, sc: Any = Depends(scope)) -> JSONResponse:
        """Who the key is, and the cookie that lets the browser's own requests for media through."""
        answer = JSONResponse({"tenant": sc.tenant, "env": sc.env, "role": sc.role, "key_id": sc.key_id})
        gate.set_cookie(answer, sc, secure=request.url.scheme == "https")
        return answer

    @router.post("/studio/api/timeline")
    def timeline(body: TimelineBody, sc: Any = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        view = timeline_view(project)
        view["assets"] = {name: _asset_facts(svc, project, base, name) for name in sorted(project.assets)}
        return view

    @router.get("/studio/api/assets/{asset_id}/filmstrip.jpg", include_in_schema=False)
    def filmstrip_sprite(asset_id: str, sc: Any = Depends(scope)) -> FileResponse:
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        sprite, _ = ensure_filmstrip(svc.library, svc.runner, asset)
        return FileResponse(svc.library.store(asset.env).local_path(sprite.key), media_type="image/jpeg")

    @router.get("/studio/api/assets/{asset_id}/filmstrip.vtt", include_in_schema=False)
    def filmstrip_cues(asset_id: str, sc: Any = Depends(scope)) -> FileResponse:
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        _, cues = ensure_filmstrip(svc.library, svc.runner, asset)
        return FileResponse(svc.library.store(asset.env).local_path(cues.key), media_type="text/vtt")

    @router.get("/studio/api/assets/{asset_id}/waveform.json")
    def waveform(asset_id: str, sc: Any = Depends(scope)) -> FileResponse:
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        peaks = ensure_waveform(svc.library, asset)
        return FileResponse(svc.library.store(asset.env).local_path(peaks.key), media_type="application/json")

    @router.post("/studio/api/previews", status_code=201)
    def start_preview(body: SessionBody, sc: Any = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        start, end = parse_window(body.start, body.end)
        start = start or Fraction(0)
        return sessions.start(project, base, strategy=body.strategy, start=start,
                              end=end if end is not None else start + WINDOW_SECONDS, hw=body.hw)

    @router.get("/studio/api/previews/{session_id}")
    def preview_status(session_id: str, sc: Any = Depends(scope)) -> dict[str, Any]:
        return sessions.status(session_id, sc.tenant, sc.env)

    @router.delete("/studio/api/previews/{session_id}")
    def stop_preview(session_id: str, sc: Any = Depends(scope)) -> dict[str, Any]:
        sessions.get(session_id, sc.tenant, sc.env)
        sessions.forget(session_id)
        return {"session": session_id, "state": "deleted"}

    @router.get("/studio/api/previews/{session_id}/{name}", include_in_schema=False)
    def preview_file(session_id: str, name: str, sc: Any = Depends(scope)) -> Response:
        path = sessions.file(session_id, sc.tenant, sc.env, name)
        if name != PLAYLIST:
            return FileResponse(path, media_type="video/mp2t")
        return Response(path.read_text(), media_type="application/vnd.apple.mpegurl", headers=NO_STORE)

    @router.get("/studio/api/jobs/{job_id}/output", include_in_schema=False)
    def job_output(job_id: str, sc: Any = Depends(scope)) -> FileResponse:
        job = svc.jobs.get(job_id, sc.tenant, sc.env)
        if job.state != JobState.COMPLETED or not job.output_key:
            raise JobError(f"job {job_id} is {job.state.value}: it has no output yet", stage="studio",
                           hint="download once the job is COMPLETED")
        path = svc.library.store(sc.env).local_path(job.output_key)
        suffix = Path(job.output_key).suffix  # the profile's container
        return FileResponse(path, media_type=OUTPUT_TYPES.get(suffix, "application/octet-stream"),
                            filename=f"{job_id}{suffix}")

    @router.get("/studio/api/projects")
    def projects(sc: Any = Depends(scope)) -> dict[str, Any]:
        seen: dict[str, dict[str, Any]] = {}
        for job in svc.jobs.list(tenant=sc.tenant, env=sc.env, limit=200):
            pid = job.params.get("project", {}).get("id")
            if pid and pid not in seen:
                seen[pid] = {"id": pid, "job_id": job.id, "profile": job.profile, "state": job.state.value,
                             "created_at": job.created_at}
        return {"projects": list(seen.values())}

    @router.get("/studio/api/projects/{job_id}")
    def project_of_job(job_id: str, sc: Any = Depends(scope)) -> dict[str, Any]:
        return {"project": svc.jobs.get(job_id, sc.tenant, sc.env).params["project"]}

    return router


def _asset_facts(svc: RenderService, project: Project, base: Path, name: str) -> dict[str, Any]:
    """What the page needs of an asset; a missing one is named, never shown by its server path."""
    try:
        asset = ProxyLadder(svc, svc.library).resolve(project, base, name)
    except CutliteError as exc:
        problem = exc.message if project.assets[name].asset_id else "file not found or not readable media"
        return {"asset_id": None, "kind": None, "problem": problem}
    probe = asset.probe
    return {"asset_id": asset.id, "kind": asset.kind, "duration_seconds": probe.get("duration_seconds"),
            "has_video": bool(probe.get("video")) and asset.kind == "video", "has_audio": bool(probe.get("audio")),
            "problem": None}

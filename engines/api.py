"""The HTTP API (FastAPI): media_v2 assets and artifacts, proxies and render plans.

Every request carries ``X-Tenant`` and ``X-Env`` (400 when missing or invalid); a project whose
tenant/env differ from the headers is a 403; an asset of another tenant is a 404 (its existence
is not revealed). Errors are JSON: ``{"error": {code, message, stage, hint, context}}``, mapped
from the error tree in one place (``_status_of``); server paths and argv never leave the server.

Local files over HTTP: a project ``path`` or a ``file://`` URI would let a tenant pull any file of
the server into its account, so both are refused unless the file lies under one of the folders in
``CUTLITE_LOCAL_ROOTS`` (``os.pathsep``-separated) and the env is ``dev``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from engines.http_limits import install_limits
from engines.jobs.records import JobState
from engines.media_v2.library import max_upload_bytes
from engines.model.project import Project, load_project
from engines.model.scope import check_scope
from engines.planning.plan import portable_links
from engines.redaction import redact
from engines.settings import default_chunk_seconds
from engines.video_preview.service import PreviewService
from engines.video_render.service import RenderService, ensure_proxies_for_project

from .errors import (
    AssetError,
    AssetNotReady,
    BackpressureError,
    BrokerUnavailable,
    Cancelled,
    CutliteError,
    FFmpegError,
    Forbidden,
    HardwareError,
    HeadersTooLarge,
    JobError,
    MissingDependency,
    NotFound,
    QueryTooLong,
    StorageError,
    TooLarge,
    UploadTooLarge,
    ValidationError,
    most_specific,
)

SCHEMA = "cutlite.api/1"


class Scope(BaseModel):
    tenant: str
    env: str


class ProjectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    profile: str = "draft_360p"
    hw: str | None = None


class JobBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    profile: str
    options: dict[str, Any] = {}
    job_id: str | None = None
    hw: str | None = None


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    strategy: str = "fast"
    start: float | str | None = None  # seconds: a number or a rational string ("1001/30000")
    end: float | str | None = None
    hw: str | None = None
    allow_full_res_fallback: bool | None = None  # a request may forbid the fallback, never force it


class UriBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str


def scope(x_tenant: str | None = Header(default=None), x_env: str | None = Header(default=None)) -> Scope:
    missing = [h for h, v in (("X-Tenant", x_tenant), ("X-Env", x_env)) if not v]
    if missing:
        raise ValidationError([f"header {h}: required" for h in missing], stage="scope")
    tenant, env = check_scope(x_tenant, x_env)
    return Scope(tenant=tenant, env=env)


def local_roots() -> list[Path]:
    return [Path(p).resolve() for p in os.environ.get("CUTLITE_LOCAL_ROOTS", "").split(os.pathsep) if p]


def allowed_local_file(path: Path, env: str) -> Path:
    resolved = path.resolve()
    roots = local_roots()
    if env != "dev" or not any(resolved == r or r in resolved.parents for r in roots):
        raise Forbidden("local files are not accepted over HTTP here", stage="scope",
                         hint="upload the file (POST /media_v2/assets, multipart) and use its asset_id")
    return resolved


def create_app(service: RenderService | None = None, *, run_jobs: bool = True) -> FastAPI:
    from contextlib import asynccontextmanager

    svc = service or RenderService()
    executor = svc.job_service.background_executor() if run_jobs else None
    previews = PreviewService(svc)  # one warm service: its caches make repeated previews cheap

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        if executor is not None:
            executor.start()
        yield
        if executor is not None:
            executor.stop()
        previews.close(cancel=True)  # queued proxies are made again on demand

    app = FastAPI(title="cutlite", version="0.1.0", lifespan=lifespan,
                  description="Render and preview engine: media_v2 registry, proxies, render plans, jobs.")
    install_limits(app, _status_of)  # body, header and query limits; JSON bodies through the one loader

    def project_in_scope(doc: dict[str, Any], sc: Scope) -> tuple[Project, Path]:
        project = load_project(doc)
        if (project.tenant, project.env) != (sc.tenant, sc.env):
            raise Forbidden("the project belongs to another tenant or env than the request's headers",
                            stage="scope")
        roots = local_roots()
        for name, ref in project.assets.items():
            if ref.path is not None:
                base = roots[0] if roots else Path("/nonexistent")
                allowed_local_file(base / ref.path, project.env)
        return project, (roots[0] if roots else Path.cwd())

    @app.exception_handler(CutliteError)
    async def _cutlite_error(_request: Request, exc: CutliteError) -> JSONResponse:
        status = _status_of(exc)
        body = exc.to_dict()
        for private in ("argv", "path"):
            body["context"].pop(private, None)
        body = redact(body)  # messages and stderr tails name server files
        headers = {"Retry-After": str(exc.context.get("retry_after", 5))} if status == 429 else None
        return JSONResponse({"error": body}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()]
        err = ValidationError(problems, stage="request")
        return JSONResponse({"error": err.to_dict()}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": {"code": "http_error", "message": str(exc.detail), "stage": "request",
                                       "hint": None, "context": {}}}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return JSONResponse({"error": {"code": "internal", "message": "internal error", "stage": None,
                                       "hint": "retry; if it persists, report it", "context": {}}},
                            status_code=500)

    # -------------------------------------------------------------- media_v2

    @app.post("/media_v2/assets", status_code=201)
    async def register_asset(request: Request, sc: Scope = Depends(scope)) -> JSONResponse:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            upload = await _uploaded_file(request)
            asset, created = svc.library.register_upload(sc.tenant, sc.env, upload.file, upload.filename or "upload")
        elif ctype.startswith("application/json"):
            body = UriBody.model_validate(await request.json())
            parsed = urlparse(body.uri)
            if parsed.scheme != "file":
                raise ValidationError([f"uri: unsupported scheme {parsed.scheme!r}; upload the file instead"],
                                      stage="request")
            path = allowed_local_file(Path(unquote(parsed.path)), sc.env)
            asset, created = svc.library.register_file(sc.tenant, sc.env, path)
        else:
            raise ValidationError(["content-type: send multipart/form-data (file) or application/json (uri)"],
                                  stage="request")
        full = svc.library.get_asset(sc.tenant, sc.env, asset.id)
        return JSONResponse(full.model_dump(), status_code=201 if created else 200)

    @app.get("/media_v2/assets/{asset_id}")
    def get_asset(asset_id: str, sc: Scope = Depends(scope)) -> dict[str, Any]:
        return svc.library.get_asset(sc.tenant, sc.env, asset_id).model_dump()

    @app.get("/media_v2/assets/{asset_id}/artifacts")
    def list_artifacts(asset_id: str, kind: str | None = None, sc: Scope = Depends(scope)) -> dict[str, Any]:
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        arts = [a.model_dump() for a in asset.artifacts if kind is None or a.kind == kind]
        return {"asset_id": asset.id, "artifacts": arts}

    # -------------------------------------------------------------- video_render

    @app.post("/video_render/proxies")
    def proxies(body: ProjectBody, sc: Scope = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        outcomes = ensure_proxies_for_project(project, body.profile, service=svc, hw=body.hw, base_dir=base)
        results = []
        for o in outcomes:
            d = o.to_dict()
            if d["error"]:
                d["error"]["context"].pop("argv", None)
                d["error"]["context"].pop("path", None)
            results.append(redact(d))
        return {"schema": SCHEMA, "profile": body.profile, "results": results}

    @app.post("/video_render/import")
    async def import_timeline_upload(request: Request, sc: Scope = Depends(scope)) -> dict[str, Any]:
        """A timeline in any format ``cutlite import`` reads -> {"project", "warnings"}. Media is linked
        only to the tenant's media_v2 assets (by file name); nothing on the server's disk is looked at
        and no server path is in the answer."""
        from starlette.concurrency import run_in_threadpool

        from engines.interchange.upload import import_upload

        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ValidationError(["content-type: send multipart/form-data with a \"file\""], stage="request")
        upload = await _uploaded_file(request)

        def registered(name: str) -> dict[str, str] | None:
            asset = svc.library.registry.find_by_name(sc.tenant, sc.env, name)
            return {"asset_id": asset.id} if asset else None

        result = await run_in_threadpool(import_upload, upload.file, upload.filename or "timeline", sc.tenant,
                                         sc.env, registered, max_upload_bytes())
        return {"schema": SCHEMA, "project": result.project, "warnings": result.warnings}

    @app.post("/video_render/plan")
    def plan(body: ProjectBody, sc: Scope = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        doc = svc.plan_project(project, body.profile, body.hw, base_dir=base).model_dump()
        # server paths stay on the server: inputs named by object key (or the project's own path)
        for inp in doc["inputs"]:
            ref = project.assets[inp["asset"]]
            inp["path"] = (svc.library.get_asset(project.tenant, project.env, ref.asset_id).source_key
                           if ref.asset_id else ref.path)
        doc["links"] = portable_links(doc["links"])
        return doc

    @app.post("/video_preview/preview")
    def preview(body: PreviewBody, sc: Scope = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        allowed = previews.fallback_allowed(project) and body.allow_full_res_fallback is not False
        result = previews.plan(project, body.strategy, body.start, body.end, hw=body.hw, base_dir=base,
                               allow_full_res_fallback=allowed)
        return {"schema": SCHEMA, **result.to_dict(public=True)}

    # -------------------------------------------------------------- jobs

    @app.post("/video_render/jobs")
    def submit_job(body: JobBody, sc: Scope = Depends(scope)) -> JSONResponse:
        project, base = project_in_scope(body.project, sc)
        allowed = {"chunk_seconds", "workers", "chunk_timeout", "max_attempts", "slate_missing"}
        unknown = sorted(set(body.options) - allowed)
        if unknown:
            raise ValidationError([f"options.{k}: unknown option; known: {', '.join(sorted(allowed))}" for k in unknown],
                                  stage="request")
        options = {"chunk_seconds": default_chunk_seconds(), **body.options}
        job, created = svc.submit_job(project, body.profile, options=options, job_id=body.job_id, hw=body.hw,
                                      base_dir=base)
        if executor is not None:
            executor.wake()
        return JSONResponse(svc.job_view(job.id), status_code=202 if created else 200)

    @app.get("/video_render/jobs/{job_id}")
    def get_job(job_id: str, sc: Scope = Depends(scope)) -> dict[str, Any]:
        return svc.job_view(job_id, sc.tenant, sc.env)

    @app.get("/video_render/jobs")
    def list_jobs(state: str | None = None, sc: Scope = Depends(scope)) -> dict[str, Any]:
        if state is not None and state not in {s.value for s in JobState}:
            raise ValidationError([f"state: unknown state {state!r}"], stage="request")
        jobs = svc.jobs.list(state=state, tenant=sc.tenant, env=sc.env)
        return {"jobs": [svc.job_view(j.id, sc.tenant, sc.env) for j in jobs]}

    @app.post("/video_render/jobs/{job_id}/cancel")
    def cancel_job(job_id: str, sc: Scope = Depends(scope)) -> dict[str, Any]:
        svc.jobs.get(job_id, sc.tenant, sc.env)  # 404 outside the tenant, before any side effect
        svc.cancel_job(job_id)
        return svc.job_view(job_id, sc.tenant, sc.env)

    @app.post("/video_render/jobs/{job_id}/resume", status_code=202)
    def resume_job(job_id: str, sc: Scope = Depends(scope)) -> dict[str, Any]:
        svc.jobs.get(job_id, sc.tenant, sc.env)
        svc.jobs.requeue(job_id)
        if executor is not None:
            executor.wake()
        return svc.job_view(job_id, sc.tenant, sc.env)

    from .studio.routes import studio_router
    app.include_router(studio_router(svc, previews, scope, project_in_scope))
    return app


async def _uploaded_file(request: Request) -> UploadFile:
    """The multipart field ``file``, refused before it is read when the request is over the upload limit."""
    length = int(request.headers.get("content-length") or 0)
    if length > max_upload_bytes() + 64 * 1024:
        raise UploadTooLarge(f"upload larger than the limit of {max_upload_bytes()} bytes", stage="upload")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationError(["file: a multipart field named \"file\" is required"], stage="request")
    return upload


# The one map from the error tree to HTTP statuses: the most specific class listed wins.
HTTP_STATUS: dict[type[CutliteError], int] = {
    CutliteError: 500,
    ValidationError: 400,
    AssetError: 400,
    HardwareError: 400,
    Forbidden: 403,
    NotFound: 404,
    JobError: 409,
    AssetNotReady: 409,
    Cancelled: 409,
    TooLarge: 413,
    QueryTooLong: 414,
    HeadersTooLarge: 431,
    BackpressureError: 429,
    FFmpegError: 500,
    MissingDependency: 500,
    StorageError: 503,
    BrokerUnavailable: 503,
}


def _status_of(exc: CutliteError) -> int:
    return most_specific(exc, HTTP_STATUS)

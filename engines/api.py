"""The HTTP API (FastAPI): media_v2 assets and artifacts, proxies and render plans.

Every data request carries ``Authorization: Bearer <key>``; the key decides tenant, env and role
(``engines.access``: 401 without a valid key, 429 past its rate, 403 when ``X-Tenant``/``X-Env``
differ from it or its role does not allow the route). A project whose tenant/env differ from the
key's is a 403; an asset of another tenant is a 404 (its existence is not revealed). Downloads
answer with a signed URL that expires. Errors are JSON: ``{"error": {code, message, stage, hint,
context}}``, mapped from the error tree in one place (``_status_of``); server paths and argv never
leave the server.

Local files over HTTP: a project ``path`` or a ``file://`` URI would let a tenant pull any file of
the server into its account, so both are refused unless the file lies under one of the folders in
``CUTLITE_LOCAL_ROOTS`` (``os.pathsep``-separated) and the env is ``dev``.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from engines.access.audit import AuditLog
from engines.access.downloads import FILES, download_link
from engines.access.http import AuditMiddleware, Gate, Principal
from engines.access.quota import check_quota
from engines.access.secret import server_secret
from engines.access.signing import quoted, verify
from engines.access.targets import check_callback_url
from engines.access.webhooks import Webhooks
from engines.http_limits import install_limits
from engines.jobs.batch import BatchFeeder, PendingRow, row_values
from engines.jobs.records import JobState
from engines.media_v2.library import max_upload_bytes
from engines.media_v2.templates import get_template, put_template
from engines.model.project import Project, load_project
from engines.model.template import apply_template, dummy_values
from engines.planning.render_plan import portable_links
from engines.redaction import redact
from engines.settings import default_chunk_seconds
from engines.video_preview.service import PreviewService
from engines.video_render.service import STILL_PROFILE, RenderService, ensure_proxies_for_project

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
    Unauthorized,
    UploadTooLarge,
    ValidationError,
    most_specific,
)

SCHEMA = "cutlite.api/1"
MULTIPART_SLACK = 64 * 1024  # bytes of multipart framing allowed around an upload's own bytes


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
    callback_url: str | None = None  # POSTed the job, signed, when it ends (docs/security.md#webhooks)


class PreviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    strategy: str = "fast"
    start: float | str | None = None  # seconds: a number or a rational string ("1001/30000")
    end: float | str | None = None
    hw: str | None = None
    allow_full_res_fallback: bool | None = None  # a request may forbid the fallback, never force it


class StillBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project: dict[str, Any]
    at: list[float | str]  # timeline times, seconds: numbers or rational strings
    profile: str = STILL_PROFILE
    format: Literal["png", "jpeg"] = "png"
    sources: Literal["auto", "exact"] = "auto"  # auto: a ready proxy when large enough; exact: the sources


class MergeField(BaseModel):
    """Shotstack's merge field: ``{{ find }}`` in the template becomes ``replace``."""
    model_config = ConfigDict(extra="forbid")
    find: str
    replace: Any


class TemplateRenderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    profile: str
    merge: list[MergeField] | None = None
    variables: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None  # a batch: one job per row
    options: dict[str, Any] = {}
    hw: str | None = None
    callback_url: str | None = None  # for each job


class UriBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str


def local_roots() -> list[Path]:
    return [Path(p).resolve() for p in os.environ.get("CUTLITE_LOCAL_ROOTS", "").split(os.pathsep) if p]


def allowed_local_file(path: Path, env: str) -> Path:
    resolved = path.resolve()
    roots = local_roots()
    if env != "dev" or not any(resolved == r or r in resolved.parents for r in roots):
        raise Forbidden("local files are not accepted over HTTP here", stage="scope",
                         hint="upload the file (POST /media_v2/assets, multipart) and use its asset_id")
    return resolved


def create_app(service: RenderService | None = None, *, run_jobs: bool = True, env: str = "dev",
               gate: Gate | None = None) -> FastAPI:
    """The app; ``env`` is the deployment's (``prod`` needs ``CUTLITE_SECRET``), ``gate`` who may call it."""
    from contextlib import asynccontextmanager

    svc = service or RenderService()
    gate = gate or Gate(server_secret(env))
    executor = svc.job_service.background_executor() if run_jobs else None
    previews = PreviewService(svc)  # one warm service: its caches make repeated previews cheap
    webhooks = Webhooks(gate.secret, svc.job_view, url=gate.keys.url)

    def submitted(job: Any, callback_url: str | None) -> None:
        """A job a template render made: its webhook registered, the executor told."""
        if callback_url:
            webhooks.register(job.id, job.tenant, job.env, callback_url)
        if executor is not None:
            executor.wake()

    feeder = BatchFeeder(svc.job_service, lambda row, job: submitted(job, row.callback_url))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        if executor is not None:
            executor.start()
        webhooks.start()
        yield
        webhooks.stop()
        feeder.stop()
        if executor is not None:
            executor.stop()
        previews.close(cancel=True)  # queued proxies are made again on demand

    app = FastAPI(title="cutlite", version="0.1.0", lifespan=lifespan,
                  description="Render and preview engine: media_v2 registry, proxies, render plans, jobs.")
    app.add_middleware(AuditMiddleware, log=AuditLog(gate.keys.url))
    install_limits(app, _status_of)  # body, header and query limits; JSON bodies through the one loader

    def scope(request: Request) -> Principal:
        """The caller's tenant, env and role, from its API key (``engines.access.http``)."""
        return gate.principal(request)

    def job_view(job_id: str, tenant: str | None = None, env: str | None = None) -> dict[str, Any]:
        """The job as the API shows it: with its webhook's state and attempts, when it has one."""
        return {**svc.job_view(job_id, tenant, env), "callback": webhooks.state_of(job_id)}

    def project_in_scope(doc: dict[str, Any] | Project, sc: Principal) -> tuple[Project, Path]:
        project = doc if isinstance(doc, Project) else load_project(doc)
        if (project.tenant, project.env) != (sc.tenant, sc.env):
            raise Forbidden("the project belongs to another tenant or env than the request's API key",
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
        if status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="cutlite"'}
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

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        """Liveness, for load balancers: no key, no tenant data."""
        return {"ok": True}

    # -------------------------------------------------------------- media_v2

    @app.post("/media_v2/assets", status_code=201)
    async def register_asset(request: Request, sc: Principal = Depends(scope)) -> JSONResponse:
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            # before the body is read (less the multipart framing), then exactly: nothing is stored past the quota
            check_quota(sc.tenant, sc.env, max(0, int(request.headers.get("content-length") or 0) - MULTIPART_SLACK),
                        what="the upload")
            upload = await _uploaded_file(request)
            check_quota(sc.tenant, sc.env, upload.size or 0, what="the upload")
            asset, created = svc.library.register_upload(sc.tenant, sc.env, upload.file, upload.filename or "upload")
        elif ctype.startswith("application/json"):
            try:
                body = UriBody.model_validate(await request.json())
            except (ValueError, PydanticValidationError) as exc:  # not JSON, or not {"uri": ...}: a 400, not a 500
                problems = ([".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors()]
                            if isinstance(exc, PydanticValidationError) else ["body: not a JSON document"])
                raise ValidationError(problems, stage="request") from None
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
    def get_asset(asset_id: str, sc: Principal = Depends(scope)) -> dict[str, Any]:
        return svc.library.get_asset(sc.tenant, sc.env, asset_id).model_dump()

    @app.get("/media_v2/assets/{asset_id}/artifacts")
    def list_artifacts(asset_id: str, kind: str | None = None, sc: Principal = Depends(scope)) -> dict[str, Any]:
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        arts = [a.model_dump() for a in asset.artifacts if kind is None or a.kind == kind]
        return {"asset_id": asset.id, "artifacts": arts}

    @app.get("/media_v2/assets/{asset_id}/artifacts/{artifact_id}/download")
    def download_artifact(asset_id: str, artifact_id: str, request: Request,
                          sc: Principal = Depends(scope)) -> dict[str, Any]:
        """A signed URL that fetches the artifact (no key needed) until it expires."""
        asset = svc.library.get_asset(sc.tenant, sc.env, asset_id)
        art = next((a for a in asset.artifacts if a.id == artifact_id), None)
        if art is None:
            raise NotFound(f"no artifact {artifact_id[:40]!r} on asset {asset_id}", stage="download")
        return {"artifact_id": art.id, "key": art.key, "size": art.size,
                **download_link(svc.library.store(sc.env), art.key, str(request.base_url), gate.secret)}

    @app.get(FILES + "{key:path}", include_in_schema=False)
    def signed_file(key: str, expires: str | None = Query(default=None),
                    sig: str | None = Query(default=None)) -> FileResponse:
        """An object by its signed URL: the signature is the permission, so no key is asked for."""
        verify(gate.secret, FILES + quoted(key), expires, sig)
        parts = key.split("/")
        store = svc.library.store(parts[2] if len(parts) > 2 else "dev")
        path = store.local_path(key)
        return FileResponse(path, filename=parts[-1] if len(parts) < 6 else f"{parts[-2]}-{parts[-1]}")

    # -------------------------------------------------------------- video_render

    @app.post("/video_render/proxies")
    def proxies(body: ProjectBody, sc: Principal = Depends(scope)) -> dict[str, Any]:
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
    async def import_timeline_upload(request: Request, sc: Principal = Depends(scope)) -> dict[str, Any]:
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
    def plan(body: ProjectBody, sc: Principal = Depends(scope)) -> dict[str, Any]:
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
    def preview(body: PreviewBody, sc: Principal = Depends(scope)) -> dict[str, Any]:
        project, base = project_in_scope(body.project, sc)
        allowed = previews.fallback_allowed(project) and body.allow_full_res_fallback is not False
        result = previews.plan(project, body.strategy, body.start, body.end, hw=body.hw, base_dir=base,
                               allow_full_res_fallback=allowed)
        return {"schema": SCHEMA, **result.to_dict(public=True)}

    # -------------------------------------------------------------- jobs

    @app.post("/video_render/jobs")
    def submit_job(body: JobBody, sc: Principal = Depends(scope)) -> JSONResponse:
        project, base = project_in_scope(body.project, sc)
        options = job_options(body.options)
        if body.callback_url is not None:
            check_callback_url(body.callback_url)
        check_quota(sc.tenant, sc.env, 0, what="the render")
        job, created = svc.submit_job(project, body.profile, options=options, job_id=body.job_id, hw=body.hw,
                                      base_dir=base)
        if body.callback_url is not None:
            webhooks.register(job.id, sc.tenant, sc.env, body.callback_url)
        if executor is not None:
            executor.wake()
        return JSONResponse(job_view(job.id), status_code=202 if created else 200)

    @app.get("/video_render/jobs/{job_id}")
    def get_job(job_id: str, sc: Principal = Depends(scope)) -> dict[str, Any]:
        return job_view(job_id, sc.tenant, sc.env)

    @app.get("/video_render/jobs")
    def list_jobs(state: str | None = None, sc: Principal = Depends(scope)) -> dict[str, Any]:
        if state is not None and state not in {s.value for s in JobState}:
            raise ValidationError([f"state: unknown state {state!r}"], stage="request")
        jobs = svc.jobs.list(state=state, tenant=sc.tenant, env=sc.env)
        return {"jobs": [job_view(j.id, sc.tenant, sc.env) for j in jobs]}

    @app.post("/video_render/jobs/{job_id}/cancel")
    def cancel_job(job_id: str, sc: Principal = Depends(scope)) -> dict[str, Any]:
        svc.jobs.get(job_id, sc.tenant, sc.env)  # 404 outside the tenant, before any side effect
        svc.cancel_job(job_id)
        return job_view(job_id, sc.tenant, sc.env)

    @app.get("/video_render/jobs/{job_id}/download")
    def download_render(job_id: str, request: Request, sc: Principal = Depends(scope)) -> dict[str, Any]:
        """A signed URL of a COMPLETED job's output, valid until it expires."""
        job = svc.jobs.get(job_id, sc.tenant, sc.env)
        if job.state != JobState.COMPLETED or not job.output_key:
            raise JobError(f"job {job_id} is {job.state.value}: it has no output yet", stage="download",
                           hint="download once the job is COMPLETED")
        return {"job_id": job.id, "key": job.output_key,
                **download_link(svc.library.store(sc.env), job.output_key, str(request.base_url), gate.secret)}

    @app.post("/video_render/jobs/{job_id}/resume", status_code=202)
    def resume_job(job_id: str, sc: Principal = Depends(scope)) -> dict[str, Any]:
        svc.jobs.get(job_id, sc.tenant, sc.env)
        svc.jobs.requeue(job_id)
        if executor is not None:
            executor.wake()
        return job_view(job_id, sc.tenant, sc.env)

    # -------------------------------------------------------------- stills and templates

    @app.post("/video_render/stills")
    def stills(body: StillBody, sc: Principal = Depends(scope)) -> Response:
        """The composed frame at each time: one image, or a zip of ``still-<frame>.<ext>`` for several."""
        import tempfile
        import zipfile

        project, base = project_in_scope(body.project, sc)
        ext = "jpg" if body.format == "jpeg" else "png"
        with tempfile.TemporaryDirectory(prefix="cutlite-stills-") as work:
            made = svc.stills(project, list(body.at), Path(work) / f"still.{ext}", profile=body.profile,
                              fmt=body.format, base_dir=base, sources=body.sources)
            files = {Path(s.path).name: Path(s.path).read_bytes() for s in made}
        headers = {"X-Cutlite-Frames": ",".join(str(s.frame) for s in made)}
        if len(files) == 1:
            return Response(next(iter(files.values())), media_type=f"image/{body.format}", headers=headers)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:  # images are compressed already
            for name, data in sorted(files.items()):
                z.writestr(name, data)
        return Response(buffer.getvalue(), media_type="application/zip", headers=headers)

    @app.post("/templates", status_code=201)
    async def store_template(request: Request, sc: Principal = Depends(scope)) -> JSONResponse:
        """Store a template project (a project with ``variables``); its id comes from its content."""
        try:
            doc = await request.json()
        except ValueError:
            raise ValidationError(["body: not a JSON document"], stage="request") from None
        if not isinstance(doc, dict) or "variables" not in doc:
            raise ValidationError(["variables: a template is a project with \"variables\""], stage="templates")
        # the whole template checked as the project its values would make (placeholder values)
        project_in_scope(apply_template(doc, dummy_values(doc)), sc)
        tid, created = put_template(svc.library.store(sc.env), sc.tenant, sc.env, doc)
        return JSONResponse({"id": tid, "variables": doc["variables"]}, status_code=201 if created else 200)

    @app.get("/templates/{template_id}")
    def read_template(template_id: str, sc: Principal = Depends(scope)) -> dict[str, Any]:
        return {"id": template_id, "template": get_template(svc.library.store(sc.env), sc.tenant, sc.env,
                                                            template_id)}

    @app.post("/templates/{template_id}/renders", status_code=202)
    def render_template(template_id: str, body: TemplateRenderBody, sc: Principal = Depends(scope)) -> JSONResponse:
        """One job (``merge`` or ``variables``) or one per row (``rows``); rows past the limits wait
        in this server and are submitted in order as slots free."""
        given = [k for k in ("merge", "variables", "rows") if getattr(body, k) is not None]
        if len(given) != 1:
            raise ValidationError(["body: give exactly one of \"merge\", \"variables\" or \"rows\""],
                                  stage="request")
        template = get_template(svc.library.store(sc.env), sc.tenant, sc.env, template_id)
        options = job_options(body.options)
        if body.callback_url is not None:
            check_callback_url(body.callback_url)
        check_quota(sc.tenant, sc.env, 0, what="the render")
        if body.rows is None:
            values = body.variables if body.merge is None else {m.find: m.replace for m in body.merge}
            project, base = project_in_scope(load_project(template, values or {}), sc)
            job, created = svc.submit_job(project, body.profile, options=options, hw=body.hw, base_dir=base)
            submitted(job, body.callback_url)
            return JSONResponse(job_view(job.id), status_code=202 if created else 200)
        answers, waiting = [], []
        for i, row in enumerate(body.rows, 1):
            try:
                project, base = project_in_scope(load_project(template, row_values(row)), sc)
            except CutliteError as exc:  # a bad row fails alone, named by its number
                answers.append({"row": i, "state": "INVALID", "job_id": None, "error": redact(exc.to_dict())})
                continue
            pending = PendingRow(i, project, body.profile, options, body.hw, base, body.callback_url)
            job = None
            if not waiting:  # in order: once a row waits, the rows after it wait behind it
                try:
                    job, _ = svc.submit_job(project, body.profile, options=options, hw=body.hw, base_dir=base)
                except BackpressureError:
                    pass
                except CutliteError as exc:
                    answers.append({"row": i, "state": "INVALID", "job_id": None, "error": redact(exc.to_dict())})
                    continue
            if job is None:
                waiting.append(pending)
                answers.append({"row": i, "state": "WAITING", "job_id": None, "error": None})
            else:
                submitted(job, body.callback_url)
                answers.append({"row": i, "state": job.state.value, "job_id": job.id, "error": None})
        feeder.add(waiting)
        return JSONResponse({"template_id": template_id, "profile": body.profile, "rows": answers,
                             "waiting": len(waiting)}, status_code=202)

    from .access.routes import keys_router
    from .studio.routes import studio_router
    app.include_router(keys_router(scope, gate.keys))
    app.include_router(studio_router(svc, previews, scope, project_in_scope, gate))
    return app


JOB_OPTIONS = ("chunk_seconds", "workers", "chunk_timeout", "max_attempts", "slate_missing")


def job_options(given: dict[str, Any]) -> dict[str, Any]:
    """A request's job options, each unknown one named; the chunk length defaults to the configured one."""
    unknown = sorted(set(given) - set(JOB_OPTIONS))
    if unknown:
        raise ValidationError([f"options.{k}: unknown option; known: {', '.join(sorted(JOB_OPTIONS))}" for k in unknown],
                              stage="request")
    return {"chunk_seconds": default_chunk_seconds(), **given}


async def _uploaded_file(request: Request) -> UploadFile:
    """The multipart field ``file``, refused before it is read when the request is over the upload limit."""
    length = int(request.headers.get("content-length") or 0)
    if length > max_upload_bytes() + MULTIPART_SLACK:
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
    Unauthorized: 401,
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

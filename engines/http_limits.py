"""What an HTTP request may cost before the API looks at it: body, headers and query bounded, and
every JSON body read by the one loader (``engines.documents``).

- ``RequestLimits`` (ASGI middleware): a multipart upload may be ``CUTLITE_MAX_UPLOAD_BYTES`` (plus
  the form's own bytes), any other body ``CUTLITE_MAX_JSON_BODY_BYTES``. A ``Content-Length`` over
  the limit is refused before a byte of the body is read; a body without one (chunked) is counted
  as it streams and refused the moment it passes the limit, so a refused 300 MB body costs the
  server one chunk, not 300 MB. Headers over ``CUTLITE_MAX_HEADER_BYTES`` and a query over
  ``CUTLITE_MAX_QUERY_BYTES`` are refused before the route runs. Refusals carry the JSON error
  shape and close the connection (the rest of the body is not waited for).
- ``JsonRoute``: the route class whose requests parse JSON with the loader (limits, duplicate keys,
  NaN), before FastAPI's own body handling, so a refusal is a 400 naming the JSON path.

The statuses come from the API's one table (``status_of``); this module only applies the limits.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engines.documents import read_json
from engines.errors import (
    BodyTooLarge,
    CutliteError,
    HeadersTooLarge,
    QueryTooLong,
    TooLarge,
    UploadTooLarge,
    ValidationError,
)
from engines.media_v2.library import max_upload_bytes
from engines.settings import max_header_bytes, max_json_body_bytes, max_query_bytes

# a multipart body is the file and the form around it (boundaries, part headers, small fields)
FORM_OVERHEAD = 64 << 10


def install_limits(app: FastAPI, status_of: Callable[[CutliteError], int]) -> None:
    """The middleware and the route class on ``app``; call before its routes are declared."""
    app.add_middleware(RequestLimits, status_of=status_of)
    app.router.route_class = JsonRoute


def server_head_bytes() -> int:
    """What ``cutlite serve`` lets the server buffer of a request line and headers (the hard bound
    behind the middleware's own checks, answered by the server itself)."""
    return max_header_bytes() + max_query_bytes() + (8 << 10)


def is_json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


class RequestLimits:
    def __init__(self, app: ASGIApp, status_of: Callable[[CutliteError], int]) -> None:
        self.app = app
        self.status_of = status_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            limit, too_large = self._check_head(scope, headers)
        except CutliteError as exc:
            await self._refuse(exc, scope, receive, send)
            return
        received = 0
        started = False
        refusal: list[TooLarge] = []

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refusal.append(too_large(f"the request body passed {limit} bytes before it ended"))
                    raise refusal[0]
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except ClientDisconnect:
            if not started:
                return  # the client went away mid-body: no one to answer, nothing was done
            raise
        except TooLarge as exc:
            if started or not refusal or exc is not refusal[0]:
                raise
            await self._refuse(exc, scope, receive, send)

    def _check_head(self, scope: Scope, headers: dict[str, str]) -> tuple[int, Callable[[str], TooLarge]]:
        head = sum(len(k) + len(v) for k, v in scope["headers"])
        if head > max_header_bytes():
            raise HeadersTooLarge(f"request headers of {head} bytes; at most {max_header_bytes()} "
                                  f"(CUTLITE_MAX_HEADER_BYTES)", stage="request")
        query = len(scope.get("query_string") or b"")
        if query > max_query_bytes():
            raise QueryTooLong(f"a query string of {query} bytes; at most {max_query_bytes()} "
                               f"(CUTLITE_MAX_QUERY_BYTES)", stage="request")
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            limit = max_upload_bytes() + FORM_OVERHEAD

            def too_large(msg: str) -> TooLarge:
                return UploadTooLarge(f"{msg}: the upload limit is {max_upload_bytes()} bytes "
                                      f"(CUTLITE_MAX_UPLOAD_BYTES)", stage="upload", limit=max_upload_bytes())
        else:
            limit = max_json_body_bytes()

            def too_large(msg: str) -> TooLarge:
                return BodyTooLarge(f"{msg}: a request body may be {limit} bytes (CUTLITE_MAX_JSON_BODY_BYTES)",
                                    stage="request", limit=limit,
                                    hint="send media as a multipart upload and refer to it by its asset_id")
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise ValidationError([f"header Content-Length: not a byte count ({length[:40]!r})"], stage="request")
            if int(length) > limit:
                raise too_large(f"a request body of {int(length)} bytes (content-length)")
        return limit, too_large

    async def _refuse(self, exc: CutliteError, scope: Scope, receive: Receive, send: Send) -> None:
        """The JSON error shape, and the connection closed: the body that was not read is not waited for."""
        response = JSONResponse({"error": exc.to_dict()}, status_code=self.status_of(exc),
                                headers={"connection": "close"})
        await response(scope, receive, send)


class _JsonRequest(Request):
    """A request whose ``json()`` is the one loader's (FastAPI calls it for JSON bodies)."""

    _document: Any = None
    _parsed = False

    async def json(self) -> Any:
        if not self._parsed:
            self._document = read_json(await self.body(), stage="request", what="the request body")
            self._parsed = True
        return self._document


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Any:
            request = _JsonRequest(request.scope, request.receive)
            # (a body without a JSON content type is never parsed as JSON: FastAPI's strict content type)
            if is_json(request.headers.get("content-type")) and await request.body():
                # parsed here, outside FastAPI's body handling (which would turn a refusal into a bare 400)
                await request.json()
            return await handler(request)

        return run

"""One error shape for the API, and the not-found page for everything else.

Every API error is `{"error": {"status", "message", "hint", "parameter"}}`;
pages answer errors with an HTML page that offers search and suggestions.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from payerbrief.errors import MalformedCodeError
from payerbrief.render.html import Links
from payerbrief.site.pages import not_found_page
from payerbrief.web.state import AppState

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        hint: str | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.parameter = parameter


def error_response(error: ApiError) -> JSONResponse:
    body = {
        "error": {
            "status": error.status,
            "message": error.message,
            "hint": error.hint,
            "parameter": error.parameter,
        }
    }
    return JSONResponse(body, status_code=error.status, headers=NO_STORE)


def is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def links_for(state: AppState, path: str) -> Links:
    """Links for a page at `path`, relative, as the static site's pages have."""
    depth = max(0, path.count("/") - 1)
    return Links(root="../" * depth, codes=state.catalog.codes)


def not_found_html(
    state: AppState,
    request: Request,
    message: str,
    *,
    heading: str = "Page not found",
    hint: str = "",
    suggestions: list[str] | None = None,
) -> HTMLResponse:
    page = not_found_page(
        links_for(state, request.url.path),
        message,
        heading=heading,
        hint=hint,
        suggestions=suggestions or [],
    )
    return HTMLResponse(page, status_code=404, headers=NO_STORE)


def _validation_error(exc: RequestValidationError) -> ApiError:
    first = exc.errors()[0] if exc.errors() else {}
    location = [str(part) for part in first.get("loc", ())]
    parameter = location[-1] if len(location) > 1 else None
    if location == ["path", "code"]:
        # Say what billing codes look like, as the CLI does, not the pattern.
        malformed = MalformedCodeError(str(first.get("input", "")))
        return ApiError(
            422, str(malformed.args[0]), hint=malformed.hint, parameter="code"
        )
    why = str(first.get("msg", "invalid value"))
    message = f"{parameter}: {why}" if parameter else why
    return ApiError(
        422,
        message,
        hint="see /openapi.json for this endpoint's parameters",
        parameter=parameter,
    )


def install(app: FastAPI, state: AppState) -> None:
    """Error handlers: the JSON shape under /api, the not-found page elsewhere."""

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(_validation_error(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if is_api(request):
            message = "no such API endpoint" if exc.status_code == 404 else exc.detail
            hint = (
                "see /openapi.json for the endpoints"
                if exc.status_code == 404
                else None
            )
            return error_response(ApiError(exc.status_code, str(message), hint=hint))
        if exc.status_code == 404:
            return not_found_html(state, request, "No page has that address.")
        return Response(str(exc.detail), status_code=exc.status_code, headers=NO_STORE)

    async def server_error(request: Request, exc: Exception) -> Response:
        log.error("error serving %s", request.url.path, exc_info=exc)
        error = ApiError(
            500,
            "the server failed to answer this request",
            hint="try again; if it fails again, report it with the address asked for",
        )
        # uvicorn closes the connection after an unhandled error; saying so
        # keeps clients from sending their next request down it.
        if is_api(request):
            response: Response = error_response(error)
            response.headers["Connection"] = "close"
            return response
        return HTMLResponse(
            "<!doctype html><html lang=en><title>Server error</title>"
            "<h1>Server error</h1><p>The server failed to build this page.</p></html>",
            status_code=500,
            headers={**NO_STORE, "Connection": "close"},
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, server_error)

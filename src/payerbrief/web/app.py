"""The web app: the site's pages and the JSON API over one loaded warehouse."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from payerbrief.web import errors
from payerbrief.web.api import api_routes
from payerbrief.web.caching import CacheHeaders
from payerbrief.web.state import AppState, load_state
from payerbrief.web.views import page_routes

DESCRIPTION = (
    "Briefs for billing codes from public payer and Medicare files. Every fact "
    "has a state (present, not applicable, not available, withheld) and names "
    "the loaded file it came from. Errors share one shape: "
    '`{"error": {"status", "message", "hint", "parameter"}}`.'
)


def create_app(state: AppState) -> FastAPI:
    app = FastAPI(
        title="payerbrief",
        version=version("payerbrief"),
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        # The interactive docs load scripts from a CDN; pages here load nothing
        # from outside, so only the OpenAPI document is served.
        docs_url=None,
        redoc_url=None,
    )
    errors.install(app, state)
    app.include_router(api_routes(state))
    app.include_router(page_routes(state))
    app.add_middleware(CacheHeaders, etag=state.etag, last_modified=state.last_modified)
    app.openapi = _with_loaded_places(app, state)  # type: ignore[method-assign]
    return app


def _with_loaded_places(app: FastAPI, state: AppState) -> Callable[[], dict[str, Any]]:
    """The OpenAPI document, listing the place-of-service codes the app knows.

    The codes come from the loaded place-of-service file, so they are known
    only when the app starts; a request with another two-digit code gets 422.
    """
    document = app.openapi

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = document()
        rates = schema["paths"]["/api/codes/{code}/rates"]["get"]
        for parameter in rates["parameters"]:
            if parameter["name"] == "place_of_service" and state.places:
                codes = {"type": "string", "enum": sorted(state.places)}
                parameter["schema"]["anyOf"] = [codes, {"type": "null"}]
        return schema

    return build


def app_for(home: Path) -> FastAPI:
    """The app over the warehouse in `home`, read once, read-only."""
    return create_app(load_state(home))

"""The site's pages, rendered on request at the addresses the static site uses.

Nothing is read from disk by path: briefs are built from the reference data and
assets come from a fixed set, so no request can reach another file.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from payerbrief.brief.build import build_brief
from payerbrief.errors import MalformedCodeError, UnknownCodeError
from payerbrief.render import render_csv, render_json, render_markdown
from payerbrief.render.html import ASSETS, asset_text, render_brief_page
from payerbrief.site import pages
from payerbrief.web.errors import links_for, not_found_html
from payerbrief.web.state import AppState

TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".svg": "image/svg+xml",
}


def page_routes(state: AppState) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    assets = {name: asset_text(name) for name in ASSETS}

    def html(text: str) -> HTMLResponse:
        return HTMLResponse(text)

    @router.get("/")
    @router.get("/index.html")
    async def index(request: Request) -> Response:
        links = links_for(state, request.url.path)
        return html(pages.index_page(state.catalog, state.manifest, links))

    @router.get("/sources.html")
    async def sources(request: Request) -> Response:
        links = links_for(state, request.url.path)
        return html(pages.sources_page(state.manifest, state.used, links))

    @router.get("/families/")
    @router.get("/families/{name}")
    async def families(request: Request, name: str = "index.html") -> Response:
        links = links_for(state, request.url.path)
        if name == "index.html":
            return html(pages.families_page(state.catalog, links))
        page = None
        if name.endswith(".html"):
            page = pages.family_page(state.catalog, name.removesuffix(".html"), links)
        if page is None:
            return not_found_html(state, request, "No code family has that name.")
        return html(page)

    @router.get("/payers/")
    @router.get("/payers/{name}")
    async def payers(request: Request, name: str = "index.html") -> Response:
        links = links_for(state, request.url.path)
        if name == "index.html":
            return html(pages.payers_page(state.catalog, links))
        page = None
        if name.endswith(".html"):
            page = pages.payer_page(state.catalog, name.removesuffix(".html"), links)
        if page is None:
            return not_found_html(state, request, "No payer page has that name.")
        return html(page)

    @router.get("/codes/{name}")
    async def code(request: Request, name: str) -> Response:
        stem, dot, suffix = name.partition(".")
        kind = f".{suffix}" if dot else ".html"
        if kind not in (".html", ".md", ".json", ".csv"):
            return not_found_html(state, request, "No page has that address.")
        try:
            billing_code = state.ref.resolve(stem)
        except MalformedCodeError as error:
            return not_found_html(
                state,
                request,
                f"{stem} is not a billing code.",
                heading="No brief for that address",
                hint=f"What codes look like: {error.hint}.",
            )
        except UnknownCodeError as error:
            return not_found_html(
                state,
                request,
                f"No loaded code set has {error.code}.",
                heading=f"No brief for {error.code}",
                suggestions=error.closest,
            )
        brief = build_brief(state.ref, billing_code)
        if kind == ".html":
            return html(render_brief_page(brief, links_for(state, request.url.path)))
        render = {".md": render_markdown, ".json": render_json, ".csv": render_csv}
        return Response(render[kind](brief), media_type=TYPES[kind])

    @router.get("/assets/{name}")
    async def asset(request: Request, name: str) -> Response:
        if name == "search-index.js":
            return Response(state.search_script, media_type=TYPES[".js"])
        if name not in assets:
            return not_found_html(state, request, "No asset has that name.")
        suffix = name[name.rindex(".") :]
        return Response(assets[name], media_type=TYPES[suffix])

    return router

"""The JSON API: a brief's facts, its rates, search and the loaded sources."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from payerbrief.brief.build import build_brief
from payerbrief.codes import BillingCode
from payerbrief.errors import MalformedCodeError, UnknownCodeError
from payerbrief.facts.payment import payment_facts
from payerbrief.site.search import search
from payerbrief.web.errors import ApiError
from payerbrief.web.rates import (
    RateFilter,
    coverage,
    medicare_rows,
    page_of,
    rate_sources,
)
from payerbrief.web.schemas import (
    BillingClass,
    BriefOut,
    ErrorBody,
    PayerName,
    RatesOut,
    SearchOut,
    SourcesOut,
)
from payerbrief.web.state import AppState

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "No loaded code set has the code."},
    422: {"model": ErrorBody, "description": "A parameter is not valid."},
    500: {"model": ErrorBody, "description": "The server failed."},
}

CODE_PATTERN = r"^([0-9]{5}|[0-9]{4}[FMTUfmtu]|[A-Va-v][0-9]{4})$"

CodeParam = Annotated[
    str,
    Path(
        # The shapes `payerbrief.codes.parse_code` accepts, in either case.
        pattern=CODE_PATTERN,
        description="A billing code: CPT (99213, 3372F, 0042T) or HCPCS Level II "
        "(G0439).",
        openapi_examples={"office visit": {"value": "99213"}},
    ),
]


def resolve(state: AppState, text: str) -> BillingCode:
    """The code, or the API's 422 (malformed) or 404 (in no loaded code set)."""
    try:
        return state.ref.resolve(text)
    except MalformedCodeError as error:
        raise ApiError(
            422, str(error.args[0]), hint=error.hint, parameter="code"
        ) from error
    except UnknownCodeError as error:
        raise ApiError(
            404, str(error.args[0]), hint=error.hint, parameter="code"
        ) from error


def api_routes(state: AppState) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])

    @router.get(
        "/codes/{code}",
        response_model=BriefOut,
        responses=ERRORS,
        summary="A code's brief: every fact with its state and sources",
    )
    async def code_brief(code: CodeParam) -> Response:
        brief = build_brief(state.ref, resolve(state, code))
        return Response(
            msgspec.json.encode(brief.to_dict()), media_type="application/json"
        )

    @router.get(
        "/codes/{code}/rates",
        response_model=RatesOut,
        responses=ERRORS,
        summary="A code's rates as rows: today Medicare, national and by locality",
    )
    async def code_rates(
        code: CodeParam,
        payer: Annotated[
            PayerName | None, Query(description="Only this payer.")
        ] = None,
        billing_class: Annotated[
            BillingClass | None, Query(description="Only this billing class.")
        ] = None,
        place_of_service: Annotated[
            str | None,
            Query(
                pattern=r"^[0-9]{2}$",
                description="Only rates that apply at this two-digit place of service.",
            ),
        ] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> dict[str, Any]:
        billing_code = resolve(state, code)
        setting = None
        if place_of_service is not None:
            place = state.places.get(place_of_service)
            if place is None:
                raise ApiError(
                    422,
                    f"place_of_service: {place_of_service} is not in the loaded "
                    "place-of-service code set",
                    hint="use a two-digit code from the CMS place-of-service list, "
                    "e.g. 11 (office)",
                    parameter="place_of_service",
                )
            setting = "facility" if place.facility else "non-facility"
        facts = payment_facts(state.ref, billing_code)
        keep = RateFilter(payer, billing_class, setting)
        rows = [r for r in medicare_rows(facts) if keep.keeps(r)]
        shown, pages = page_of(rows, page, page_size)
        return {
            "code": billing_code.code,
            "filters": {
                "payer": payer,
                "billing_class": billing_class,
                "place_of_service": place_of_service,
                "setting": setting,
            },
            "page": page,
            "page_size": page_size,
            "pages": pages,
            "total": len(rows),
            "coverage": coverage(facts),
            "rows": shown,
            "sources": rate_sources(facts),
        }

    @router.get(
        "/search",
        response_model=SearchOut,
        responses={422: ERRORS[422], 500: ERRORS[500]},
        summary="Codes whose code or descriptor matches the query",
    )
    async def search_codes(
        q: Annotated[
            str, Query(min_length=1, max_length=100, description="A code or words.")
        ],
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> dict[str, Any]:
        total, found = search(state.catalog, q, limit)
        return {
            "query": q,
            "total": total,
            "results": [
                {
                    "code": e.code,
                    "title": e.title,
                    "family": e.family.name,
                    "url": f"/codes/{e.code}.html",
                }
                for e in found
            ],
        }

    @router.get(
        "/sources",
        response_model=SourcesOut,
        responses={500: ERRORS[500]},
        summary="Every loaded file: the warehouse's manifest",
    )
    async def sources() -> dict[str, Any]:
        return {
            "sources": [
                {**e.to_dict(), "used": e.load_id in state.used} for e in state.manifest
            ]
        }

    return router

"""The JSON API's documents, as the OpenAPI description publishes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

StateName = Literal["present", "not applicable", "not available", "withheld"]
PayerName = Literal[
    "Medicare", "Aetna", "Blue Cross Blue Shield", "Cigna", "UnitedHealthcare"
]
BillingClass = Literal["professional", "institutional"]


class ErrorDetail(BaseModel):
    status: int = Field(description="The HTTP status code.")
    message: str = Field(description="What went wrong.")
    hint: str | None = Field(description="What to do next, when there is advice.")
    parameter: str | None = Field(
        description="The request parameter at fault, when one is."
    )


class ErrorBody(BaseModel):
    error: ErrorDetail


class FactOut(BaseModel):
    state: StateName
    value: Any = Field(default=None, description="Present facts only.")
    reason: str | None = Field(default=None, description="Facts not present only.")
    sources: list[str] = Field(description="`load_id`s of the brief's sources.")


class TableOut(BaseModel):
    caption: str
    columns: list[str]
    rows: list[list[str]]


class SectionOut(BaseModel):
    key: str
    title: str
    state: StateName
    facts: dict[str, FactOut]
    prose: list[str]
    tables: list[TableOut]


class SourceOut(BaseModel):
    load_id: str
    kind: str
    file_name: str
    publisher: str
    release: str
    as_of: str | None
    sha256: str


class BriefOut(BaseModel):
    """A brief's facts with their states and sources (the JSON renderer's data)."""

    code: str
    code_system: str
    title: str
    sections: list[SectionOut]
    sources: list[SourceOut]
    notices: list[str]


class Area(BaseModel):
    kind: Literal["national", "locality", "state", "market"]
    id: str
    name: str
    state: str | None


class RateRow(BaseModel):
    payer: str
    rate_type: str = Field(description="`fee schedule` for Medicare amounts.")
    plan: str | None
    provider_group: str | None
    billing_class: str
    setting: Literal["non-facility", "facility"]
    places_of_service: list[str] | None = Field(
        description="null: every place of service paid at this setting."
    )
    modifiers: list[str]
    part: str | None
    area: Area
    amount: float | None = Field(
        description="Dollars; null when the setting is not priced (NA)."
    )
    currency: Literal["USD"]
    sources: list[str]


class Coverage(BaseModel):
    payer: str
    state: StateName
    reason: str | None
    listed: bool = Field(
        description="Whether `rows` lists this payer's rates (today Medicare's "
        "only; commercial rates are summarised in the brief)."
    )


class RateFilters(BaseModel):
    payer: PayerName | None
    billing_class: BillingClass | None
    place_of_service: str | None
    setting: Literal["non-facility", "facility"] | None


class RatesOut(BaseModel):
    code: str
    filters: RateFilters
    page: int
    page_size: int
    pages: int
    total: int
    coverage: list[Coverage]
    rows: list[RateRow]
    sources: list[SourceOut]


class SearchHit(BaseModel):
    code: str
    title: str
    family: str
    url: str


class SearchOut(BaseModel):
    query: str
    total: int
    results: list[SearchHit]


class ManifestOut(BaseModel):
    load_id: str
    kind: str
    file_name: str
    sha256: str
    publisher: str
    release: str
    as_of: str | None
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    reject_reasons: dict[str, int]
    loaded_at: str
    used: bool = Field(description="Whether the briefs use this release.")


class SourcesOut(BaseModel):
    sources: list[ManifestOut]

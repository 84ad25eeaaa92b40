"""The shapes of an in-network rates file's parts, as msgspec decodes them.

One set of structs covers schema 1.x (v1.0.0 to v1.6.2) and 2.x (v2.0.0 to
v2.2.0): fields only one generation has are optional, and the reader tells the
generations apart by which of them a file uses. Provider group ids are kept as
text: decoders give an `Any` field a float's text (`float_hook=str`), so
`690.65570` stays `690.65570` (as a float it would become `690.6557`).

The structs are not tracked by the cycle collector (`gc=False`): they hold no
cycles, and millions of them per file would otherwise trigger collections that
cost more than the decoding.
"""

from __future__ import annotations

from typing import Any

import msgspec

# msgspec cannot put `Raw` in a union with None: an absent raw field is empty,
# and `given()` treats an explicit JSON null as absent too.
ABSENT = msgspec.Raw()


def given(raw: msgspec.Raw) -> bool:
    """Whether a raw field holds a value (not absent, not null)."""
    return len(raw) > 0 and bytes(raw) != b"null"


class Tin(msgspec.Struct, frozen=True, gc=False):
    """`tin` of a provider group; `business_name` is new in 2.x."""

    type: str
    value: str
    business_name: str | None = None


class ProviderGroup(msgspec.Struct, frozen=True, gc=False):
    """One provider group: NPIs under one TIN.

    NPIs are numbers in every schema version; some payers quote them, so text
    is accepted here and checked when the row is made.
    """

    npi: list[int | str]
    tin: Tin


class ProviderReference(msgspec.Struct, frozen=True, gc=False):
    """An element of the top-level `provider_references`.

    1.x: `provider_groups` inline, or a remote `location` URL. 2.x: inline
    groups and `network_name` are required and `location` is gone.
    """

    provider_group_id: Any
    provider_groups: msgspec.Raw = ABSENT
    location: str | None = None
    network_name: list[str] | None = None


class RemoteReference(msgspec.Struct, frozen=True, gc=False):
    """A provider-reference file fetched from a 1.x `location` URL."""

    provider_groups: list[ProviderGroup]
    version: str | None = None


class NegotiatedPrice(msgspec.Struct, frozen=True, gc=False):
    """An element of `negotiated_prices`: one price, the unit of a rate row.

    `setting` is required from 2.x on; `service_code` is required for
    professional prices in every version, but real files omit it, so it is
    kept optional rather than losing the price.
    """

    negotiated_type: str
    negotiated_rate: float
    expiration_date: str
    billing_class: str
    setting: str | None = None
    service_code: list[str] | None = None
    billing_code_modifier: list[str] | None = None
    additional_information: str | None = None


class NegotiatedRate(msgspec.Struct, frozen=True, gc=False):
    """An element of `negotiated_rates`: prices and the providers they apply to.

    1.x has `provider_groups` inline or `provider_references` ids; 2.x has ids
    only. The inline groups stay raw text: they are keyed by a hash of that
    text, and decoded once per distinct group.
    """

    negotiated_prices: list[NegotiatedPrice]
    provider_references: list[Any] | None = None
    provider_groups: msgspec.Raw = ABSENT


class ContainedCode(msgspec.Struct, frozen=True, gc=False):
    """A `bundled_codes` or `covered_services` entry (2.x: `contained_billing_code`)."""

    billing_code_type: str
    billing_code_type_version: str
    billing_code: str
    description: str


class InNetworkItem(msgspec.Struct, frozen=True, gc=False):
    """An element of `in_network`: one billing code and its negotiated rates."""

    negotiation_arrangement: str
    name: str
    billing_code_type: str
    billing_code_type_version: str
    billing_code: str
    description: str
    negotiated_rates: list[NegotiatedRate]
    severity_of_illness: str | None = None
    bundled_codes: list[ContainedCode] | None = None
    covered_services: list[ContainedCode] | None = None


class LooseItem(msgspec.Struct, frozen=True, gc=False):
    """An item whose parts are checked one at a time, to reject only the bad ones.

    It is converted from what the standard library's `json` made of the item
    text, which accepts `NaN` and `Infinity`, so a price written as `NaN` costs
    that price, not its whole item.
    """

    negotiation_arrangement: str
    name: str
    billing_code_type: str
    billing_code_type_version: str
    billing_code: str
    description: str
    negotiated_rates: list[Any]
    severity_of_illness: str | None = None
    bundled_codes: list[ContainedCode] | None = None
    covered_services: list[ContainedCode] | None = None


class LooseRate(msgspec.Struct, frozen=True, gc=False):
    """A negotiated rate whose prices are checked one at a time."""

    negotiated_prices: list[Any]
    provider_references: list[Any] | None = None
    provider_groups: Any | None = None

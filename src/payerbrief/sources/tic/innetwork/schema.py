"""The tables an in-network rates file fills, as Arrow schemas.

`tic_rate` has one row per negotiated price: one element of
`in_network[i].negotiated_rates[j].negotiated_prices[k]`, with the item's code
fields beside it and the ids of the provider groups it applies to. The price's
`service_code` and `billing_code_modifier` stay lists, and a price that names
several provider groups stays one row, so a file's row count is its count of
priced entries (the CareFirst file: 122,310).

`tic_provider_group` has one row per provider group of each provider group id
(an unresolved id has one row with no NPIs); rates join it on
`provider_group_id`, so it does not matter where in the file the groups were.

`tic_item_code` has the codes a bundle or capitation item covers, one row each.

`tic_file` has one row per file: the reporting entity, plan, dates and counts.
"""

from __future__ import annotations

import pyarrow as pa

# Columns whose values repeat from row to row are dictionary-encoded: an
# item's code fields on each of its rows, and the few values of a price's type,
# class, setting and expiration date. Parquet then writes the dictionary as it
# is instead of hashing every value again, and readers see plain strings.
LABEL = pa.dictionary(pa.int32(), pa.string())
STRINGS = pa.list_(pa.field("item", pa.string(), nullable=False))

RATE = pa.schema(
    [
        pa.field("item_index", pa.int64(), nullable=False),
        pa.field("rate_index", pa.int32(), nullable=False),
        pa.field("price_index", pa.int32(), nullable=False),
        pa.field("billing_code_type", LABEL, nullable=False),
        pa.field("billing_code", LABEL, nullable=False),
        pa.field("billing_code_type_version", LABEL, nullable=False),
        pa.field("name", LABEL, nullable=False),
        pa.field("description", LABEL, nullable=False),
        pa.field("negotiation_arrangement", LABEL, nullable=False),
        pa.field("severity_of_illness", LABEL),
        pa.field("negotiated_type", LABEL, nullable=False),
        pa.field("negotiated_rate", pa.float64(), nullable=False),
        pa.field("expiration_date", LABEL, nullable=False),
        pa.field("billing_class", LABEL, nullable=False),
        pa.field("setting", LABEL),
        pa.field("service_code", STRINGS),
        pa.field("billing_code_modifier", STRINGS),
        pa.field("additional_information", pa.string()),
        pa.field("provider_refs", STRINGS, nullable=False),
    ]
)

# `bundled_codes` and `covered_services` of an item (2.x: both are lists of
# `contained_billing_code`), one row per code; rates join on `item_index`.
ITEM_CODE = pa.schema(
    [
        pa.field("item_index", pa.int64(), nullable=False),
        pa.field("relation", pa.string(), nullable=False),
        pa.field("position", pa.int32(), nullable=False),
        ("billing_code_type", pa.string()),
        ("billing_code_type_version", pa.string()),
        ("billing_code", pa.string()),
        ("description", pa.string()),
    ]
)

PROVIDER_GROUP = pa.schema(
    [
        ("provider_group_id", pa.string()),
        ("group_index", pa.int32()),
        ("npi", pa.list_(pa.int64())),
        ("tin_type", pa.string()),
        ("tin_value", pa.string()),
        ("business_name", pa.string()),
        ("network_name", pa.list_(pa.string())),
        ("source", pa.string()),
        ("location", pa.string()),
        ("resolved", pa.bool_()),
    ]
)

FILE = pa.schema(
    [
        ("reporting_entity_name", pa.string()),
        ("reporting_entity_type", pa.string()),
        ("plan_name", pa.string()),
        ("plan_id_type", pa.string()),
        ("plan_id", pa.string()),
        ("plan_market_type", pa.string()),
        ("issuer_name", pa.string()),
        ("plan_sponsor_name", pa.string()),
        ("last_updated_on", pa.string()),
        ("last_updated_date", pa.date32()),
        ("version", pa.string()),
        ("schema_generation", pa.string()),
        ("json_bytes", pa.int64()),
        ("items_read", pa.int64()),
        ("items_rejected", pa.int64()),
        ("rates_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
        ("provider_references", pa.int64()),
        ("unresolved_references", pa.int64()),
        ("complete", pa.bool_()),
        ("problem", pa.string()),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "tic_rate": RATE,
    "tic_provider_group": PROVIDER_GROUP,
    "tic_item_code": ITEM_CODE,
    "tic_file": FILE,
}

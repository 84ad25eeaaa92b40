"""Reader for Transparency in Coverage allowed-amounts files (schemas 1.x and 2.x).

An allowed-amounts file reports, for out-of-network claims, what the plan
allowed for a billing code to a provider's TIN and what providers billed.
Its `out_of_network` array is streamed one element at a time.

Tables:

- `tic_allowed_amount`, the counted table: one row per payment, that is per
  element of `out_of_network[i].allowed_amounts[j].payments[k]`, carrying its
  billing code, TIN, service codes, billing class and modifiers. The
  payment's providers are kept whole in `providers` (a list of billed charge
  and NPIs, one entry per element of `payments[k].providers`) and their NPIs
  flattened, without repeats, into `npi`; `UNNEST(providers)` gives one row
  per billed charge.
- `tic_allowed_file`: one row per file: reporting entity, plan fields,
  `last_updated_on`, version and the counts read.

Quarantine works at the finest level that fails: a payment whose amount or
providers are wrong is rejected alone; an `allowed_amounts` entry without a
TIN or billing class, or an element without a billing code, is rejected once
as a whole, its reason saying how many payments it held. Every reject counts
as one row read, so rows read = rows loaded + rows rejected. Descriptive
fields the tables can do without (name, description, code version, TIN
parts) are kept as null when missing; `payerbrief validate` reports every
schema rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

import msgspec
import pyarrow as pa

from payerbrief.sources.base import (
    BatchBuilder,
    ReadStats,
)
from payerbrief.sources.tic.jsonitems import (
    FILE_KINDS,
    ArrayItems,
    HeaderedReader,
    ItemProblem,
    TicFileError,
    article,
    item_problem,
    json_type,
    raw_text,
    read_top_level,
)

WHAT = "a Transparency in Coverage allowed-amounts JSON file"
ARRAY = "out_of_network"

PROVIDER_TYPE = pa.struct(
    [("billed_charge", pa.float64()), ("npi", pa.list_(pa.int64()))]
)
AMOUNT_SCHEMA = pa.schema(
    [
        ("item_index", pa.int64()),
        ("allowed_index", pa.int32()),
        ("payment_index", pa.int32()),
        ("billing_code_type", pa.string()),
        ("billing_code_type_version", pa.string()),
        ("billing_code", pa.string()),
        ("name", pa.string()),
        ("description", pa.string()),
        ("tin_type", pa.string()),
        ("tin_value", pa.string()),
        ("service_code", pa.list_(pa.string())),
        ("billing_class", pa.string()),
        ("setting", pa.string()),
        ("allowed_amount", pa.float64()),
        ("billing_code_modifier", pa.list_(pa.string())),
        ("providers", pa.list_(PROVIDER_TYPE)),
        ("npi", pa.list_(pa.int64())),
    ]
)
FILE_FIELDS = (
    "reporting_entity_name",
    "reporting_entity_type",
    "plan_name",
    "plan_id_type",
    "plan_id",
    "plan_market_type",
    "issuer_name",
    "plan_sponsor_name",
    "last_updated_on",
    "version",
)
FILE_SCHEMA = pa.schema(
    [(name, pa.string()) for name in FILE_FIELDS]
    + [
        ("items_read", pa.int64()),
        ("payments_loaded", pa.int64()),
        ("rows_rejected", pa.int64()),
    ]
)

T = TypeVar("T")
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _Provider(msgspec.Struct):
    billed_charge: float
    # 1.x types NPIs as "number", 2.x as "integer"; both mean whole numbers.
    npi: list[int]


class _Payment(msgspec.Struct):
    allowed_amount: float
    billing_code_modifier: list[str] | None = None
    providers: list[_Provider] = []


class _Tin(msgspec.Struct):
    type: str | None = None
    value: str | None = None


class _AllowedAmount(msgspec.Struct):
    tin: _Tin
    billing_class: str
    payments: list[Any]
    service_code: list[str] | None = None
    # Not in any schema; the 2.x examples carry it, as some payers do.
    setting: str | None = None


class _Item(msgspec.Struct):
    billing_code_type: NonEmpty
    billing_code: NonEmpty
    allowed_amounts: list[Any]
    billing_code_type_version: str | None = None
    name: str | None = None
    description: str | None = None


class AllowedAmountsReader(HeaderedReader):
    """Reads an allowed-amounts file into one row per payment, plus the file row."""

    kind: ClassVar[str] = "tic-allowed-amounts"
    tables: ClassVar[dict[str, pa.Schema]] = {
        "tic_allowed_amount": AMOUNT_SCHEMA,
        "tic_allowed_file": FILE_SCHEMA,
    }

    def _read_header(self) -> dict[str, Any]:
        return allowed_header(self.path)

    def table_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        self.stats = ReadStats()
        header = self.header()
        builder = BatchBuilder(AMOUNT_SCHEMA, self.batch_rows)
        items = ArrayItems(self.path, ARRAY, WHAT)
        loaded = 0
        for index, item in items:
            for row in self._payments(index, item, items.offset):
                self.stats.rows_read += 1
                if row is None:
                    continue
                loaded += 1
                if (batch := builder.add(row)) is not None:
                    yield "tic_allowed_amount", batch
        if (batch := builder.flush()) is not None:
            yield "tic_allowed_amount", batch
        yield "tic_allowed_file", _file_batch(header, items.count, loaded, self.stats)

    def _payments(
        self, index: int, item: Any, offset: int
    ) -> Iterator[dict[str, object] | None]:
        """The rows of one element; None for each unit rejected (recorded in stats)."""
        path = f"{ARRAY}[{index}]"
        try:
            code = _convert(item, _Item, path)
        except ItemProblem as problem:
            entries = item.get("allowed_amounts") if isinstance(item, dict) else None
            self._reject(index, problem, item, offset, _payment_count(entries))
            yield None
            return
        base = _code_fields(index, code)
        for j, entry in enumerate(code.allowed_amounts):
            entry_path = f"{path}.allowed_amounts[{j}]"
            try:
                allowed = _convert(entry, _AllowedAmount, entry_path)
            except ItemProblem as problem:
                held = _payment_count([entry])
                self._reject(index, problem, entry, offset, held)
                yield None
                continue
            amount_fields = {**base, **_allowed_fields(j, allowed)}
            for k, payment in enumerate(allowed.payments):
                payment_path = f"{entry_path}.payments[{k}]"
                try:
                    paid = _convert(payment, _Payment, payment_path)
                except ItemProblem as problem:
                    self._reject(index, problem, payment, offset, None)
                    yield None
                    continue
                yield {**amount_fields, **_payment_fields(k, paid)}

    def _reject(
        self, index: int, problem: ItemProblem, raw: Any, offset: int, held: int | None
    ) -> None:
        reason = problem.reason
        if held is not None:
            reason += f" ({held} payment{'s' if held != 1 else ''} held back)"
        reason += f" (element ends by byte {offset})"
        self.stats.reject(index, reason, raw_text(raw))


def _convert(value: Any, kind: type[T], path: str) -> T:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise item_problem(exc, path) from None


def _payment_count(entries: Any) -> int:
    """How many payments `allowed_amounts` entries held, as far as they show."""
    total = 0
    for entry in entries if isinstance(entries, list) else ():
        payments = entry.get("payments") if isinstance(entry, dict) else None
        total += len(payments) if isinstance(payments, list) else 0
    return total


def _code_fields(index: int, code: _Item) -> dict[str, object]:
    return {
        "item_index": index,
        "billing_code_type": code.billing_code_type,
        "billing_code_type_version": code.billing_code_type_version,
        "billing_code": code.billing_code,
        "name": code.name,
        "description": code.description,
    }


def _allowed_fields(j: int, allowed: _AllowedAmount) -> dict[str, object]:
    return {
        "allowed_index": j,
        "tin_type": allowed.tin.type,
        "tin_value": allowed.tin.value,
        "service_code": allowed.service_code,
        "billing_class": allowed.billing_class,
        "setting": allowed.setting,
    }


def _payment_fields(k: int, paid: _Payment) -> dict[str, object]:
    npis: dict[int, None] = {}
    for provider in paid.providers:
        npis.update(dict.fromkeys(provider.npi))
    return {
        "payment_index": k,
        "allowed_amount": paid.allowed_amount,
        "billing_code_modifier": paid.billing_code_modifier,
        "providers": [
            {"billed_charge": p.billed_charge, "npi": p.npi} for p in paid.providers
        ],
        "npi": list(npis),
    }


def _file_batch(
    header: dict[str, Any], items: int, loaded: int, stats: ReadStats
) -> pa.RecordBatch:
    row: dict[str, list[object]] = {
        name: [None if header.get(name) is None else str(header[name])]
        for name in FILE_FIELDS
    }
    row["items_read"] = [items]
    row["payments_loaded"] = [loaded]
    row["rows_rejected"] = [len(stats.rejects)]
    return pa.RecordBatch.from_pydict(row, schema=FILE_SCHEMA)


def allowed_header(path: Path) -> dict[str, Any]:
    """The top-level values of an allowed-amounts file, checking that it is one."""
    top = read_top_level(path, WHAT)
    if top.arrays and top.arrays[0] != ARRAY:
        kind = FILE_KINDS[top.arrays[0]]
        raise TicFileError(
            path,
            f"no {ARRAY} array: this is not an allowed-amounts file",
            hint=f"this one has {top.arrays[0]}, so it is {article(kind)} file",
        )
    if not top.arrays:
        if ARRAY in top.values:
            found = article(json_type(top.values[ARRAY]))
            problem = f"{ARRAY} is {found}, not an array"
        else:
            problem = f"no {ARRAY} array: this is not an allowed-amounts file"
        raise TicFileError(
            path, problem, hint="pass an allowed-amounts (out-of-network) file"
        )
    if "reporting_entity_name" not in top.values:
        # Values after the array are rare; find them with a second, full scan.
        top = read_top_level(path, WHAT, whole=True)
    return top.values

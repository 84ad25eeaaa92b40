"""The Python path from in_network items to `tic_rate` rows.

The usual case decodes a whole item into typed structs with one msgspec call
and only collects references to its parts; the columns are built per batch
with one comprehension or Arrow `take` each, and the rates are checked there in
one vectorised step. An item that does not decode cleanly takes the careful
path, which decodes its rates and prices one by one so that only the bad parts
are rejected. The C path (`_flatten.c`) hands every item it is unsure of to
this one.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa
import pyarrow.compute as pc

from payerbrief.sources.base import ReadStats
from payerbrief.sources.tic.innetwork.checks import (
    BILLING_CODE_TYPES,
    IMPLAUSIBLE_RATE,
    decode_problem,
    id_text,
    loads_loose,
    plain,
    rate_problem,
    reason,
)
from payerbrief.sources.tic.innetwork.labels import item_labels, labels
from payerbrief.sources.tic.innetwork.model import (
    InNetworkItem,
    LooseItem,
    LooseRate,
    NegotiatedPrice,
    given,
)
from payerbrief.sources.tic.innetwork.providers import ProviderGroupTable
from payerbrief.sources.tic.innetwork.schema import ITEM_CODE, RATE, STRINGS

_ITEM = msgspec.json.Decoder(InNetworkItem, float_hook=str)


class PyRateColumns:
    """Rows of `tic_rate` made in Python, collected item by item."""

    def __init__(self, stats: ReadStats, providers: ProviderGroupTable) -> None:
        self.stats = stats
        self.providers = providers
        self.items_rejected = 0
        self.has_inline_groups = False  # a 1.x shape
        self._codes: dict[str, list[Any]] = {name: [] for name in ITEM_CODE.names}
        self._start_batch()

    def _start_batch(self) -> None:
        # One entry per item, per negotiated rate and per price of the batch.
        self._items: list[InNetworkItem | LooseItem] = []
        self._item_where: list[tuple[int, int]] = []
        self._rate_item: list[int] = []
        self._rate_index: list[int] = []
        self._rate_refs: list[list[str]] = []
        self._prices: list[NegotiatedPrice] = []
        self._price_rate: list[int] = []
        self._price_index: list[int] = []

    @property
    def rows(self) -> int:
        return len(self._prices)

    def add_item(self, index: int, offset: int, text: memoryview) -> None:
        """One element of `in_network`, at byte `offset` of the JSON text."""
        try:
            item = _ITEM.decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            self._add_loose(index, offset, text)
            return
        if item.billing_code_type not in BILLING_CODE_TYPES:
            self._reject_code_type(index, offset, item.billing_code_type, text)
            return

        position = len(self._items)
        self._items.append(item)
        self._item_where.append((index, offset))
        self._add_codes(index, item)
        for number, rate in enumerate(item.negotiated_rates):
            refs = rate.provider_references
            if refs is not None:
                ids = [r if r.__class__ is str else id_text(r) for r in refs]
                if None in ids:
                    self._reject_rate(index, offset, number, rate, "provider id")
                    continue
            else:
                ids = []
            if given(rate.provider_groups):
                key = self.providers.inline_key(rate.provider_groups)
                if key is None:
                    self._reject_rate(index, offset, number, rate, "provider_groups")
                    continue
                self.has_inline_groups = True
                ids.append(key)
            self._add_prices(position, number, ids, rate.negotiated_prices)  # type: ignore[arg-type]

    def _add_prices(
        self, position: int, number: int, ids: list[str], prices: list[NegotiatedPrice]
    ) -> None:
        count = len(prices)
        if not count:
            return
        self._price_rate.extend([len(self._rate_index)] * count)
        self._price_index.extend(range(count))
        self._prices.extend(prices)
        self._rate_item.append(position)
        self._rate_index.append(number)
        self._rate_refs.append(ids)

    def _add_codes(self, index: int, item: InNetworkItem | LooseItem) -> None:
        """The item's `bundled_codes` and `covered_services`, one row each."""
        for relation, codes in (
            ("bundled_codes", item.bundled_codes),
            ("covered_services", item.covered_services),
        ):
            for position, code in enumerate(codes or ()):
                rows = self._codes
                rows["item_index"].append(index)
                rows["relation"].append(relation)
                rows["position"].append(position)
                rows["billing_code_type"].append(code.billing_code_type)
                rows["billing_code_type_version"].append(code.billing_code_type_version)
                rows["billing_code"].append(code.billing_code)
                rows["description"].append(code.description)

    def take_item_codes(self) -> pa.RecordBatch | None:
        if not self._codes["item_index"]:
            return None
        batch = pa.RecordBatch.from_pydict(self._codes, schema=ITEM_CODE)
        self._codes = {name: [] for name in ITEM_CODE.names}
        return batch

    # The careful path

    def _add_loose(self, index: int, offset: int, text: memoryview) -> None:
        """Decode an item part by part, rejecting only the parts that fail."""
        where = f"in_network[{index}]"
        try:
            parsed = loads_loose(bytes(text))
            item = msgspec.convert(plain(parsed), LooseItem)
        except (ValueError, msgspec.ValidationError) as exc:
            kind, detail = decode_problem(exc)
            self._reject_item(index, reason(kind, where, offset, detail), text)
            return
        if item.billing_code_type not in BILLING_CODE_TYPES:
            self._reject_code_type(index, offset, item.billing_code_type, text)
            return

        position = len(self._items)
        self._items.append(item)
        self._item_where.append((index, offset))
        self._add_codes(index, item)
        for number, raw_rate in enumerate(parsed["negotiated_rates"]):
            rate_where = f"{where}.negotiated_rates[{number}]"
            try:
                rate = msgspec.convert(plain(raw_rate), LooseRate)
                ids = self._loose_ids(raw_rate)
                if rate.provider_groups is not None:
                    ids.append(self._loose_inline_key(rate.provider_groups))
            except msgspec.ValidationError as exc:
                kind, detail = decode_problem(exc)
                why = reason(kind, rate_where, offset, detail)
                self._reject_part(index, why, raw_rate)
                continue
            prices: list[NegotiatedPrice | None] = []
            for place, raw_price in enumerate(rate.negotiated_prices):
                try:
                    prices.append(msgspec.convert(plain(raw_price), NegotiatedPrice))
                except msgspec.ValidationError as exc:
                    kind, detail = decode_problem(exc)
                    price_where = f"{rate_where}.negotiated_prices[{place}]"
                    why = reason(kind, price_where, offset, detail)
                    self._reject_part(index, why, raw_price)
                    prices.append(None)
            self._add_loose_prices(position, number, ids, prices)

    def _add_loose_prices(
        self,
        position: int,
        number: int,
        ids: list[str],
        prices: list[NegotiatedPrice | None],
    ) -> None:
        kept = [(place, p) for place, p in enumerate(prices) if p is not None]
        if not kept:
            return
        self._price_rate.extend([len(self._rate_index)] * len(kept))
        self._price_index.extend(place for place, _ in kept)
        self._prices.extend(p for _, p in kept)
        self._rate_item.append(position)
        self._rate_index.append(number)
        self._rate_refs.append(ids)

    def _loose_ids(self, raw_rate: dict[str, Any]) -> list[str]:
        refs = raw_rate.get("provider_references")
        if refs is None:
            return []
        ids = [id_text(r) for r in refs]
        if None in ids:
            raise msgspec.ValidationError(
                "Expected a number - at `$.provider_references`"
            )
        return ids  # type: ignore[return-value]

    def _loose_inline_key(self, groups: Any) -> str:
        text = msgspec.json.encode(groups)
        key = self.providers.inline_key(text)
        if key is None:
            raise msgspec.ValidationError(
                "Expected provider groups with `npi` and `tin` - at `$.provider_groups`"
            )
        self.has_inline_groups = True
        return key

    # Rejects

    def _reject_item(self, index: int, why: str, text: memoryview) -> None:
        self.items_rejected += 1
        self._items_reject(index, why, bytes(text).decode("utf-8", "replace"))

    def _items_reject(self, index: int, why: str, raw: str) -> None:
        self.stats.rows_read += 1
        self.stats.reject(index, why, raw)

    def _reject_code_type(
        self, index: int, offset: int, code_type: str, text: memoryview
    ) -> None:
        detail = f"{code_type!r} is not a billing code type of the TiC schema"
        why = reason(
            "unknown billing_code_type", f"in_network[{index}]", offset, detail
        )
        self._reject_item(index, why, text)

    def _reject_rate(
        self, index: int, offset: int, number: int, rate: Any, field: str
    ) -> None:
        where = f"in_network[{index}].negotiated_rates[{number}]"
        if field == "provider id":
            detail = "a provider_references entry is not a number"
        else:
            detail = "provider_groups need `npi` numbers and a `tin`"
        self._reject_part(index, reason("invalid value", where, offset, detail), rate)

    def _reject_part(self, index: int, why: str, part: Any) -> None:
        try:
            raw = msgspec.json.encode(part).decode()
        except (TypeError, ValueError, msgspec.EncodeError):
            raw = repr(part)
        self._items_reject(index, why, raw)

    # Batches

    def take_batch(self) -> pa.RecordBatch:
        """The rows collected so far, with bad rates rejected; then start empty."""
        prices = self._prices
        items, where = self._items, self._item_where
        price_rate = pa.array(self._price_rate, pa.int32())
        price_item = pa.array(self._rate_item, pa.int32()).take(price_rate)

        def per_item(values: list[Any]) -> pa.Array:
            return item_labels(pa.array(values, pa.string()), price_item)

        columns = [
            pa.array([w[0] for w in where], pa.int64()).take(price_item),
            pa.array(self._rate_index, pa.int32()).take(price_rate),
            pa.array(self._price_index, pa.int32()),
            per_item([i.billing_code_type for i in items]),
            per_item([i.billing_code for i in items]),
            per_item([i.billing_code_type_version for i in items]),
            per_item([i.name for i in items]),
            per_item([i.description for i in items]),
            per_item([i.negotiation_arrangement for i in items]),
            per_item([i.severity_of_illness for i in items]),
            labels([p.negotiated_type for p in prices]),
            pa.array([p.negotiated_rate for p in prices], pa.float64()),
            labels([p.expiration_date for p in prices]),
            labels([p.billing_class for p in prices]),
            labels([p.setting for p in prices]),
            pa.array([p.service_code for p in prices], STRINGS),
            pa.array([p.billing_code_modifier for p in prices], STRINGS),
            pa.array([p.additional_information for p in prices], pa.string()),
            pa.array(self._rate_refs, STRINGS).take(price_rate),
        ]
        batch = pa.RecordBatch.from_arrays(columns, schema=RATE)
        batch = self._drop_bad_rates(batch)
        self._start_batch()
        return batch

    def _drop_bad_rates(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Reject prices whose rate is not positive, not finite or implausible."""
        rates = batch.column("negotiated_rate")
        good = pc.and_(pc.greater(rates, 0.0), pc.less_equal(rates, IMPLAUSIBLE_RATE))
        if pc.all(good).as_py():
            return batch
        bad = pc.indices_nonzero(pc.invert(good)).to_pylist()
        offsets = {index: offset for index, offset in self._item_where}
        for row in bad:
            index = batch.column("item_index")[row].as_py()
            number = batch.column("rate_index")[row].as_py()
            place = batch.column("price_index")[row].as_py()
            value = rates[row].as_py()
            where = (
                f"in_network[{index}].negotiated_rates[{number}]"
                f".negotiated_prices[{place}]"
            )
            kind = rate_problem(value) or "invalid value"
            why = reason(kind, where, offsets[index], repr(value))
            self._reject_part(index, why, self._prices[row])
        return batch.filter(good)

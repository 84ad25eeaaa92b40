"""In_network items to `tic_rate` batches, through the C path when it is built.

Each item goes first to the C path (`_flatten.c`), which parses it straight
into column buffers; an item the C path declines (it takes only what it can
load exactly as Python would) goes to the Python path (`pycolumns.py`). Rows
keep the file's order: when the path changes, the rows made so far are sealed
into a batch of their own.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from payerbrief.sources.base import ReadStats
from payerbrief.sources.tic.innetwork.labels import item_labels
from payerbrief.sources.tic.innetwork.providers import ProviderGroupTable
from payerbrief.sources.tic.innetwork.pycolumns import PyRateColumns
from payerbrief.sources.tic.innetwork.schema import RATE, STRINGS


class FastColumns(Protocol):
    """What the C extension's `RateColumns` offers."""

    @property
    def rows(self) -> int: ...

    @property
    def punts(self) -> int: ...

    def add_item(self, text: memoryview, index: int) -> bool: ...

    def take(self) -> tuple[Any, ...]: ...


def fast_columns() -> FastColumns | None:
    """The C path's column builder, or None when the extension was not built."""
    try:
        module = importlib.import_module("payerbrief.sources.tic.innetwork._flatten")
    except ImportError:
        return None
    columns: FastColumns = module.RateColumns()
    return columns


def _strings(parts: tuple[Any, ...]) -> pa.Array:
    rows, nulls, valid, offsets, data = parts
    buffers = [None if valid is None else pa.py_buffer(valid)]
    buffers += [pa.py_buffer(offsets), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), rows, buffers, null_count=nulls)


def _string_lists(parts: tuple[Any, ...]) -> pa.Array:
    rows, nulls, valid, offsets, child = parts
    buffers = [None if valid is None else pa.py_buffer(valid), pa.py_buffer(offsets)]
    return pa.Array.from_buffers(
        STRINGS, rows, buffers, null_count=nulls, children=[_strings(child)]
    )


def _numbers(kind: pa.DataType, rows: int, data: bytes) -> pa.Array:
    return pa.Array.from_buffers(kind, rows, [None, pa.py_buffer(data)])


def _labels(parts: tuple[Any, ...]) -> pa.Array:
    rows, nulls, valid, indices, values = parts
    buffers = [None if valid is None else pa.py_buffer(valid), pa.py_buffer(indices)]
    codes = pa.Array.from_buffers(pa.int32(), rows, buffers, null_count=nulls)
    return pa.DictionaryArray.from_arrays(codes, _strings(values))


def fast_batch(parts: tuple[Any, ...]) -> pa.RecordBatch:
    """A `tic_rate` batch from the buffers `RateColumns.take()` hands out."""
    rows, items, rates, prices, positions, values, fields, labels, info, lists = parts
    where = _numbers(pa.int32(), rows, positions)
    code_type, code, version, name, description, arrangement, severity = (
        item_labels(_strings(f), where) for f in fields
    )
    negotiated_type, expiration, billing_class, setting = (_labels(d) for d in labels)
    service_code, modifier, refs = (_string_lists(parts) for parts in lists)
    columns = [
        _numbers(pa.int64(), rows, items),
        _numbers(pa.int32(), rows, rates),
        _numbers(pa.int32(), rows, prices),
        code_type,
        code,
        version,
        name,
        description,
        arrangement,
        severity,
        negotiated_type,
        _numbers(pa.float64(), rows, values),
        expiration,
        billing_class,
        setting,
        service_code,
        modifier,
        _strings(info),
        refs,
    ]
    return pa.RecordBatch.from_arrays(columns, schema=RATE)


class RateTable:
    """Rows of `tic_rate`, collected item by item and handed out as batches."""

    def __init__(
        self,
        stats: ReadStats,
        providers: ProviderGroupTable,
        batch_rows: int,
        *,
        use_c: bool = True,
    ) -> None:
        self.stats = stats
        self.batch_rows = batch_rows
        self.python = PyRateColumns(stats, providers)
        self.fast = fast_columns() if use_c else None
        self.referenced: set[str] = set()
        self.items_read = 0
        self.items_cut = 0  # an item the end of the text cut short
        self.rows_loaded = 0
        self.has_settings = False  # a 2.x shape
        self.has_severity = False  # a 2.x shape
        self._sealed: list[pa.RecordBatch] = []
        self._sealed_rows = 0

    @property
    def items_rejected(self) -> int:
        return self.python.items_rejected + self.items_cut

    @property
    def has_inline_groups(self) -> bool:
        return self.python.has_inline_groups

    @property
    def full(self) -> bool:
        fast = self.fast.rows if self.fast is not None else 0
        return self._sealed_rows + fast + self.python.rows >= self.batch_rows

    def add_item(self, index: int, offset: int, text: memoryview) -> None:
        """One element of `in_network`, at byte `offset` of the JSON text."""
        self.items_read += 1
        fast = self.fast
        if fast is not None:
            if fast.add_item(text, index):
                if self.python.rows:
                    self._seal(self.python.take_batch())
                return
            if fast.rows:
                self._seal(fast_batch(fast.take()))
        self.python.add_item(index, offset, text)

    def take_item_codes(self) -> pa.RecordBatch | None:
        """Rows of `tic_item_code` collected so far (the Python path makes them)."""
        return self.python.take_item_codes()

    def take_batches(self) -> list[pa.RecordBatch]:
        """Every row collected so far, in file order, as one or more batches."""
        if self.fast is not None and self.fast.rows:
            self._seal(fast_batch(self.fast.take()))
        if self.python.rows:
            self._seal(self.python.take_batch())
        batches, self._sealed, self._sealed_rows = self._sealed, [], 0
        return batches

    def _seal(self, batch: pa.RecordBatch) -> None:
        """Count a finished batch and note the ids and 2.x fields it holds."""
        rows = batch.num_rows
        if not rows:
            return
        self._sealed.append(batch)
        self._sealed_rows += rows
        self.stats.rows_read += rows
        self.rows_loaded += rows
        ids = pc.unique(pc.list_flatten(batch.column("provider_refs")))
        self.referenced.update(ids.to_pylist())
        self.has_settings |= batch.column("setting").null_count < rows
        self.has_severity |= batch.column("severity_of_illness").null_count < rows

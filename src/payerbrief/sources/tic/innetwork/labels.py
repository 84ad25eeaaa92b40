"""Dictionary-encoded string columns, the way both paths build them."""

from __future__ import annotations

import pyarrow as pa

from payerbrief.sources.tic.innetwork.schema import LABEL


def item_labels(values: pa.Array, positions: pa.Array) -> pa.Array:
    """An item-level string on each row: `values[positions[row]]`, dictionary-encoded.

    The items' values are encoded once, so the rows cost an index each; the
    dictionary has each value once, which lets Parquet write it as it is (a
    dictionary with repeated values makes it decode and encode every row).
    """
    if values.null_count == len(values):
        return pa.nulls(len(positions), LABEL)
    encoded = values.dictionary_encode()
    return pa.DictionaryArray.from_arrays(
        encoded.indices.take(positions), encoded.dictionary
    )


def labels(values: list[str | None]) -> pa.Array:
    """A dictionary-encoded column from Python strings."""
    return pa.array(values, pa.string()).dictionary_encode()

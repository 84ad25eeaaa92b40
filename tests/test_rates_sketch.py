"""KLL sketches against exact quantiles on the real CareFirst file, and merging."""

import numpy as np
import pyarrow.compute as pc
import pytest

from payerbrief.facts.sketch import Dist, IdSet, rank_error
from payerbrief.sources.tic.innetwork import TicInNetworkReader

CAREFIRST = "tic/carefirst/carefirst_examplefile.json.gz"
GRID = [i / 100 for i in range(1, 100)]


@pytest.fixture(scope="module")
def carefirst_rates(shared_data) -> np.ndarray:
    reader = TicInNetworkReader(shared_data / CAREFIRST)
    values = [
        batch.column("negotiated_rate").to_numpy()
        for table, batch in reader.table_batches()
        if table == "tic_rate"
    ]
    return np.sort(np.concatenate(values))


def within_rank_error(exact: np.ndarray, dist: Dist) -> list[float]:
    """Ranks q whose sketch quantile's true rank is off by more than the error."""
    epsilon = rank_error()
    off = []
    for q in GRID:
        value = dist.quantile(q)
        below = np.searchsorted(exact, value, side="left") / exact.size
        at_or_below = np.searchsorted(exact, value, side="right") / exact.size
        if not below - epsilon <= q <= at_or_below + epsilon:
            off.append(q)
    return off


def test_sketch_quantiles_are_within_the_rank_error(carefirst_rates) -> None:
    assert carefirst_rates.size == 122310
    sketch = Dist.of(carefirst_rates)
    assert not sketch.exact
    assert rank_error() < 0.014
    assert within_rank_error(carefirst_rates, sketch) == []
    assert (sketch.n, sketch.low, sketch.high) == (
        122310,
        carefirst_rates[0],
        carefirst_rates[-1],
    )


def test_merged_per_file_sketches_match_one_sketch(carefirst_rates) -> None:
    # Four "files": the rates dealt round-robin, summarized apart, then merged.
    parts = [Dist.of(carefirst_rates[i::4]) for i in range(4)]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    assert merged.n == carefirst_rates.size
    assert merged.total == pytest.approx(float(carefirst_rates.sum()))
    assert within_rank_error(carefirst_rates, merged) == []


def test_small_groups_stay_exact_and_merge_exactly() -> None:
    a, b = Dist.of([3.0, 1.0, 2.0]), Dist.of([5.0, 4.0])
    both = a.merge(b)
    assert both.exact and both.quantile(0.5) == 3.0 and both.mean() == 3.0
    assert both.within(2.0, 4.0).quantiles([0.0, 1.0]) == [2.0, 4.0]
    assert both.divided(2.0).quantile(1.0) == 2.5


def test_trimmed_sketch_sets_apart_the_tails(carefirst_rates) -> None:
    sketch = Dist.of(carefirst_rates)
    high = float(np.quantile(carefirst_rates, 0.9))
    kept = sketch.within(0.0, high)
    exact = carefirst_rates[carefirst_rates <= high]
    assert abs(kept.n - exact.size) <= rank_error() * carefirst_rates.size
    assert within_rank_error(exact, kept) == []
    assert sketch.count_above(high) == pytest.approx(
        carefirst_rates.size - exact.size, abs=rank_error() * carefirst_rates.size
    )


def test_id_sets_switch_to_hyperloglog_past_the_limit() -> None:
    small = IdSet.of(str(i) for i in range(100))
    assert small.exact and small.count() == 100
    large = IdSet.of((str(i) for i in range(5000)), limit=1000)
    assert not large.exact
    assert large.union(small).count() == pytest.approx(5000, rel=0.05)
    restored = IdSet.stored(None, large.serialized())
    assert restored.count() == large.count()


def test_summaries_round_trip_through_parquet(shared_data, tmp_path) -> None:
    from payerbrief.facts.summaries import summarize_load, write_summary
    from payerbrief.store.warehouse import Warehouse

    with Warehouse(tmp_path / "home") as warehouse:
        entry = warehouse.load(TicInNetworkReader(shared_data / CAREFIRST)).entry
        table = summarize_load(warehouse.lake, entry.load_id, limit=16)
        write_summary(warehouse.lake, entry.load_id, table, None)
    assert pc.sum(table["rows"]).as_py() == 122310
    assert pc.sum(table["n"]).as_py() == 122310
    sketched = table.filter(pc.is_valid(table["sketch"]))
    assert sketched.num_rows > 0
    row = sketched.to_pylist()[0]
    dist = Dist.stored(
        row["n"], row["total"], row["low"], row["high"], None, row["sketch"]
    )
    assert dist.n == row["n"] and not dist.exact

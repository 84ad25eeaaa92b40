"""Reader of the CMS NPPES NPI file: each NPI's taxonomies and practice location.

CMS publishes the file monthly as `npidata_pfile_20050523-YYYYMMDD.csv` (every
NPI ever issued, 9+ GB) and weekly as `npidata_pfile_YYYYMMDD-YYYYMMDD.csv`
(the NPIs added or changed that week), each inside an NPPES Data
Dissemination ZIP. Both have one layout (NPPES Data Dissemination Readme,
section 2.1): a header row naming 330 columns, then one row per NPI with every
field in double quotes. The reader finds the columns it needs by name, so a
column added or moved by CMS does not break it, and fails naming any that are
missing.

The file is read by Arrow's streaming CSV reader, which converts only the
needed columns, on a thread of its own a few blocks ahead; every derived
column is computed on whole batches with Arrow compute functions, never row
by row in Python.

What the loaded table holds, and the limits of that:

- `line` is the row's record number plus one (the header is line 1). It equals
  the physical line as long as no quoted value spans lines; after a value that
  does, the numbers run one behind for each extra line. A row the parser
  cannot split into the header's columns (one cut short) is rejected under
  its number.
- `npi_valid` is the NPI check digit (Luhn with the prefix 80840). A row whose
  NPI fails it is loaded and flagged, not trusted: the rest of the row is
  still what CMS published, facts can leave flagged NPIs out, and the
  manifest's rows read still equal rows loaded plus rows rejected.
  `check_digit_failures` counts them for the load's report.
- Only the columns read are checked for UTF-8; a bad byte in a column the
  reader does not need (a name, a phone number) is never decoded.
- A deactivated NPI keeps only its NPI and deactivation date in CMS's file, so
  its entity type and taxonomies are empty.

Weekly files apply on top of the newest monthly one; `current_providers_sql()`
is the query that picks each NPI's newest row.
"""

from __future__ import annotations

import csv
import re
import threading
import zipfile
import zlib
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from queue import Full, Queue
from typing import IO, ClassVar

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    Provenance,
    ReadStats,
    open_member,
    require_file,
    sha256_of,
)

PUBLISHER = "Centers for Medicare & Medicaid Services (NPPES)"
WHAT = "the NPPES data file (npidata_pfile_YYYYMMDD-YYYYMMDD.csv)"
HEADER_HINT = (
    "pass the npidata_pfile CSV from CMS's NPPES Data Dissemination ZIP (or the "
    "ZIP itself), unedited; its header row names all 330 columns"
)
ENCODING_HINT = "save the file as utf-8, as the publisher ships it"

# Column names as the header row spells them (Readme, section 2.1).
NPI = "NPI"
ENTITY = "Entity Type Code"
DEACTIVATED = "NPI Deactivation Date"
STATE = "Provider Business Practice Location Address State Name"
POSTAL = "Provider Business Practice Location Address Postal Code"
COUNTRY = "Provider Business Practice Location Address Country Code (If outside U.S.)"
SLOTS = range(1, 16)
TAXONOMY = tuple(f"Healthcare Provider Taxonomy Code_{n}" for n in SLOTS)
SWITCH = tuple(f"Healthcare Provider Primary Taxonomy Switch_{n}" for n in SLOTS)
COLUMNS = (NPI, ENTITY, DEACTIVATED, STATE, POSTAL, COUNTRY, *TAXONOMY, *SWITCH)

# The monthly file covers every NPI since NPPES began on 2005-05-23; a weekly
# file covers one week. Both name their span (Readme, sections 1.2 and 1.3).
NAME = re.compile(r"npidata_pfile_(\d{8})-(\d{8})\.csv$", re.IGNORECASE)
MONTHLY_START = "20050523"

# Bytes per block handed to Arrow's CSV parser, about 13,000 NPPES rows: each
# batch costs a fixed hundred compute calls, so batches are kept large.
BLOCK_SIZE = 4 << 20
# Rows per batch handed on: derived batches are joined up to this many, so a
# Parquet writer makes row groups of a useful size.
OUTPUT_ROWS = 1 << 16
HEADER_LIMIT = 1 << 16
UNIT_SEPARATOR = "\x1f"

# Constants as Arrow scalars: pyarrow converts a Python value on every compute
# call, and without NumPy installed each conversion retries importing it.
EMPTY = pa.scalar("", pa.string())
NO_TEXT = pa.scalar(None, pa.string())
YES = pa.scalar("Y", pa.string())
US = pa.scalar("US", pa.string())
TRUE = pa.scalar(True)
FALSE = pa.scalar(False)
ONE = pa.scalar(1, pa.int32())
NO_CODES = pa.scalar([], pa.list_(pa.string()))
TEN = pa.scalar(10, pa.int64())
# The digit sum of twice each digit 0-9, the Luhn formula's doubled digits.
DOUBLED = pa.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], pa.int64())
# Entity Type Code: 1 an individual, 2 an organization (Code Values, 1.1).
ENTITIES = pa.array(["1", "2"], pa.string())

SCHEMA = pa.schema(
    [
        ("npi", pa.string()),
        ("entity_type", pa.string()),
        ("primary_taxonomy", pa.string()),
        ("taxonomies", pa.list_(pa.string())),
        ("practice_state", pa.string()),
        ("practice_zip5", pa.string()),
        ("deactivation_date", pa.date32()),
        ("npi_valid", pa.bool_()),
        ("line", pa.int64()),
    ]
)


class NppesReader:
    """The NPPES NPI file, monthly or weekly: one row per NPI."""

    kind: ClassVar[str] = "nppes"
    table: ClassVar[str] = "nppes_provider"
    schema: ClassVar[pa.Schema] = SCHEMA

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()
        self.check_digit_failures = 0

    def provenance(self) -> Provenance:
        self._columns()
        with self._member() as (_, name):
            release, as_of = nppes_release(name)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        self.check_digit_failures = 0
        self._columns()
        numbers = _RowNumbers(self.stats)
        handed = 0
        held: list[pa.RecordBatch] = []
        with self._member() as (source, _):
            ahead = _read_ahead(_open_csv(self.path, source, numbers))
            try:
                for raw in self._guarded(ahead, numbers):
                    handed += raw.num_rows
                    held.append(self._derive(raw, numbers.take(raw.num_rows)))
                    if sum(batch.num_rows for batch in held) >= OUTPUT_ROWS:
                        yield _joined(held)
                        held = []
            finally:
                ahead.close()
        if any(batch.num_rows for batch in held):
            yield _joined(held)
        self.stats.rows_read = handed + numbers.skipped_rows
        # The parsing thread rejects rows a block ahead of the derived checks.
        self.stats.rejects.sort(key=lambda reject: reject.line)

    @contextmanager
    def _member(self) -> Iterator[tuple[str | IO[bytes], str]]:
        """The file to parse (a path, or the data member of a ZIP) and its name."""
        require_file(self.path, WHAT)
        if not _is_zip(self.path):
            yield str(self.path), self.path.name
            return
        with open_member(self.path, _is_data_member, WHAT) as stream:
            name = getattr(stream, "name", self.path.name)
            yield stream, Path(name).name  # type: ignore[misc]

    def _columns(self) -> list[str]:
        """The header row's names, after checking it has every column needed."""
        with self._member() as (source, _):
            first = _first_line(source)
        names = _header_names(self.path, first)
        missing = [name for name in COLUMNS if name not in names]
        if missing:
            raise SourceFileError(
                self.path,
                f"the header row lacks {len(missing)} of the columns the reader "
                f"needs: {', '.join(missing)}",
                line=1,
                hint=HEADER_HINT,
            )
        return names

    def _guarded(
        self, reader: Iterator[pa.RecordBatch], numbers: _RowNumbers
    ) -> Iterator[pa.RecordBatch]:
        """Batches from Arrow, with its failures turned into errors that name a line."""
        try:
            yield from reader
        except pa.ArrowInvalid as exc:
            if "invalid UTF8" in str(exc):
                raise _encoding_error(self.path, numbers.next_line) from exc
            raise SourceFileError(
                self.path,
                f"the rows after line {numbers.next_line - 1} cannot be read as "
                f"CSV ({exc})",
                line=numbers.next_line,
                hint="pass the file as CMS publishes it; download it again if it "
                "may be damaged",
            ) from exc
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise SourceFileError(
                self.path,
                f"the file cannot be read past line {numbers.next_line - 1} ({exc})",
                line=numbers.next_line,
                hint="download the file again; it may be truncated",
            ) from exc

    def _derive(self, raw: pa.RecordBatch, lines: pa.Array) -> pa.RecordBatch:
        """The table's columns for one batch, less the rows that fail validation."""
        cells = {name: raw.column(name) for name in COLUMNS}
        deactivated = pc.cast(
            pc.strptime(cells[DEACTIVATED], "%m/%d/%Y", "s", error_is_null=True),
            pa.date32(),
        )
        keep = self._reject_invalid(cells, deactivated, lines)
        if keep is not None:
            cells = {name: values.filter(keep) for name, values in cells.items()}
            deactivated = deactivated.filter(keep)
            lines = lines.filter(keep)

        taxonomies, joined = _taxonomy_lists([cells[name] for name in TAXONOMY])
        valid = npi_check_digits_valid(cells[NPI])
        self.check_digit_failures += len(valid) - valid.true_count
        return pa.RecordBatch.from_arrays(
            [
                cells[NPI],
                cells[ENTITY],
                _primary_taxonomy(cells, taxonomies, joined),
                taxonomies,
                cells[STATE],
                _zip5(cells[POSTAL], cells[COUNTRY]),
                deactivated,
                valid,
                lines,
            ],
            schema=self.schema,
        )

    def _reject_invalid(
        self, cells: dict[str, pa.Array], deactivated: pa.Array, lines: pa.Array
    ) -> pa.Array | None:
        """Reject rows whose NPI, entity type or date is malformed; None if none is."""
        npi, entity = cells[NPI], cells[ENTITY]
        npi_ok = pc.and_(pc.equal(pc.binary_length(npi), TEN), pc.ascii_is_decimal(npi))
        entity_ok = pc.or_(pc.is_null(entity), pc.is_in(entity, value_set=ENTITIES))
        date_ok = pc.or_(pc.is_null(cells[DEACTIVATED]), pc.is_valid(deactivated))
        good = pc.and_(pc.and_(pc.fill_null(npi_ok, FALSE), entity_ok), date_ok)
        bad = pc.invert(good)
        if not pc.any(bad).as_py():
            return None
        for index in pc.indices_nonzero(bad).to_pylist():
            row = {name: values[index].as_py() for name, values in cells.items()}
            self.stats.reject(lines[index].as_py(), _row_problem(row), _row_text(row))
        return good


class _RowNumbers:
    """Line numbers of the rows Arrow hands over, around the rows it skipped.

    Arrow's parser reports each row it cannot split into the header's number
    of columns to `skip`, with the row's number, before it hands over the batch
    that row would have been in. Rows are numbered from the header, which is 1.
    `skip` runs on the parsing thread and `take` on the reading one; each
    attribute has one writer, and a set's single operations are atomic.
    """

    def __init__(self, stats: ReadStats) -> None:
        self.stats = stats
        self.next_line = 2
        self.skipped: set[int] = set()
        self.skipped_rows = 0

    def skip(self, row: pacsv.InvalidRow) -> str:
        number = row.number if row.number is not None else self.next_line
        self.skipped.add(number)
        self.skipped_rows += 1
        self.stats.reject(number, _shape_problem(row), row.text)
        return "skip"

    def take(self, count: int) -> pa.Array:
        """The line numbers of the next `count` rows handed over."""
        start = self.next_line
        if not self.skipped:
            self.next_line += count
            return pa.array(range(start, self.next_line), pa.int64())
        numbers: list[int] = []
        line = start
        while len(numbers) < count:
            if line in self.skipped:
                self.skipped.discard(line)
            else:
                numbers.append(line)
            line += 1
        self.next_line = line
        return pa.array(numbers, pa.int64())


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """One batch of the rows of `batches`, copied together."""
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches).combine_chunks().to_batches()[0]


def _read_ahead(
    batches: Iterator[pa.RecordBatch], depth: int = 2
) -> Generator[pa.RecordBatch, None, None]:
    """The batches, parsed ahead on a thread while the caller works on the last.

    Arrow parses without holding the GIL, so on two cores parsing overlaps the
    derived columns and the Parquet writing. A failure while parsing is raised
    here, after the batches parsed before it.
    """
    queue: Queue[tuple[pa.RecordBatch | None, BaseException | None]] = Queue(depth)
    stop = threading.Event()

    def put(item: tuple[pa.RecordBatch | None, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                queue.put(item, timeout=0.1)
                return True
            except Full:
                continue
        return False

    def parse() -> None:
        try:
            for batch in batches:
                if not put((batch, None)):
                    return
            put((None, None))
        except BaseException as exc:  # handed to the reading thread as it is
            put((None, exc))

    worker = threading.Thread(target=parse, name="nppes-csv", daemon=True)
    worker.start()
    try:
        while True:
            batch, error = queue.get()
            if error is not None:
                raise error
            if batch is None:
                return
            yield batch
    finally:
        stop.set()
        worker.join()


def _open_csv(
    path: Path, source: str | IO[bytes], numbers: _RowNumbers
) -> pacsv.CSVStreamingReader:
    """Arrow's streaming CSV reader over the needed columns, all as text.

    One thread parses, so each skipped row comes with its number. Quoted values
    may span lines; an empty cell ("") reads as null.
    """
    try:
        return pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(block_size=BLOCK_SIZE, use_threads=False),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=True, invalid_row_handler=numbers.skip
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=list(COLUMNS),
                column_types={name: pa.string() for name in COLUMNS},
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" in str(exc):
            raise _encoding_error(path, 2) from exc
        raise SourceFileError(
            path, f"the file cannot be read as CSV ({exc})", line=1, hint=HEADER_HINT
        ) from exc


def _is_zip(path: Path) -> bool:
    """True for a ZIP by its first bytes, as `open_member` tells one, even when
    it is cut short (its directory at the end is then missing)."""
    with path.open("rb") as probe:
        return probe.read(4) == b"PK\x03\x04"


def _is_data_member(name: str) -> bool:
    """The data file of a Data Dissemination ZIP, not its `_fileheader.csv` copy."""
    return NAME.search(name) is not None


def _first_line(source: str | IO[bytes]) -> bytes:
    if isinstance(source, str):
        with open(source, "rb") as handle:
            return handle.readline(HEADER_LIMIT)
    return source.readline(HEADER_LIMIT)


def _header_names(path: Path, first: bytes) -> list[str]:
    if not first.strip():
        raise SourceFileError(
            path,
            "the file is empty; expected a header row naming the NPPES columns",
            line=1,
            hint=HEADER_HINT,
        )
    try:
        text = first.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            path,
            f"byte {exc.start + 1} of the line is not valid utf-8 "
            f"({first[exc.start : exc.start + 4]!r})",
            line=1,
            hint=ENCODING_HINT,
        ) from exc
    row = next(csv.reader([text.rstrip("\r\n")]), [])
    return [name.strip() for name in row]


def _encoding_error(path: Path, from_line: int) -> SourceFileError:
    """The error for the first line at or after `from_line` with a bad read cell.

    Arrow names only the column, so the line is found by reading the file again
    from the start, which only happens on the way to this error.
    """
    with _raw_stream(path) as stream:
        names = _header_names(path, stream.readline(HEADER_LIMIT))
        wanted = [names.index(name) for name in COLUMNS]
        for number, data in enumerate(stream, start=2):
            if number < from_line:
                continue
            problem = _bad_utf8(data, wanted)
            if problem is not None:
                return SourceFileError(path, problem, line=number, hint=ENCODING_HINT)
    return SourceFileError(
        path,
        f"a line at or after line {from_line} is not valid utf-8",
        line=from_line,
        hint=ENCODING_HINT,
    )


@contextmanager
def _raw_stream(path: Path) -> Iterator[IO[bytes]]:
    if _is_zip(path):
        with open_member(path, _is_data_member, WHAT) as stream:
            yield stream  # type: ignore[misc]
    else:
        with path.open("rb") as stream:
            yield stream


def _bad_utf8(data: bytes, wanted: list[int]) -> str | None:
    """What is wrong with the line's bytes, if a cell the reader needs is not UTF-8."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        start = exc.start
    # Latin-1 maps each byte to one character, so cells keep their byte offsets.
    cells = next(csv.reader([data.decode("latin-1")]), [])
    needed = [cells[i] for i in wanted if i < len(cells)]
    if all(cell.isascii() for cell in needed):
        return None
    return (
        f"byte {start + 1} of the line is not valid utf-8 ({data[start : start + 4]!r})"
    )


def _matches(values: pa.Array, pattern: str) -> pa.Array:
    """True where the text matches; an empty (null) cell matches as ''."""
    return pc.match_substring_regex(pc.fill_null(values, EMPTY), pattern)


def _row_problem(row: dict[str, object]) -> str:
    npi = row[NPI] or ""
    if not re.fullmatch(r"[0-9]{10}", str(npi)):
        return f"column {NPI}: {npi!r} is not 10 digits"
    entity = row[ENTITY]
    if entity not in (None, "1", "2"):
        return f"column {ENTITY}: {entity!r} is neither 1 (individual) nor 2 (organization)"
    return f"column {DEACTIVATED}: {row[DEACTIVATED]!r} is not a date MM/DD/YYYY"


def _row_text(row: dict[str, object]) -> str:
    """The cells the reader read from a rejected row, quoted as in the file."""
    return ",".join(f'"{row[name] or ""}"' for name in COLUMNS)


def _shape_problem(row: pacsv.InvalidRow) -> str:
    # Quotes open a value that may span lines, so an odd count of quotes can
    # only mean the file ended inside a quoted value.
    if row.text.count('"') % 2:
        return "the file ends inside a quoted field of this row; it may be truncated"
    return f"expected {row.expected_columns} columns, found {row.actual_columns}"


def _taxonomy_lists(codes: list[pa.Array]) -> tuple[pa.Array, pa.Array]:
    """Each row's non-empty taxonomy codes in slot order, and the same joined.

    Slots empty in every row of the batch are left out of the work. The empty
    string at the end stands in for a row with no code at all:
    `binary_join_element_wise` with null_handling="skip" drops such rows
    outright (pyarrow 26.0.1), shortening the column. With it, each joined
    value ends in one separator, cut off before splitting.
    """
    rows = len(codes[0])
    present = [code for code in codes if code.null_count < rows]
    if not present:
        offsets = pa.repeat(pa.scalar(0, pa.int32()), rows + 1)
        lists = pa.ListArray.from_arrays(offsets, pa.array([], pa.string()))
        return lists, pa.nulls(rows, pa.string())
    empty = pa.repeat(EMPTY, rows)
    joined = pc.binary_join_element_wise(
        *present, empty, UNIT_SEPARATOR, null_handling="skip"
    )
    joined = pc.utf8_slice_codeunits(joined, 0, -1)
    joined = pc.if_else(pc.equal(joined, EMPTY), NO_TEXT, joined)
    lists = pc.split_pattern(joined, UNIT_SEPARATOR)
    return pc.fill_null(lists, NO_CODES), joined


def _primary_taxonomy(
    cells: dict[str, pa.Array], taxonomies: pa.Array, joined: pa.Array
) -> pa.Array:
    """The first taxonomy whose primary switch is Y; else the only one, if one.

    The switch is Y, N or X, "not answered" (NPPES Data Dissemination Code
    Values, "Primary Taxonomy Switch").
    """
    primary = pa.nulls(len(taxonomies), pa.string())
    for code_name, switch_name in reversed(list(zip(TAXONOMY, SWITCH, strict=True))):
        code = cells[code_name]
        if code.null_count == len(code):
            continue
        marked = pc.fill_null(pc.equal(cells[switch_name], YES), FALSE)
        primary = pc.if_else(pc.and_(marked, pc.is_valid(code)), code, primary)
    single = pc.equal(pc.list_value_length(taxonomies), ONE)
    return pc.if_else(pc.and_(pc.is_null(primary), single), joined, primary)


def _zip5(postal: pa.Array, country: pa.Array) -> pa.Array:
    """The five-digit ZIP code of a U.S. postal code (ZIP or ZIP+4, no hyphen)."""
    domestic = pc.fill_null(pc.equal(country, US), TRUE)
    usable = pc.and_(domestic, _matches(postal, r"^[0-9]{5}"))
    return pc.if_else(usable, pc.utf8_slice_codeunits(postal, 0, 5), NO_TEXT)


def npi_check_digits_valid(npis: pa.Array) -> pa.Array:
    """True where a 10-digit NPI carries the right check digit.

    CMS, "Requirements for National Provider Identifier check digit": the
    Luhn formula over the NPI prefixed with 80840, whose digits add a constant
    24. Every other digit of the nine-digit base, from its rightmost, is
    doubled and its digits added; the total with the check digit must end in 0.
    """
    rest = pc.cast(npis, pa.int64())
    total: pa.Array = pa.repeat(pa.scalar(24, pa.int64()), len(npis))
    for position in range(9, -1, -1):
        left = pc.divide(rest, TEN)
        digit = pc.subtract(rest, pc.multiply(left, TEN))
        if position % 2 == 0:
            digit = pc.take(DOUBLED, digit)
        total = pc.add(total, digit)
        rest = left
    return pc.equal(pc.multiply(pc.divide(total, TEN), TEN), total)


def npi_check_digit(base: str) -> str:
    """The check digit for a nine-digit NPI base, by the same rule."""
    total = 24
    for position, char in enumerate(base):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return str((10 - total % 10) % 10)


def nppes_release(file_name: str) -> tuple[str, date | None]:
    """The release a file name names ("2025-11 monthly", "weekly 20251110-20251116").

    The as-of date is the end of the span the file covers.
    """
    found = NAME.search(file_name)
    if found is None:
        return "unknown", None
    start, end = found.groups()
    try:
        as_of = date(int(end[:4]), int(end[4:6]), int(end[6:]))
    except ValueError:
        return "unknown", None
    if start == MONTHLY_START:
        return f"{as_of:%Y-%m} monthly", as_of
    return f"weekly {start}-{end}", as_of


def current_providers_sql() -> str:
    """A query over the warehouse for each NPI's current row.

    The base is the newest monthly load (by as-of date); weekly loads dated
    after it apply on top, and for each NPI the row from the newest file wins.
    Older monthly loads, and weekly ones they already include, are ignored.
    With no monthly load, every weekly load counts. Run it where the
    `manifest` table and the `nppes_provider` view exist, for example as
    `CREATE VIEW nppes_current AS ...`.
    """
    return """
WITH loads AS (
    SELECT load_id, as_of, loaded_at, release LIKE '% monthly' AS monthly
    FROM manifest
    WHERE kind = 'nppes'
),
base AS (
    SELECT max(as_of) AS as_of FROM loads WHERE monthly
),
wanted AS (
    SELECT loads.*
    FROM loads, base
    WHERE base.as_of IS NULL
       OR (loads.monthly AND loads.as_of = base.as_of)
       OR (NOT loads.monthly AND loads.as_of > base.as_of)
),
ranked AS (
    SELECT provider.*, row_number() OVER (
        PARTITION BY provider.npi
        ORDER BY wanted.as_of DESC NULLS LAST, wanted.loaded_at DESC,
                 provider.line DESC
    ) AS newest
    FROM nppes_provider AS provider
    JOIN wanted USING (load_id)
)
SELECT * EXCLUDE (newest) FROM ranked WHERE newest = 1
""".strip()

"""What every source reader shares: provenance, rejected rows, and careful text input."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

import pyarrow as pa

from payerbrief.errors import MissingSourceError, SourceFileError

BATCH_ROWS = 8192


@dataclass(frozen=True)
class Provenance:
    """Where a loaded file came from: the facts a brief cites for it."""

    kind: str
    file_name: str
    sha256: str
    publisher: str
    release: str
    as_of: date | None
    notice: str = ""


@dataclass(frozen=True)
class Reject:
    """One row that failed validation, kept with its position and reason."""

    line: int
    reason: str
    raw: str


@dataclass
class ReadStats:
    rows_read: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def reject(self, line: int, reason: str, raw: str) -> None:
        self.rejects.append(Reject(line, reason, raw[:500]))


class SourceReader(Protocol):
    """A reader of one file of one kind.

    `provenance()` reads only what it needs to name the release; `batches()`
    streams the validated rows and records rejected ones in `stats`.
    """

    kind: ClassVar[str]
    table: ClassVar[str]
    schema: ClassVar[pa.Schema]
    path: Path
    stats: ReadStats

    def provenance(self) -> Provenance: ...

    def batches(self) -> Iterator[pa.RecordBatch]: ...


@runtime_checkable
class MultiTableReader(Protocol):
    """A reader whose file fills several tables (a payer file: plans, providers, rates).

    `table_batches()` yields (table name, batch) pairs in any order; every
    table it names is in `tables` with its schema.
    """

    kind: ClassVar[str]
    tables: ClassVar[dict[str, pa.Schema]]
    path: Path
    stats: ReadStats

    def provenance(self) -> Provenance: ...

    def table_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]: ...


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def require_file(path: Path, what: str) -> Path:
    """Fail early, naming the file, when it is missing or not a file."""
    if not path.exists():
        raise MissingSourceError(
            path, "file not found", hint=f"pass the path of {what}"
        )
    if not path.is_file():
        raise MissingSourceError(path, "not a file", hint=f"pass the path of {what}")
    return path


def open_member(
    path: Path, pick: Callable[[str], bool], what: str
) -> io.BufferedIOBase:
    """Open `path`, or the one member of the ZIP at `path` that `pick` accepts.

    CMS distributes most of its files as ZIPs holding the data file beside
    documentation; the reader names what it looks for when no member fits.
    """
    require_file(path, what)
    with path.open("rb") as probe:
        is_zip = probe.read(4) == b"PK\x03\x04"
    if not is_zip:
        return path.open("rb")
    try:
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if pick(n)]
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SourceFileError(
            path,
            f"the ZIP archive is damaged ({exc})",
            hint="download the file again; it may be truncated",
        ) from exc
    if len(names) != 1:
        found = ", ".join(archive.namelist()) or "nothing"
        count = "no file" if not names else f"{len(names)} files"
        raise SourceFileError(
            path,
            f"the ZIP holds {count} that could be {what} (it holds {found})",
            hint=f"pass {what} itself, or a ZIP that holds exactly one",
        )
    return archive.open(names[0])  # type: ignore[return-value]


def text_lines(
    path: Path, raw: io.BufferedIOBase, encoding: str = "utf-8"
) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) from a byte stream, decoding strictly.

    A UTF-8 byte-order mark is dropped. A line that does not decode stops the
    read with its line number: guessing an encoding would corrupt descriptors.
    """
    number = 0
    try:
        for number, data in enumerate(raw, start=1):
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise SourceFileError(
                    path,
                    f"byte {exc.start + 1} of the line is not valid {encoding} "
                    f"({data[exc.start : exc.start + 4]!r})",
                    line=number,
                    hint=f"save the file as {encoding}, as the publisher ships it",
                ) from exc
            yield number, text.rstrip("\r\n")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise SourceFileError(
            path,
            f"the file cannot be read past line {number} ({exc})",
            line=number + 1,
            hint="download the file again; it may be truncated",
        ) from exc


def csv_rows(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """Parse CSV line by line so every row keeps the number of its first line.

    A quoted field may span lines; such a row is reported at its first line.
    """
    pending: list[str] = []
    start = 0
    for number, text in lines:
        if not pending:
            start = number
        pending.append(text)
        joined = "\n".join(pending)
        if joined.count('"') % 2:
            continue
        pending = []
        yield start, next(csv.reader([joined]), [])
    if pending:
        yield start, next(csv.reader(["\n".join(pending) + '"']), [])


class BatchBuilder:
    """Collect validated rows as columns and hand them out as record batches."""

    def __init__(self, schema: pa.Schema, size: int = BATCH_ROWS) -> None:
        self.schema = schema
        self.size = size
        self.columns: dict[str, list[object]] = {n: [] for n in schema.names}
        self.count = 0

    def add(self, row: dict[str, object]) -> pa.RecordBatch | None:
        for name, values in self.columns.items():
            values.append(row.get(name))
        self.count += 1
        return self.flush() if self.count >= self.size else None

    def flush(self) -> pa.RecordBatch | None:
        if not self.count:
            return None
        batch = pa.RecordBatch.from_pydict(self.columns, schema=self.schema)
        self.columns = {n: [] for n in self.schema.names}
        self.count = 0
        return batch


def read_all(reader: SourceReader) -> pa.Table:
    """Read a whole (small) source into one table; tests and the demo use it."""
    return pa.Table.from_batches(list(reader.batches()), schema=reader.schema)


def parse_number(text: str, line: int, column: str, stats: ReadStats) -> float | None:
    """A decimal field, or None (with a recorded reason) when it does not parse."""
    value = text.strip()
    if not value:
        return 0.0
    try:
        return float(value)
    except ValueError:
        stats.reject(line, f"column {column}: {value!r} is not a number", text)
        return None

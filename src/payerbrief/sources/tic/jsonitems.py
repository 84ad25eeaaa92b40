"""Stream a Transparency in Coverage JSON file: its top-level values and big arrays.

TiC files are one JSON object whose few top-level values (reporting entity,
plan, dates, version) sit beside one or two arrays that can hold gigabytes
(`in_network`, `provider_references`, `reporting_structure`,
`out_of_network`, `provider_groups`). Nothing here holds more than one
element of such an array in memory. Files are read gzip or plain by their
first bytes, whatever their name says, and a UTF-8 byte-order mark is
skipped.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import ijson

from payerbrief.errors import SourceFileError
from payerbrief.sources.base import (
    BATCH_ROWS,
    Provenance,
    ReadStats,
    require_file,
    sha256_of,
)

BIG_ARRAYS = frozenset(
    {
        "in_network",
        "provider_references",
        "reporting_structure",
        "out_of_network",
        "provider_groups",
    }
)
# The kind of file each big array belongs to.
FILE_KINDS = {
    "in_network": "in-network rates",
    "provider_references": "in-network rates",
    "reporting_structure": "table-of-contents",
    "out_of_network": "allowed-amounts",
    "provider_groups": "provider-reference",
}
GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
# Small reads keep the byte offset named in errors within 8 KiB of the fault,
# at no measurable cost in speed.
READ_SIZE = 8192
MAX_UNPACKED = 1 << 40
TRUNCATED_HINT = "download the file again; it may be truncated"


class TicFileError(SourceFileError):
    """A payer file that is not valid JSON, or not of the expected shape.

    `offset` is the byte offset (in the decompressed stream) the reader had
    reached, `item` the array element it was in or after.
    """

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        offset: int | None = None,
        item: str | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(path, problem, hint=hint)
        self.offset = offset
        self.item = item
        where = [str(self.path)]
        if offset is not None:
            where.append(f"byte {offset}")
        if item:
            where.append(item)
        self.args = (f"{', '.join(where)}: {problem}",)


class CountingReader:
    """A binary stream over the (gunzipped) file that counts the bytes it gives."""

    def __init__(self, path: Path, raw: Any, max_unpacked: int) -> None:
        self.path = path
        self.raw = raw
        self.max_unpacked = max_unpacked
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self.raw.read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise TicFileError(
                self.path,
                f"the gzip stream is damaged or ends early ({exc})",
                offset=self.offset,
                hint=TRUNCATED_HINT,
            ) from exc
        if self.offset == 0 and data.startswith(BOM):
            data = data[len(BOM) :]
        self.offset += len(data)
        if self.offset > self.max_unpacked:
            raise TicFileError(
                self.path,
                f"the file unpacks to more than {self.max_unpacked} bytes",
                offset=self.offset,
                hint="raise the decompression limit if the file is really this large",
            )
        return data


@contextlib.contextmanager
def open_json(
    path: Path, what: str, max_unpacked: int = MAX_UNPACKED
) -> Iterator[CountingReader]:
    """Open a payer file for streaming, gunzipping it when its bytes are gzip."""
    require_file(path, what)
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic == GZIP_MAGIC:
            with gzip.GzipFile(fileobj=raw) as unpacked:
                yield CountingReader(path, unpacked, max_unpacked)
        else:
            yield CountingReader(path, raw, max_unpacked)


def json_error(
    path: Path, exc: Exception, offset: int, item: str | None
) -> TicFileError:
    """A file error for an ijson parse failure, in words a reader can act on."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    first = lines[0] if lines else type(exc).__name__
    if first.startswith("b'") or first.startswith('b"'):
        first = first[2:].split("\\n")[0]
    if "premature EOF" in first:
        return TicFileError(
            path,
            "the file ends before its JSON is complete",
            offset=offset,
            item=item,
            hint=TRUNCATED_HINT,
        )
    near = f" near {lines[1][:60]!r}" if len(lines) > 2 else ""
    return TicFileError(
        path,
        f"not valid JSON ({first}){near}",
        offset=offset,
        item=item,
        hint="the file is damaged or not JSON; download it again or ask the publisher",
    )


@dataclass
class TopLevel:
    """The top-level values of a file, and the big arrays met, in file order.

    `complete` is False when the scan stopped at the first big array, so
    values placed after it are not in `values`.
    """

    values: dict[str, Any] = field(default_factory=dict)
    arrays: list[str] = field(default_factory=list)
    complete: bool = True


_SCALARS = frozenset({"null", "boolean", "integer", "double", "number", "string"})
_KINDS = {"start_array": "an array", "integer": "a number", "double": "a number"}


def read_top_level(path: Path, what: str, *, whole: bool = False) -> TopLevel:
    """Read the top-level values other than the big arrays.

    By default the scan stops at the first big array, which in real files
    comes after the scalars, so only the head of the file is read. With
    `whole`, the scan skips over every big array to the end (slower: it walks
    every element) to find values placed after them.
    """
    top = TopLevel()
    with open_json(path, what) as stream:
        events = ijson.parse(stream, use_float=True, buf_size=READ_SIZE)
        try:
            _scan_top_level(path, events, top, whole)
        except ijson.JSONError as exc:
            if stream.offset == 0:
                raise _not_an_object(path, "nothing") from exc
            raise json_error(path, exc, stream.offset, None) from exc
    return top


def _scan_top_level(
    path: Path, events: Iterator[tuple[str, str, Any]], top: TopLevel, whole: bool
) -> None:
    first = next(events, None)
    if first is None or first[1] != "start_map":
        found = "nothing" if first is None else _KINDS.get(first[1], f"a {first[1]}")
        raise _not_an_object(path, found)
    key = ""
    for prefix, event, value in events:
        if prefix == "" and event == "map_key":
            key = value
        elif prefix == "" and event == "end_map":
            return
        elif key in BIG_ARRAYS and event == "start_array" and prefix == key:
            top.arrays.append(key)
            if not whole:
                top.complete = False
                return
            _skip(events)
        elif event in _SCALARS:
            top.values[key] = value
        else:
            top.values[key] = _build(event, events)


def _not_an_object(path: Path, found: str) -> TicFileError:
    return TicFileError(
        path,
        f"the file holds {found}, not a JSON object",
        offset=0,
        hint="pass a Transparency in Coverage JSON file",
    )


def _skip(events: Iterator[tuple[str, str, Any]]) -> None:
    """Pass over the rest of a container whose start event was just read."""
    depth = 1
    for _prefix, event, _value in events:
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


def _build(start: str, events: Iterator[tuple[str, str, Any]]) -> Any:
    """Build a small container value whose start event was just read."""
    builder = ijson.ObjectBuilder()
    builder.event(start, None)
    depth = 1
    for _prefix, event, value in events:
        builder.event(event, value)
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


class ArrayItems:
    """The elements of one top-level array, streamed, with their index.

    `offset` is the byte offset reached so far; `count` the elements given.
    A parse failure becomes a `TicFileError` naming the offset and the last
    element read.
    """

    def __init__(self, path: Path, array: str, what: str) -> None:
        self.path = path
        self.array = array
        self.what = what
        self.offset = 0
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        self.count = 0
        with open_json(self.path, self.what) as stream:
            items = ijson.items(
                stream, f"{self.array}.item", use_float=True, buf_size=READ_SIZE
            )
            while True:
                try:
                    item = next(items)
                except StopIteration:
                    break
                except ijson.JSONError as exc:
                    raise json_error(
                        self.path, exc, stream.offset, self.position()
                    ) from exc
                finally:
                    self.offset = stream.offset
                yield self.count, item
                self.count += 1

    def position(self) -> str:
        """Where the stream is, in words: the element it is in or after."""
        if self.count == 0:
            return f"before the first element of {self.array}"
        return f"after {self.array}[{self.count - 1}]"


def json_path(root: str, parts: Any) -> str:
    """A path such as `in_network[12].negotiated_rates[0].negotiated_rate`."""
    text = root
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


# Checking one element


class ItemProblem(Exception):
    """Why one array element cannot be loaded: a kind, the JSON path, the detail.

    The reason recorded for the reject reads `kind: path detail`, so the
    manifest groups rejects by kind.
    """

    def __init__(self, kind: str, path: str, detail: str = "") -> None:
        self.kind = kind
        self.path = path
        self.detail = detail
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.path} {self.detail}".rstrip()


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def article(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def raw_text(item: Any) -> str:
    """The element as compact JSON, for the quarantine (cut to 500 characters)."""
    return json.dumps(item, separators=(",", ":"), default=str)[:500]


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"Object missing required field `(?P<field>[^`]+)`")
_EXPECTED = re.compile(r"Expected `(?P<want>[^`]+)`(?:, got `(?P<got>[^`]+)`)?")


def item_problem(exc: Exception, root: str) -> ItemProblem:
    """An `ItemProblem` from a msgspec validation error, with the full JSON path.

    msgspec says "Expected `str`, got `int` - at `$.plans[0].plan_id`"; the
    reject reason says "wrong type: root.plans[0].plan_id is a number, not a
    string".
    """
    match = _AT.match(str(exc))
    what = match.group("what") if match else str(exc)
    path = root + ((match.group("path") or "") if match else "")
    if missing := _MISSING.search(what):
        return ItemProblem("missing field", f"{path}.{missing.group('field')}")
    expected = _EXPECTED.search(what)
    if expected and expected.group("got"):
        got = _JSON_NAMES.get(expected.group("got"), expected.group("got"))
        want = _JSON_NAMES.get(expected.group("want"), expected.group("want"))
        return ItemProblem(
            "wrong type",
            path,
            f"is {'null' if got == 'null' else article(got)}, not {article(want)}",
        )
    if expected and "length >= 1" in what:
        return ItemProblem("empty field", path)
    return ItemProblem("invalid value", path, f"({what})")


_JSON_NAMES = {
    "str": "string",
    "int": "number",
    "float": "number",
    "bool": "boolean",
    "object": "object",
    "array": "array",
    "null": "null",
    "str | null": "string",
    "array | null": "array",
    "object | null": "object",
}


# One pass over everything


class TopLevelWalk:
    """One pass over a file: its top-level values and each big-array element.

    Iterating yields ("value", key, value) for a top-level value that is not
    a big array, ("item", "array[i]", element) for each element of a big
    array and ("end", array, count) when a big array closes, in file order.
    Elements are built one at a time in Python from parse events; it is
    slower than `ArrayItems`, but sees values and arrays wherever they are.
    """

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self.offset = 0
        self.where: str | None = None

    def __iter__(self) -> Iterator[tuple[str, str, Any]]:
        with open_json(self.path, self.what) as stream:
            events = ijson.parse(stream, use_float=True, buf_size=READ_SIZE)
            try:
                first = next(events, None)
                if first is None:
                    raise _not_an_object(self.path, "nothing")
                if first[1] != "start_map":
                    found = _KINDS.get(first[1], f"a {first[1]}")
                    raise _not_an_object(self.path, found)
                yield from self._members(events, stream)
            except ijson.JSONError as exc:
                if stream.offset == 0:
                    raise _not_an_object(self.path, "nothing") from exc
                raise json_error(self.path, exc, stream.offset, self.where) from exc

    def _members(
        self, events: Iterator[tuple[str, str, Any]], stream: CountingReader
    ) -> Iterator[tuple[str, str, Any]]:
        key = ""
        for prefix, event, value in events:
            if prefix == "" and event == "map_key":
                key = value
            elif prefix == "" and event == "end_map":
                return
            elif key in BIG_ARRAYS and prefix == key and event == "start_array":
                count = 0
                self.where = f"before the first element of {key}"
                for element in _elements(events):
                    self.offset = stream.offset
                    yield "item", f"{key}[{count}]", element
                    self.where = f"after {key}[{count}]"
                    count += 1
                self.where = None
                yield "end", key, count
            elif event in _SCALARS:
                yield "value", key, value
            else:
                yield "value", key, _build(event, events)


def _elements(events: Iterator[tuple[str, str, Any]]) -> Iterator[Any]:
    """The elements of an array whose start event was just read."""
    for _prefix, event, value in events:
        if event == "end_array":
            return
        yield value if event in _SCALARS else _build(event, events)


def parse_date(value: Any) -> date | None:
    """`last_updated_on` as a date, or None when absent or not YYYY-MM-DD."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


class HeaderedReader:
    """What the readers of tables of contents and allowed-amounts files share.

    Both name their file from its top-level values (reporting entity, version,
    `last_updated_on`), read once by `_read_header` and kept.
    """

    kind: ClassVar[str]

    def __init__(self, path: Path, *, batch_rows: int = BATCH_ROWS) -> None:
        self.path = Path(path)
        self.batch_rows = batch_rows
        self.stats = ReadStats()
        self._header: dict[str, Any] | None = None

    def _read_header(self) -> dict[str, Any]:
        raise NotImplementedError

    def header(self) -> dict[str, Any]:
        """The top-level values: reporting entity, plan, version, last_updated_on."""
        if self._header is None:
            self._header = self._read_header()
        return self._header

    def provenance(self) -> Provenance:
        header = self.header()
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=str(header.get("reporting_entity_name") or "unknown"),
            release=str(header.get("version") or "unversioned"),
            as_of=parse_date(header.get("last_updated_on")),
        )

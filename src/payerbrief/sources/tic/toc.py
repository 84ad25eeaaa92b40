"""Reader for Transparency in Coverage tables of contents (schemas 1.x and 2.x).

A table of contents lists, in `reporting_structure`, which in-network and
allowed-amount files belong to which plans. Real ones reach tens of
gigabytes because every employer plan repeats the same few thousand file
URLs, often each time with a fresh signature in the query string. The reader
streams `reporting_structure` one element at a time and keeps one entry per
distinct file (and one small key per distinct plan), never one per mention.

Tables, all keyed within one load by `load_id`:

- `tic_toc_link`, the counted table: one row per loaded `reporting_structure`
  element, with the keys of its plans and files, so that elements read =
  links loaded + elements rejected.
- `tic_toc_plan`: one row per distinct plan (name, id type, id, market type,
  issuer, sponsor).
- `tic_toc_file`: one row per distinct file, keyed by its URL without the
  signing parameters; `url` is the first full URL seen, ready to download
  while its signature is valid, and `mentions` counts its repeats.

An element is rejected, whole, when it lacks what every schema version
requires of the fields these tables hold (a plan's name, id type, id and
market type; a file's description and location; at least one file) or when
any of them has the wrong JSON type. Issuer and sponsor names (2.x) are
optional here; `payerbrief validate` reports every schema rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, NamedTuple, Protocol

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

WHAT = "a Transparency in Coverage table-of-contents JSON file"
ARRAY = "reporting_structure"
IN_NETWORK = "in-network"
ALLOWED_AMOUNT = "allowed-amount"

# Query parameters that sign a URL rather than name a file: CloudFront
# (Expires, Signature, Key-Pair-Id, Policy), AWS S3 presigning (X-Amz-*,
# AWSAccessKeyId), Google Cloud Storage (X-Goog-*, GoogleAccessId) and Azure
# shared access signatures (sv, se, st, sp, sr, sig, ...). Other parameters
# stay in the key, since some hosts name the file in the query.
SIGNING_PARAMETERS = frozenset(
    {
        "expires",
        "signature",
        "key-pair-id",
        "policy",
        "awsaccesskeyid",
        "googleaccessid",
        "sv",
        "ss",
        "srt",
        "sp",
        "se",
        "st",
        "spr",
        "sig",
        "sr",
        "si",
        "sdd",
        "skoid",
        "sktid",
        "skt",
        "ske",
        "sks",
        "skv",
        "saoid",
        "suoid",
        "scid",
    }
)

LINK_SCHEMA = pa.schema(
    [
        ("structure_index", pa.int64()),
        ("plan_keys", pa.list_(pa.int64())),
        ("in_network_file_keys", pa.list_(pa.int64())),
        ("allowed_amount_file_key", pa.int64()),
    ]
)
PLAN_SCHEMA = pa.schema(
    [
        ("plan_key", pa.int64()),
        ("plan_name", pa.string()),
        ("plan_id_type", pa.string()),
        ("plan_id", pa.string()),
        ("plan_market_type", pa.string()),
        ("issuer_name", pa.string()),
        ("plan_sponsor_name", pa.string()),
        ("first_structure_index", pa.int64()),
    ]
)
FILE_SCHEMA = pa.schema(
    [
        ("file_key", pa.int64()),
        ("url_key", pa.string()),
        ("url", pa.string()),
        ("description", pa.string()),
        ("file_kind", pa.string()),
        ("mentions", pa.int64()),
        ("first_structure_index", pa.int64()),
    ]
)


_SIGNING = re.compile(
    r"(?:^|&)(?:"
    + "|".join(re.escape(name) for name in sorted(SIGNING_PARAMETERS))
    + r"|x-amz-[^=&]*|x-goog-[^=&]*)(?==|&|$)[^&]*",
    re.IGNORECASE,
)
_BASES: dict[str, str] = {}


def collapse_key(url: str) -> str:
    """The URL without signing parameters or fragment, scheme and host in lower case.

    Two signed URLs of one file differ only in these parameters, so they
    share this key. A table of contents has millions of URLs, so this is
    string work with one regular expression, and the few distinct bases are
    remembered.
    """
    base, _, query = url.strip().partition("#")[0].partition("?")
    normal = _BASES.get(base)
    if normal is None:
        normal = _normal_base(base)
        if len(_BASES) >= 4096:
            _BASES.clear()
        _BASES[base] = normal
    if not query:
        return normal
    kept = _SIGNING.sub("", query).strip("&")
    if "&&" in kept:
        kept = "&".join(pair for pair in kept.split("&") if pair)
    return f"{normal}?{kept}" if kept else normal


def _normal_base(base: str) -> str:
    scheme, sep, rest = base.partition("://")
    if not sep:
        return base
    host, slash, tail = rest.partition("/")
    return f"{scheme.lower()}://{host.lower()}{slash}{tail}"


def stable_key(*parts: str | None) -> int:
    """A signed 64-bit key for the given values, the same in every load."""
    text = "\x1f".join("" if p is None else p for p in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class TocPlan(msgspec.Struct, frozen=True, gc=False):
    """One element of `reporting_plans`, with the fields of every schema version."""

    plan_name: NonEmpty
    plan_id_type: str
    plan_id: NonEmpty
    plan_market_type: str
    # issuer_name and plan_sponsor_name arrived with schema 2.0.
    issuer_name: str | None = None
    plan_sponsor_name: str | None = None

    @property
    def key(self) -> int:
        return stable_key(
            self.plan_name,
            self.plan_id_type,
            self.plan_id,
            self.plan_market_type,
            self.issuer_name,
            self.plan_sponsor_name,
        )

    def matches(self, text: str) -> bool:
        """True when `text` is in the plan's name or id, ignoring case."""
        needle = text.casefold()
        return needle in self.plan_name.casefold() or needle in self.plan_id.casefold()


class _FileLocation(msgspec.Struct, gc=False):
    description: str
    location: NonEmpty


class _Structure(msgspec.Struct, gc=False):
    """A `reporting_structure` element as every schema version shapes it."""

    reporting_plans: list[TocPlan]
    in_network_files: list[_FileLocation] | None = None
    allowed_amount_file: _FileLocation | None = None


class TocLocation(NamedTuple):
    description: str
    url: str
    kind: str


@dataclass(slots=True)
class TocStructure:
    """One `reporting_structure` element: its plans and the files they share."""

    index: int
    plans: list[TocPlan]
    files: list[TocLocation]


def parse_structure(index: int, item: Any) -> TocStructure:
    """Check one `reporting_structure` element; raise `ItemProblem` when it is unusable.

    The types are checked by msgspec against `_Structure`, in C; a plain
    Python walk took most of the read time of a large table of contents.
    """
    path = f"{ARRAY}[{index}]"
    try:
        parsed = msgspec.convert(item, _Structure)
    except msgspec.ValidationError as exc:
        raise item_problem(exc, path) from None
    files = [
        _location(loc, f"{path}.in_network_files[{n}]", IN_NETWORK)
        for n, loc in enumerate(parsed.in_network_files or ())
    ]
    allowed = parsed.allowed_amount_file
    if allowed is not None:
        files.append(_location(allowed, f"{path}.allowed_amount_file", ALLOWED_AMOUNT))
    if not files:
        # Every version requires in_network_files or allowed_amount_file (anyOf).
        raise ItemProblem(
            "no file", path, "lists neither in_network_files nor allowed_amount_file"
        )
    return TocStructure(index, parsed.reporting_plans, files)


def _location(value: _FileLocation, path: str, kind: str) -> TocLocation:
    url = value.location.strip()
    if not url[:8].lower().startswith(("https://", "http://")):
        # 1.x allows any string; 1.6 and 2.x require "^https://".
        raise ItemProblem("bad URL", f"{path}.location", f"{url[:80]!r} is not http(s)")
    return TocLocation(value.description, url, kind)


def iter_structures(
    path: Path, items: ArrayItems | None = None
) -> Iterator[tuple[int, TocStructure | ItemProblem, Any]]:
    """Each `reporting_structure` element: parsed, or the problem that stops it."""
    for index, item in items or ArrayItems(path, ARRAY, WHAT):
        try:
            yield index, parse_structure(index, item), item
        except ItemProblem as problem:
            yield index, problem, item


@dataclass
class _File:
    """A distinct file, with the count of its mentions."""

    key: int
    location: TocLocation
    url_key: str
    mentions: int
    first_structure: int


class FileCounter:
    """Distinct files by kind and collapse key, with their mentions counted.

    Memory grows with the distinct files only, never with the mentions.
    """

    def __init__(self) -> None:
        self.files: dict[str, _File] = {}

    def count(self, location: TocLocation, structure_index: int) -> _File:
        """Count one mention and return its file."""
        url_key = collapse_key(location.url)
        # Both kinds share one dict; the kind leads the key to keep them apart.
        entry = self.files.get(location.kind + " " + url_key)
        if entry is None:
            key = stable_key(location.kind, url_key)
            entry = _File(key, location, url_key, 0, structure_index)
            self.files[location.kind + " " + url_key] = entry
        entry.mentions += 1
        return entry


class _LinkBatches:
    """Link rows gathered as flat columns with list offsets.

    pyarrow converts Python lists of lists slowly (about 30 us a row here),
    so the key lists are kept flat and assembled with `ListArray.from_arrays`.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._reset()

    def _reset(self) -> None:
        self.index: list[int] = []
        self.plan_offsets: list[int] = [0]
        self.plans: list[int] = []
        self.file_offsets: list[int] = [0]
        self.files: list[int] = []
        self.allowed: list[int | None] = []

    def add(
        self, index: int, plans: list[int], files: list[int], allowed: int | None
    ) -> pa.RecordBatch | None:
        self.index.append(index)
        self.plans.extend(plans)
        self.plan_offsets.append(len(self.plans))
        self.files.extend(files)
        self.file_offsets.append(len(self.files))
        self.allowed.append(allowed)
        return self.flush() if len(self.index) >= self.size else None

    def flush(self) -> pa.RecordBatch | None:
        if not self.index:
            return None
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array(self.index, pa.int64()),
                _lists(self.plan_offsets, self.plans),
                _lists(self.file_offsets, self.files),
                pa.array(self.allowed, pa.int64()),
            ],
            schema=LINK_SCHEMA,
        )
        self._reset()
        return batch


def _lists(offsets: list[int], values: list[int]) -> pa.Array:
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(values, pa.int64())
    )


class TocReader(HeaderedReader):
    """Reads a table of contents into links, distinct plans and distinct files."""

    kind: ClassVar[str] = "tic-toc"
    tables: ClassVar[dict[str, pa.Schema]] = {
        "tic_toc_link": LINK_SCHEMA,
        "tic_toc_plan": PLAN_SCHEMA,
        "tic_toc_file": FILE_SCHEMA,
    }

    def _read_header(self) -> dict[str, Any]:
        return toc_header(self.path)

    def table_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        self.stats = ReadStats()
        self.header()
        links = _LinkBatches(self.batch_rows)
        plans = BatchBuilder(PLAN_SCHEMA, self.batch_rows)
        files = FileCounter()
        seen_plans: set[int] = set()
        items = ArrayItems(self.path, ARRAY, WHAT)
        for index, parsed, item in iter_structures(self.path, items):
            self.stats.rows_read += 1
            if isinstance(parsed, ItemProblem):
                where = f" (element ends by byte {items.offset})"
                self.stats.reject(index, parsed.reason + where, raw_text(item))
                continue
            for row in _new_plans(parsed, seen_plans):
                if (batch := plans.add(row)) is not None:
                    yield "tic_toc_plan", batch
            if (batch := links.add(*_link_keys(parsed, files))) is not None:
                yield "tic_toc_link", batch
        for table, builder in (("tic_toc_link", links), ("tic_toc_plan", plans)):
            if (batch := builder.flush()) is not None:
                yield table, batch
        yield from _file_batches(files)


def _new_plans(structure: TocStructure, seen: set[int]) -> Iterator[dict[str, object]]:
    for plan in structure.plans:
        key = plan.key
        if key in seen:
            continue
        seen.add(key)
        yield {
            "plan_key": key,
            "plan_name": plan.plan_name,
            "plan_id_type": plan.plan_id_type,
            "plan_id": plan.plan_id,
            "plan_market_type": plan.plan_market_type,
            "issuer_name": plan.issuer_name,
            "plan_sponsor_name": plan.plan_sponsor_name,
            "first_structure_index": structure.index,
        }


def _link_keys(
    structure: TocStructure, files: FileCounter
) -> tuple[int, list[int], list[int], int | None]:
    """The keys one element links, counting each file mention on the way."""
    in_network: list[int] = []
    allowed: int | None = None
    for location in structure.files:
        key = files.count(location, structure.index).key
        if location.kind == ALLOWED_AMOUNT:
            allowed = key
        else:
            in_network.append(key)
    plans = list(dict.fromkeys(p.key for p in structure.plans))
    return structure.index, plans, list(dict.fromkeys(in_network)), allowed


def _file_batches(files: FileCounter) -> Iterator[tuple[str, pa.RecordBatch]]:
    builder = BatchBuilder(FILE_SCHEMA)
    for entry in files.files.values():
        row = {
            "file_key": entry.key,
            "url_key": entry.url_key,
            "url": entry.location.url,
            "description": entry.location.description,
            "file_kind": entry.location.kind,
            "mentions": entry.mentions,
            "first_structure_index": entry.first_structure,
        }
        if (batch := builder.add(row)) is not None:
            yield "tic_toc_file", batch
    if (batch := builder.flush()) is not None:
        yield "tic_toc_file", batch


def toc_header(path: Path) -> dict[str, Any]:
    """The top-level values of a table of contents, checking that it is one."""
    top = read_top_level(path, WHAT)
    if not top.arrays or top.arrays[0] != ARRAY:
        # A table of contents has no other big array, so meeting another
        # first (in_network, out_of_network, ...) settles it.
        if ARRAY in top.values:
            found = article(json_type(top.values[ARRAY]))
            problem = f"{ARRAY} is {found}, not an array"
        else:
            problem = f"no {ARRAY} array: this is not a table of contents"
        hint = "pass a table-of-contents (index) file"
        if top.arrays:
            kind = FILE_KINDS[top.arrays[0]]
            hint += f"; this one has {top.arrays[0]}, so it is {article(kind)} file"
        raise TicFileError(path, problem, hint=hint)
    if "reporting_entity_name" not in top.values and not top.complete:
        # Values after the array are rare; find them with a second, full scan.
        top = read_top_level(path, WHAT, whole=True)
    return top.values


# Listing the files of a plan


class _Rows(Protocol):
    """What `toc_files` needs of a warehouse: parameterised queries."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[dict[str, Any]]: ...

    def has_table(self, table: str) -> bool: ...


@dataclass(frozen=True)
class TocFile:
    """One file a table of contents lists: where to get it and what it is."""

    url: str
    url_key: str
    description: str
    kind: str
    file_key: int


def toc_files(
    source: Path | str | _Rows,
    *,
    plan: str | None = None,
    kind: str | None = IN_NETWORK,
    limit: int | None = None,
    load_id: str | None = None,
) -> list[TocFile]:
    """The distinct files listed for plans whose name or id contains `plan`.

    `source` is a table-of-contents file, streamed (reading stops once
    `limit` files are found), or a warehouse holding loaded ones (the newest
    load, or `load_id`). Files come in the order the matching elements list
    them; `kind` is "in-network", "allowed-amount" or None for both.
    """
    if limit is not None and limit <= 0:
        return []
    if isinstance(source, Path | str):
        return _files_in_file(Path(source), plan, kind, limit)
    return _files_in_warehouse(source, plan, kind, limit, load_id)


def _files_in_file(
    path: Path, plan: str | None, kind: str | None, limit: int | None
) -> list[TocFile]:
    toc_header(path)
    counter = FileCounter()
    for _index, parsed, _item in iter_structures(path):
        if isinstance(parsed, ItemProblem):
            continue
        if plan and not any(p.matches(plan) for p in parsed.plans):
            continue
        for location in parsed.files:
            if kind is None or location.kind == kind:
                counter.count(location, parsed.index)
                if limit is not None and len(counter.files) >= limit:
                    break
        if limit is not None and len(counter.files) >= limit:
            break
    return [
        TocFile(
            f.location.url, f.url_key, f.location.description, f.location.kind, f.key
        )
        for f in counter.files.values()
    ]


_FILES_SQL = """
WITH args AS (
    SELECT ?::VARCHAR AS load, ?::VARCHAR AS plan, ?::VARCHAR AS kind
),
chosen AS (
    SELECT plan_key FROM tic_toc_plan, args
    WHERE load_id = args.load
      AND (args.plan IS NULL
           OR contains(lower(plan_name), lower(args.plan))
           OR contains(lower(plan_id), lower(args.plan)))
),
mentioned AS (
    SELECT structure_index,
           list_concat(in_network_file_keys,
                       CASE WHEN allowed_amount_file_key IS NULL THEN []
                            ELSE [allowed_amount_file_key] END) AS keys
    FROM tic_toc_link, args
    WHERE load_id = args.load
      AND list_has_any(plan_keys, (SELECT coalesce(list(plan_key), []) FROM chosen))
),
listed AS (
    SELECT structure_index, unnest(keys) AS file_key,
           generate_subscripts(keys, 1) AS position
    FROM mentioned
),
firsts AS (
    SELECT file_key, min((structure_index, position)) AS first
    FROM listed GROUP BY file_key
)
SELECT f.url, f.url_key, f.description, f.file_kind, f.file_key
FROM tic_toc_file AS f JOIN firsts USING (file_key), args
WHERE f.load_id = args.load AND (args.kind IS NULL OR f.file_kind = args.kind)
ORDER BY firsts.first
"""


def _files_in_warehouse(
    warehouse: _Rows,
    plan: str | None,
    kind: str | None,
    limit: int | None,
    load_id: str | None,
) -> list[TocFile]:
    if not warehouse.has_table("tic_toc_link"):
        return []
    if load_id is None:
        newest = warehouse.rows(
            "SELECT load_id FROM manifest WHERE kind = ? "
            "ORDER BY as_of DESC NULLS LAST, loaded_at DESC LIMIT 1",
            [TocReader.kind],
        )
        if not newest:
            return []
        load_id = str(newest[0]["load_id"])
    sql = _FILES_SQL + (f"LIMIT {int(limit)}" if limit is not None else "")
    rows = warehouse.rows(sql, [load_id, plan or None, kind])
    return [
        TocFile(r["url"], r["url_key"], r["description"], r["file_kind"], r["file_key"])
        for r in rows
    ]

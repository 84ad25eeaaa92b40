"""Reader of the Medicare Coverage Database (MCD) article export.

CMS publishes the MCD as downloads at
https://downloads.cms.gov/medicare-coverage-database/downloads/exports/:
`current_article.zip` holds the current articles, `all_article.zip` every
version of every article. Each ZIP holds a readme and a second ZIP,
`current_article_csv.zip` (or `all_article_csv.zip`), of one CSV per database
table: 37 tables and about 575,000 rows in one recent copy. This reader takes
that ZIP, the inner ZIP, a ZIP holding the CSVs directly, or a folder of the
CSVs.

It reads six tables and fills one warehouse table from each:

- `article_x_hcpc_code` -> `mcd_article_code`: one row per article version and
  CPT or HCPCS code, with the code's group number within the article.
- `article` -> `mcd_article`: the article's title, type, status and dates;
  `display_id` is the id the MCD shows (A followed by the article id).
- `article_x_icd10_covered` -> `mcd_icd10_covered`: the ICD-10-CM codes that
  support medical necessity, with their group number and asterisk flag.
- `article_x_icd10_covered_group` -> `mcd_icd10_covered_group`: the paragraph
  that introduces each group of covered codes, HTML turned into plain text.
- `article_x_icd10_noncovered` -> `mcd_icd10_noncovered`: codes that do not
  support medical necessity, in the covered table's shape (the asterisk flag
  is always null), kept apart so that they can never read as covered.
- `article_x_contractor` -> `mcd_article_contractor`: the contractors (MACs)
  that issued each article version, named from `contractor` and
  `contractor_type_lookup` when the export holds them.

`article_type_lookup`, `contractor` and `contractor_type_lookup` are reference
tables: they are read whole first, only to name things, and must be intact.

Briefs pair a billing code with diagnoses by joining `mcd_article_code` to
`mcd_icd10_covered` on (article_id, article_version), within one load
(add `load_id` to the join when several exports are loaded):

    SELECT a.display_id, a.title, i.icd10_code, i.description, i.icd10_group
    FROM mcd_article_code c
    JOIN mcd_icd10_covered i USING (load_id, article_id, article_version)
    JOIN mcd_article a USING (load_id, article_id, article_version)
    WHERE c.code = '70553' AND a.status = 'A'

Code groups and covered ICD-10 groups are numbered independently: which
diagnosis group supports which code is said only in the group's paragraph
(`mcd_icd10_covered_group`), so a brief should show the paragraph with the
codes.

Text encoding: lines that are valid UTF-8 are read as UTF-8, others as
Windows-1252. Public loaders of the export disagree: some read it as UTF-8,
others as Latin-1, and a fixture modelled on a real copy writes an en dash as
byte 0x96, which only Windows-1252 maps to a character. A byte that is
neither stops the read, naming the member and line.

`stats.rows_read` counts the data rows of the six tables above; it equals the
rows loaded into the six warehouse tables plus the rows rejected. Rows of the
reference tables are not counted.
"""

from __future__ import annotations

import csv
import hashlib
import html
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import IO, ClassVar, NamedTuple

import pyarrow as pa

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import BatchBuilder, Provenance, ReadStats, sha256_of

PUBLISHER = "Centers for Medicare & Medicaid Services (Medicare Coverage Database)"
NOTICE = (
    "CPT codes and descriptors in the Medicare Coverage Database are copyright "
    "the American Medical Association."
)
WHAT = "the MCD article export (current_article.zip or all_article.zip)"
HINT = (
    "pass the Medicare Coverage Database article export as CMS publishes it: "
    "current_article.zip or all_article.zip, or the folder of its CSV files"
)
DAMAGED_HINT = "download the file again; it may be truncated"

# One record may hold an article's whole HTML text: real article.csv rows
# carry fields over the csv module's default limit of 128 KiB.
MAX_RECORD_CHARS = 64 * 1024 * 1024
# The CSV files of a recent current export total about 110 MB unpacked; a ZIP of
# them far larger than that is refused before it is copied to a temporary file.
MAX_INNER_ZIP_BYTES = 1024 * 1024 * 1024


# The layouts: every column of each table in file order, as the CSV headers of
# a recent current_article_csv.zip name them (listed, with row counts, by the
# import manifest a public MCD importer generated from those headers; other
# public loaders of the export read the same names). A header must name the
# columns in `required`, in any order; it may name others, so that a column
# CMS adds does not stop the load. Columns read but not required (range,
# asterisk, icd10_covered_ast) are null when absent.


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


@dataclass(frozen=True)
class Member:
    """One CSV table of the export: its columns as CMS writes them, and those read."""

    name: str
    layout: tuple[str, ...]
    required: tuple[str, ...]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


ARTICLE = Member(
    "article",
    _names(
        """article_id article_version article_type title article_pub_date
        article_eff_date article_end_date description other_comments sad_url
        status last_updated history_exp key_article icd9_covered_para
        icd9_noncovered_para revenue_para thirty_percent article_rev_end_date
        source_article_id date_retired keywords icd10_doc add_icd10_info
        cms_cov_policy display_id reference_article"""
    ),
    _names(
        """article_id article_version article_type title article_eff_date
        article_end_date status last_updated"""
    ),
)
HCPC_CODE = Member(
    "article_x_hcpc_code",
    _names(
        """article_id article_version hcpc_code_id hcpc_code_version
        hcpc_code_group range last_updated long_description short_description"""
    ),
    _names(
        """article_id article_version hcpc_code_id hcpc_code_group last_updated
        long_description short_description"""
    ),
)
ICD10_COVERED = Member(
    "article_x_icd10_covered",
    _names(
        """article_id article_version icd10_code_id icd10_code_version
        icd10_covered_group range last_updated sort_order description asterisk"""
    ),
    _names(
        """article_id article_version icd10_code_id icd10_covered_group
        last_updated description"""
    ),
)
ICD10_COVERED_GROUP = Member(
    "article_x_icd10_covered_group",
    _names(
        """article_id article_version icd10_covered_group paragraph last_updated
        icd10_covered_ast"""
    ),
    _names("article_id article_version icd10_covered_group paragraph last_updated"),
)
ICD10_NONCOVERED = Member(
    "article_x_icd10_noncovered",
    _names(
        """article_id article_version icd10_code_id icd10_code_version
        icd10_noncovered_group range last_updated sort_order description"""
    ),
    _names(
        """article_id article_version icd10_code_id icd10_noncovered_group
        last_updated description"""
    ),
)
ARTICLE_CONTRACTOR = Member(
    "article_x_contractor",
    _names(
        """article_id article_version article_type contractor_id
        contractor_type_id contractor_version last_updated"""
    ),
    _names(
        """article_id article_version contractor_id contractor_type_id
        contractor_version last_updated"""
    ),
)

# Reference tables, used to name article types and contractors when present.
ARTICLE_TYPE_LOOKUP = Member(
    "article_type_lookup",
    _names("article_type_id description last_updated"),
    _names("article_type_id description"),
)
CONTRACTOR = Member(
    "contractor",
    _names(
        """contractor_id contractor_type_id contractor_version
        contractor_bus_name contractor_number dmerc_rgn address1 address2
        address3 city state_id zipcode phone fax status last_updated url email
        ignore status_flag cmd_name cmd_title contractor_subtype_id"""
    ),
    _names(
        """contractor_id contractor_type_id contractor_version
        contractor_bus_name contractor_number"""
    ),
)
CONTRACTOR_TYPE_LOOKUP = Member(
    "contractor_type_lookup",
    _names("contractor_type_id description"),
    _names("contractor_type_id description"),
)

REQUIRED = (
    HCPC_CODE,
    ARTICLE,
    ICD10_COVERED,
    ICD10_COVERED_GROUP,
    ICD10_NONCOVERED,
    ARTICLE_CONTRACTOR,
)
LOOKUPS = (ARTICLE_TYPE_LOOKUP, CONTRACTOR, CONTRACTOR_TYPE_LOOKUP)


# Cell values


def whole_number(text: str) -> int:
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    value = text.strip()
    if not value:
        raise ValueError("the cell is empty, expected a whole number")
    if not re.fullmatch(r"\d{1,18}", value):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def whole_number_or_none(text: str) -> int | None:
    return whole_number(text) if text.strip() else None


def text_or_none(text: str) -> str | None:
    return text.strip() or None


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T][\d:.]+)?")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: [\d:.]+(?: ?[AP]M)?)?", re.I)


def date_or_none(text: str) -> date | None:
    """A date written 2025-06-12 or 6/12/2025, with or without a time of day.

    No real copy was at hand to settle how the export writes its timestamps,
    so both common forms are read; the time of day is dropped.
    """
    value = text.strip()
    if not value:
        return None
    if found := _ISO_DATE.fullmatch(value):
        year, month, day = found.groups()
    elif found := _US_DATE.fullmatch(value):
        month, day, year = found.groups()
    else:
        raise ValueError(f"{value!r} is not a date")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"{value!r} is not a date") from None


_BILLING_CODE = re.compile(r"[0-9A-Z]{5}")


def billing_code(text: str) -> str:
    """A CPT or HCPCS Level II code: five letters and digits (70553, G0289)."""
    value = text.strip().upper()
    if not value:
        raise ValueError("the cell is empty, expected a CPT or HCPCS code")
    if not _BILLING_CODE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a CPT or HCPCS code of 5 letters and digits"
        )
    return value


# ICD-10-CM code structure (CDC tabular list conventions): a letter, a digit,
# a letter or digit, then up to four letters or digits after a dot.
_ICD10CM = re.compile(r"([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})")


def icd10cm_code(text: str) -> str:
    """An ICD-10-CM code in the CDC tabular form, with its dot: E11.9, M17.11.

    The MCD writes codes with the dot; a code written without it (E119) gets
    it back, so codes join the ICD-10-CM table however they were written.
    """
    value = text.strip().upper()
    if not value:
        raise ValueError("the cell is empty, expected an ICD-10-CM code")
    found = _ICD10CM.fullmatch(value)
    if found is None or value.endswith("."):
        raise ValueError(f"{value!r} is not an ICD-10-CM code (such as E11.9)")
    category, rest = found.groups()
    return f"{category}.{rest}" if rest else category


_TRUE = frozenset({"Y", "YES", "T", "TRUE", "1", "*"})
_FALSE = frozenset({"", "N", "NO", "F", "FALSE", "0"})


def flag(text: str) -> bool:
    """A yes/no cell such as the covered code's asterisk (Y or N)."""
    value = text.strip().upper()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{value!r} is neither Y nor N")


# HTML paragraphs to plain text

# Elements whose content is not text.
_HIDDEN = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)\b[^>]*>")
# Elements that end a line, and elements that run inside a word.
_BLOCK = frozenset(
    _names(
        """address blockquote br dd div dl dt h1 h2 h3 h4 h5 h6 hr li ol p pre
        table tr ul"""
    )
)
_INLINE = frozenset(
    _names("a abbr b big cite code em font i mark s small span strike strong sub sup u")
)


def _tag_text(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    if name in _BLOCK:
        return "\n"
    return "" if name in _INLINE else " "


def plain_text(fragment: str) -> str:
    """The text of an HTML fragment: tags removed, entities decoded, one line per block.

    Line breaks in the source count as spaces, as in a browser; paragraphs,
    list items and breaks start new lines. The result is plain text, to be
    escaped again wherever it is shown as HTML.
    """
    text = _HIDDEN.sub(" ", " ".join(fragment.split()))
    text = _COMMENT.sub(" ", text)
    text = html.unescape(_TAG.sub(_tag_text, text))
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def plain_text_or_none(text: str) -> str | None:
    return plain_text(text) or None


# The export's files


@dataclass
class Export:
    """The CSV files of one export, by lower-case file name, and how to open them."""

    where: Path
    files: dict[str, str]
    opener: Callable[[str], IO[bytes]]

    def has(self, member: Member) -> bool:
        return member.file in self.files

    def path_of(self, member: Member) -> Path:
        """The path that messages name: the file, or the ZIP member under the ZIP."""
        return self.where / self.files[member.file]

    def open(self, member: Member) -> IO[bytes]:
        return self.opener(self.files[member.file])

    def require(self, members: tuple[Member, ...]) -> None:
        for member in members:
            if not self.has(member):
                raise SourceFileError(
                    self.where, f"the export has no {member.file}", hint=HINT
                )


def _csv_files(where: Path, names: list[str]) -> dict[str, str]:
    """Index CSV names by file name, refusing two files that claim one table."""
    files: dict[str, list[str]] = {}
    for name in names:
        base = PurePosixPath(name).name.lower()
        if base.endswith(".csv"):
            files.setdefault(base, []).append(name)
    for base, found in files.items():
        if len(found) > 1:
            raise SourceFileError(
                where,
                f"the export holds {len(found)} files named {base} "
                f"({', '.join(sorted(found))})",
                hint=HINT,
            )
    return {base: found[0] for base, found in files.items()}


def _folder_export(folder: Path) -> Export:
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.csv"))
    files = _csv_files(folder, names)
    return Export(folder, files, lambda name: (folder / name).open("rb"))


def _open_zip(source: Path | IO[bytes], where: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SourceFileError(
            where, f"the ZIP archive is damaged ({exc})", hint=DAMAGED_HINT
        ) from exc


def _inner_zip(archive: zipfile.ZipFile, where: Path) -> zipfile.ZipInfo | None:
    """The ZIP of CSV files inside the export ZIP (current_article_csv.zip)."""
    zips = [i for i in archive.infolist() if i.filename.lower().endswith(".zip")]
    named = [i for i in zips if i.filename.lower().endswith("_csv.zip")]
    candidates = named or zips
    if len(candidates) > 1:
        names = ", ".join(i.filename for i in candidates)
        raise SourceFileError(
            where,
            f"the ZIP holds {len(candidates)} ZIP files that could hold the CSV "
            f"tables ({names})",
            hint="pass the one ZIP of CSV files itself",
        )
    return candidates[0] if candidates else None


def _unpack(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: Path, stack: ExitStack
) -> IO[bytes]:
    """Copy a ZIP inside the ZIP to a temporary file, so that it can be opened."""
    if info.file_size > MAX_INNER_ZIP_BYTES:
        raise SourceFileError(
            where / info.filename,
            f"the ZIP inside the export is {info.file_size:,} bytes, over the "
            f"limit of {MAX_INNER_ZIP_BYTES:,}",
            hint="check that this is the MCD article export",
        )
    # The stack closes (and so deletes) the copy when the export is closed.
    copy = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
    try:
        with archive.open(info) as inner:
            shutil.copyfileobj(inner, copy, 1 << 20)
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise SourceFileError(
            where / info.filename,
            f"the ZIP archive is damaged ({exc})",
            hint=DAMAGED_HINT,
        ) from exc
    copy.seek(0)
    return copy


def _zip_export(path: Path, stack: ExitStack) -> Export:
    """The CSV files of a ZIP, or of the one ZIP of CSV files it holds."""
    archive = stack.enter_context(_open_zip(path, path))
    where = path
    files = _csv_files(where, archive.namelist())
    if ARTICLE.file not in files:
        info = _inner_zip(archive, path)
        if info is not None:
            where = path / info.filename
            copy = _unpack(archive, info, path, stack)
            archive = stack.enter_context(_open_zip(copy, where))
            files = _csv_files(where, archive.namelist())
    opened = archive
    return Export(where, files, lambda name: opened.open(name))


@contextmanager
def open_export(path: Path) -> Iterator[Export]:
    """Open the export at `path`: a folder of CSV files, or a ZIP as CMS ships it."""
    if not path.exists():
        raise MissingSourceError(
            path, "file not found", hint=f"pass the path of {WHAT}"
        )
    if path.is_dir():
        yield _folder_export(path)
        return
    with path.open("rb") as probe:
        if probe.read(4) != b"PK\x03\x04":
            raise SourceFileError(
                path, "the file is neither a ZIP archive nor a folder", hint=HINT
            )
    with ExitStack() as stack:
        yield _zip_export(path, stack)


# CSV records


class Record(NamedTuple):
    """One CSV record: the number of its first line, its cells, its text as read.

    `problem` says why the record could not be split into cells.
    """

    line: int
    cells: list[str]
    text: str
    problem: str | None = None


def _decode(where: Path, number: int, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise SourceFileError(
            where,
            f"byte {exc.start + 1} of the line is neither UTF-8 nor Windows-1252 "
            f"({data[exc.start : exc.start + 4]!r})",
            line=number,
            hint="the MCD writes Windows-1252 or UTF-8 text; "
            "download the export again, the copy may be damaged",
        ) from exc


def _lines(where: Path, raw: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) from a member, without its line ending."""
    number = 0
    try:
        for number, data in enumerate(raw, start=1):
            if number == 1 and data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            yield number, _decode(where, number, data).rstrip("\r\n")
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise SourceFileError(
            where,
            f"the file cannot be read past line {number} ({exc})",
            line=number + 1,
            hint=DAMAGED_HINT,
        ) from exc


def _split(line: int, text: str) -> Record:
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error as exc:
        return Record(line, [], text, f"the row cannot be read as CSV ({exc})")
    return Record(line, cells, text)


def records(where: Path, raw: IO[bytes]) -> Iterator[Record]:
    """Split a member into CSV records, each with the number of its first line.

    A quoted field may hold line breaks (the MCD's HTML text does), so lines
    are joined until their quotes balance; the parity is kept line by line,
    which keeps long records linear to read.
    """
    # The csv module's field limit is process-wide; this only ever raises it.
    if csv.field_size_limit() < MAX_RECORD_CHARS:
        csv.field_size_limit(MAX_RECORD_CHARS)
    pending: list[str] = []
    size = 0
    start = 0
    open_quote = False
    for number, text in _lines(where, raw):
        if not pending:
            start = number
        pending.append(text)
        size += len(text)
        open_quote ^= text.count('"') % 2 == 1
        if not open_quote:
            yield _split(start, "\n".join(pending))
            pending, size = [], 0
        elif size > MAX_RECORD_CHARS:
            raise SourceFileError(
                where,
                f"a quoted field runs past {MAX_RECORD_CHARS:,} characters",
                line=start,
                hint="a closing quote is probably missing; "
                "download the export again, the copy may be damaged",
            )
    if pending:
        text = "\n".join(pending)
        yield Record(start, [], text, "the file ends inside a quoted field")


class Field(NamedTuple):
    """A warehouse column: the CSV column it comes from and how its text is read."""

    name: str
    column: str
    parse: Callable[[str], object]


class Row(NamedTuple):
    """A data row of a member: its values, or why it cannot be read."""

    line: int
    text: str
    record: dict[str, object] | None
    problem: str | None


def _header_index(where: Path, member: Member, head: Record) -> dict[str, int]:
    """Check the header row against the layout; map column names to positions."""
    names = [cell.strip().lower() for cell in head.cells]
    missing = [column for column in member.required if column not in names]
    if head.problem or missing:
        raise SourceFileError(
            where,
            f"the header row lacks {', '.join(missing or member.required)} "
            f"(expected the {member.name} columns {', '.join(member.layout)})",
            line=head.line,
            hint=HINT,
        )
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)
    return index


Bound = list[tuple[str, int | None, Callable[[str], object], str]]


def _convert(cells: list[str], bound: Bound) -> dict[str, object]:
    """The values of one row; a ValueError names the column that failed.

    A column the header lacks (only optional ones can be) reads as null.
    """
    record: dict[str, object] = {}
    for name, position, parse, column in bound:
        if position is None:
            record[name] = None
            continue
        try:
            record[name] = parse(cells[position])
        except ValueError as exc:
            raise ValueError(f"column {column}: {exc}") from None
    return record


def member_rows(
    export: Export, member: Member, fields: tuple[Field, ...]
) -> Iterator[Row]:
    """The data rows of one member, read into `fields`; an empty member has none."""
    where = export.path_of(member)
    with export.open(member) as raw:
        found = records(where, raw)
        head = next(found, None)
        if head is None:
            return
        index = _header_index(where, member, head)
        bound = [(f.name, index.get(f.column), f.parse, f.column) for f in fields]
        width = len(head.cells)
        for record in found:
            if record.problem is None and not "".join(record.cells).strip():
                continue
            problem = record.problem
            if problem is None and len(record.cells) != width:
                problem = f"expected {width} columns, found {len(record.cells)}"
            values = None
            if problem is None:
                try:
                    values = _convert(record.cells, bound)
                except ValueError as exc:
                    problem = str(exc)
            yield Row(record.line, record.text, values, problem)


def check_header(export: Export, member: Member) -> None:
    """Read a member's header row (and first row), failing as a full read would."""
    next(member_rows(export, member, ()), None)


# Reference tables


@dataclass(frozen=True)
class Reference:
    """Names that a reference table gives to keys of the article tables."""

    member: Member
    key: tuple[Field, ...]
    value: Field


CONTRACTOR_KEY = (
    Field("contractor_id", "contractor_id", whole_number),
    Field("contractor_type_id", "contractor_type_id", whole_number),
    Field("contractor_version", "contractor_version", whole_number),
)


ARTICLE_TYPES = Reference(
    ARTICLE_TYPE_LOOKUP,
    (Field("article_type", "article_type_id", str.strip),),
    Field("name", "description", text_or_none),
)
CONTRACTOR_TYPES = Reference(
    CONTRACTOR_TYPE_LOOKUP,
    (Field("contractor_type_id", "contractor_type_id", whole_number),),
    Field("name", "description", text_or_none),
)
CONTRACTOR_NAMES = Reference(
    CONTRACTOR, CONTRACTOR_KEY, Field("name", "contractor_bus_name", text_or_none)
)
CONTRACTOR_NUMBERS = Reference(
    CONTRACTOR,
    CONTRACTOR_KEY,
    Field("number", "contractor_number", text_or_none),
)

Lookup = dict[tuple[object, ...], object]


def read_reference(export: Export, reference: Reference) -> Lookup:
    """A reference table as a dict; a broken one stops the read before any load."""
    table: Lookup = {}
    if not export.has(reference.member):
        return table
    fields = (*reference.key, reference.value)
    for row in member_rows(export, reference.member, fields):
        if row.record is None:
            raise SourceFileError(
                export.path_of(reference.member),
                str(row.problem),
                line=row.line,
                hint=HINT,
            )
        key = tuple(row.record[field.name] for field in reference.key)
        table[key] = row.record[reference.value.name]
    return table


@dataclass(frozen=True)
class Names:
    """Names from the reference tables, empty when the export lacks them."""

    article_types: Lookup
    contractor_types: Lookup
    contractor_names: Lookup
    contractor_numbers: Lookup

    @classmethod
    def read(cls, export: Export) -> Names:
        return cls(
            read_reference(export, ARTICLE_TYPES),
            read_reference(export, CONTRACTOR_TYPES),
            read_reference(export, CONTRACTOR_NAMES),
            read_reference(export, CONTRACTOR_NUMBERS),
        )


# The loaded tables


def _name_article(record: dict[str, object], names: Names) -> None:
    # The MCD shows an article as A and its id (A52458); the file's own
    # display_id column is not used, as loaders disagree on what it holds.
    record["display_id"] = f"A{record['article_id']}"
    record["article_type_name"] = names.article_types.get((record["article_type"],))


def _name_contractor(record: dict[str, object], names: Names) -> None:
    key = tuple(record[field.name] for field in CONTRACTOR_KEY)
    record["contractor_name"] = names.contractor_names.get(key)
    record["contractor_number"] = names.contractor_numbers.get(key)
    type_key = (record["contractor_type_id"],)
    record["contractor_type"] = names.contractor_types.get(type_key)


def _fields(*fields: Field) -> tuple[Field, ...]:
    """The article key, the given fields, and the last update, as every table has."""
    return (
        Field("article_id", "article_id", whole_number),
        Field("article_version", "article_version", whole_number),
        *fields,
        Field("last_updated", "last_updated", date_or_none),
    )


def _diagnoses(group: str) -> tuple[Field, ...]:
    """The covered or the non-covered codes; only covered ones have an asterisk."""
    return _fields(
        Field("icd10_code", "icd10_code_id", icd10cm_code),
        Field("icd10_code_as_written", "icd10_code_id", str.strip),
        Field("icd10_group", group, whole_number_or_none),
        Field("description", "description", text_or_none),
        Field("asterisk", "asterisk", flag),
        Field("range_flag", "range", text_or_none),
    )


@dataclass(frozen=True)
class Table:
    """A warehouse table, the member that fills it and how its rows are read."""

    name: str
    member: Member
    schema: pa.Schema
    fields: tuple[Field, ...]
    finish: Callable[[dict[str, object], Names], None] | None = None


_KEY = [("article_id", pa.int64()), ("article_version", pa.int64())]
_END = [("last_updated", pa.date32()), ("line", pa.int64())]
_DIAGNOSIS = pa.schema(
    [
        *_KEY,
        ("icd10_code", pa.string()),
        ("icd10_code_as_written", pa.string()),
        ("icd10_group", pa.int64()),
        ("description", pa.string()),
        ("asterisk", pa.bool_()),
        ("range_flag", pa.string()),
        *_END,
    ]
)

TABLES = (
    Table(
        "mcd_article_code",
        HCPC_CODE,
        pa.schema(
            [
                *_KEY,
                ("code", pa.string()),
                ("code_group", pa.int64()),
                ("range_flag", pa.string()),
                ("long_description", pa.string()),
                ("short_description", pa.string()),
                *_END,
            ]
        ),
        _fields(
            Field("code", "hcpc_code_id", billing_code),
            Field("code_group", "hcpc_code_group", whole_number_or_none),
            Field("range_flag", "range", text_or_none),
            Field("long_description", "long_description", text_or_none),
            Field("short_description", "short_description", text_or_none),
        ),
    ),
    Table(
        "mcd_article",
        ARTICLE,
        pa.schema(
            [
                *_KEY,
                ("display_id", pa.string()),
                ("title", pa.string()),
                ("article_type", pa.string()),
                ("article_type_name", pa.string()),
                ("status", pa.string()),
                ("effective_date", pa.date32()),
                ("end_date", pa.date32()),
                *_END,
            ]
        ),
        _fields(
            Field("title", "title", text_or_none),
            Field("article_type", "article_type", text_or_none),
            Field("status", "status", text_or_none),
            Field("effective_date", "article_eff_date", date_or_none),
            Field("end_date", "article_end_date", date_or_none),
        ),
        _name_article,
    ),
    Table(
        "mcd_icd10_covered",
        ICD10_COVERED,
        _DIAGNOSIS,
        _diagnoses("icd10_covered_group"),
    ),
    Table(
        "mcd_icd10_covered_group",
        ICD10_COVERED_GROUP,
        pa.schema(
            [
                *_KEY,
                ("icd10_group", pa.int64()),
                ("paragraph", pa.string()),
                ("asterisk_text", pa.string()),
                *_END,
            ]
        ),
        _fields(
            Field("icd10_group", "icd10_covered_group", whole_number),
            Field("paragraph", "paragraph", plain_text_or_none),
            Field("asterisk_text", "icd10_covered_ast", plain_text_or_none),
        ),
    ),
    Table(
        "mcd_icd10_noncovered",
        ICD10_NONCOVERED,
        _DIAGNOSIS,
        _diagnoses("icd10_noncovered_group"),
    ),
    Table(
        "mcd_article_contractor",
        ARTICLE_CONTRACTOR,
        pa.schema(
            [
                *_KEY,
                ("contractor_id", pa.int64()),
                ("contractor_type_id", pa.int64()),
                ("contractor_version", pa.int64()),
                ("contractor_name", pa.string()),
                ("contractor_number", pa.string()),
                ("contractor_type", pa.string()),
                *_END,
            ]
        ),
        _fields(*CONTRACTOR_KEY),
        _name_contractor,
    ),
)


def _digest(export: Export, members: tuple[Member, ...]) -> str:
    """A checksum of a folder export: its member names and their bytes."""
    digest = hashlib.sha256()
    for member in sorted(members, key=lambda m: m.file):
        if export.has(member):
            path = export.path_of(member)
            digest.update(f"{member.file}\0{sha256_of(path)}\n".encode())
    return digest.hexdigest()


class CoverageArticleReader:
    """The MCD article export: articles, their codes, and the diagnoses that support them."""

    kind: ClassVar[str] = "mcd-article"
    tables: ClassVar[dict[str, pa.Schema]] = {t.name: t.schema for t in TABLES}
    # Every table's rows count as loaded: `stats.rows_read` covers all six.
    count_all_tables: ClassVar[bool] = True

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        """Check the export's members and headers; date it by its newest article change.

        The export carries no date of its own that this reader could verify,
        so the release is the newest `last_updated` of its articles.
        """
        with open_export(self.path) as export:
            export.require(REQUIRED)
            for member in REQUIRED + LOOKUPS:
                if export.has(member):
                    check_header(export, member)
            newest = self._newest_update(export)
            if self.path.is_dir():
                checksum = _digest(export, REQUIRED + LOOKUPS)
            else:
                checksum = sha256_of(self.path)
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=checksum,
            publisher=PUBLISHER,
            release=newest.isoformat() if newest else "unknown",
            as_of=newest,
            notice=NOTICE,
        )

    def table_batches(self) -> Iterator[tuple[str, pa.RecordBatch]]:
        self.stats = ReadStats()
        with open_export(self.path) as export:
            export.require(REQUIRED)
            names = Names.read(export)
            for table in TABLES:
                builder = BatchBuilder(table.schema)
                for record in self._records(export, table, names):
                    batch = builder.add(record)
                    if batch is not None:
                        yield table.name, batch
                last = builder.flush()
                if last is not None:
                    yield table.name, last

    def _records(
        self, export: Export, table: Table, names: Names
    ) -> Iterator[dict[str, object]]:
        """Valid rows of one table; the others are rejected as member:line: reason."""
        for row in member_rows(export, table.member, table.fields):
            self.stats.rows_read += 1
            if row.record is None:
                reason = f"{table.member.file}:{row.line}: {row.problem}"
                self.stats.reject(row.line, reason, row.text)
                continue
            if table.finish is not None:
                table.finish(row.record, names)
            row.record["line"] = row.line
            yield row.record

    @staticmethod
    def _newest_update(export: Export) -> date | None:
        """The newest `last_updated` of the articles, skipping rows that fail."""
        fields = (Field("last_updated", "last_updated", date_or_none),)
        dates = [
            row.record["last_updated"]
            for row in member_rows(export, ARTICLE, fields)
            if row.record is not None
        ]
        return max((d for d in dates if isinstance(d, date)), default=None)

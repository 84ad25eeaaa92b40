"""Reader for the ICD-10-CM tabular list, CDC/NCHS XML edition.

By default it reads the tabular XML that the simple-icd-10-cm package ships, so
the code set comes with the installed dependency; any CDC tabular XML (or the
CDC ZIP holding one) can be given instead.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import ClassVar
from xml.parsers.expat import ErrorString

import pyarrow as pa

from payerbrief.errors import MissingSourceError, SourceFileError
from payerbrief.sources.base import (
    BatchBuilder,
    Provenance,
    ReadStats,
    open_member,
    require_file,
    sha256_of,
)

PACKAGE = "simple_icd_10_cm"
WHAT = "the ICD-10-CM tabular XML (icd10cm-tabular-YYYY.xml)"
ROOT_TAG = "ICD10CM.tabular"
PUBLISHER = "Centers for Disease Control and Prevention (NCHS)"
NOTICE = "ICD-10-CM is a US government work (CDC/NCHS)"
DAMAGED_HINT = "download the file again; it may be truncated or edited"

# Elements of the tabular list that form its hierarchy: a chapter holds
# sections (blocks such as E08-E13), a section holds diag elements (codes).
STRUCTURE = {"chapter", "section", "diag"}

# The tabular's conventions ("7th characters and placeholder X"): a code that
# needs a 7th character but is shorter than six is padded with X first.
FULL_LENGTH = 7


@dataclass
class _Node:
    """A chapter, section or diag element while it is open."""

    tag: str
    depth: int
    name: str = ""
    description: str = ""
    seventh: dict[str, str] = field(default_factory=dict)
    has_codes: bool = False


class Icd10CmReader:
    """Reads ICD-10-CM categories and subcategories, with their 7th-character codes."""

    kind: ClassVar[str] = "icd10cm"
    table: ClassVar[str] = "icd10cm"
    schema: ClassVar[pa.Schema] = pa.schema(
        [
            ("code", pa.string()),
            ("description", pa.string()),
            ("billable", pa.bool_()),
            ("kind", pa.string()),
            ("chapter", pa.string()),
            ("chapter_title", pa.string()),
            ("block", pa.string()),
            ("parent", pa.string()),
        ]
    )

    def __init__(self, path: Path | None = None) -> None:
        self.package_version: str | None = None
        if path is None:
            path, self.package_version = packaged_tabular()
        self.path = Path(path)
        self.stats = ReadStats()

    def provenance(self) -> Provenance:
        require_file(self.path, WHAT)
        with open_member(self.path, _is_tabular, WHAT) as stream:
            version = _version_text(self._events(stream))
        release, as_of = icd10cm_release(version, self.path.name)
        notice = NOTICE
        if self.package_version is not None:
            notice += (
                ", read through the simple-icd-10-cm package version "
                + self.package_version
            )
        return Provenance(
            kind=self.kind,
            file_name=self.path.name,
            sha256=sha256_of(self.path),
            publisher=PUBLISHER,
            release=release,
            as_of=as_of,
            notice=notice,
        )

    def batches(self) -> Iterator[pa.RecordBatch]:
        self.stats = ReadStats()
        builder = BatchBuilder(self.schema)
        with open_member(self.path, _is_tabular, WHAT) as stream:
            for row in self._rows(self._events(stream)):
                self.stats.rows_read += 1
                if (batch := builder.add(row)) is not None:
                    yield batch
        if (batch := builder.flush()) is not None:
            yield batch

    def _events(self, stream: io.BufferedIOBase) -> Iterator[tuple[str, ET.Element]]:
        """Parse events, with a parse failure reported at the parser's position."""
        try:
            yield from ET.iterparse(stream, events=("start", "end"))
        except ET.ParseError as exc:
            line, column = exc.position
            raise SourceFileError(
                self.path,
                f"the XML is not well formed at column {column}: "
                + ErrorString(exc.code),
                line=line,
                hint=DAMAGED_HINT,
            ) from exc
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise SourceFileError(
                self.path, f"the file ends early ({exc})", hint=DAMAGED_HINT
            ) from exc

    def _rows(
        self, events: Iterator[tuple[str, ET.Element]]
    ) -> Iterator[dict[str, object]]:
        """Walk the tabular list and yield one row per code, parents first.

        A diag's name, description and 7th-character table come before the diag
        elements it holds, so a code is known to have children (and so not to
        be billable) as soon as the first of them starts.
        """
        self._check_root(next(events, None))
        stack: list[_Node] = []
        depth = 1
        for event, element in events:
            if event == "start":
                depth += 1
                yield from self._open(element, depth, stack)
                continue
            # <name> and <desc> describe the node they sit directly in; an
            # <extension> sits one level lower, inside that node's <sevenChrDef>.
            if stack and depth == stack[-1].depth + 1:
                _take_detail(element, stack[-1])
            elif element.tag == "extension" and stack and depth == stack[-1].depth + 2:
                stack[-1].seventh[element.get("char", "")] = _text(element)
            # A closing node is complete; a diag that held no diag is a leaf.
            if element.tag in STRUCTURE and stack and depth == stack[-1].depth:
                node = stack.pop()
                if node.tag == "diag" and not node.has_codes:
                    yield from self._leaf_rows(node, stack)
                element.clear()
            depth -= 1

    def _check_root(self, first: tuple[str, ET.Element] | None) -> None:
        tag = "nothing" if first is None else f"<{first[1].tag}>"
        if tag != f"<{ROOT_TAG}>":
            raise SourceFileError(
                self.path,
                f"the XML holds {tag}, not the <{ROOT_TAG}> of an ICD-10-CM "
                "tabular list",
                hint="pass the tabular XML from the CDC's ICD-10-CM files page",
            )

    def _open(
        self, element: ET.Element, depth: int, stack: list[_Node]
    ) -> Iterator[dict[str, object]]:
        """Start a node; the first diag inside a diag makes the outer one a parent."""
        if element.tag not in STRUCTURE:
            if element.tag == "sevenChrDef" and stack and depth == stack[-1].depth + 1:
                # A code's own 7th-character table replaces the inherited one.
                stack[-1].seventh = {}
            return
        outer = stack[-1] if stack else None
        nested = outer is not None and outer.tag == element.tag == "diag"
        if nested and outer is not None and not outer.has_codes:
            outer.has_codes = True
            yield self._row(outer, stack[:-1], billable=False)
        seventh = outer.seventh if outer is not None else {}
        stack.append(_Node(element.tag, depth, element.get("id", ""), seventh=seventh))

    def _leaf_rows(
        self, node: _Node, ancestors: list[_Node]
    ) -> Iterator[dict[str, object]]:
        """A code with no codes under it: billable, or the stem of 7th-character codes.

        The stem is not billable; each 7th character its table defines makes one
        billable code (tabular conventions, "7th characters and placeholder X").
        """
        plain = node.name.replace(".", "")
        if not node.seventh or len(plain) >= FULL_LENGTH:
            yield self._row(node, ancestors, billable=True)
            return
        yield self._row(node, ancestors, billable=False)
        stem = plain.ljust(FULL_LENGTH - 1, "X")
        for char, meaning in node.seventh.items():
            if seventh_excluded(stem + char):
                continue
            extended = _Node(
                "diag",
                node.depth + 1,
                f"{stem[:3]}.{stem[3:]}{char}",
                f"{node.description}, {meaning}",
            )
            yield self._row(extended, [*ancestors, node], billable=True)

    def _row(
        self, node: _Node, ancestors: list[_Node], *, billable: bool
    ) -> dict[str, object]:
        if not node.name:
            raise SourceFileError(
                self.path,
                f"a code in block {_named(ancestors, 'section').name} has no <name>",
                hint=DAMAGED_HINT,
            )
        chapter = _named(ancestors, "chapter")
        in_code = bool(ancestors) and ancestors[-1].tag == "diag"
        parent = ancestors[-1].name if in_code else None
        return {
            "code": node.name,
            "description": node.description,
            "billable": billable,
            "kind": "category" if len(node.name) == 3 else "subcategory",
            "chapter": chapter.name,
            "chapter_title": chapter.description,
            "block": _named(ancestors, "section").name,
            "parent": parent,
        }


def packaged_tabular() -> tuple[Path, str]:
    """The tabular XML inside the installed simple-icd-10-cm, and its version.

    The file is found through the distribution's file list, so the package's
    module (which parses the whole code set on import) is never imported.
    """
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError as exc:
        raise MissingSourceError(
            PACKAGE,
            "the simple-icd-10-cm package is not installed",
            hint="pip install simple-icd-10-cm, or pass the path of a tabular XML",
        ) from exc
    found = [
        name
        for name in dist.files or []
        if name.parts[0] == PACKAGE and _is_tabular(name.name)
    ]
    if len(found) != 1:
        raise MissingSourceError(
            PACKAGE,
            f"expected one tabular XML in the package, found {len(found)}",
            hint="reinstall simple-icd-10-cm, or pass the path of a tabular XML",
        )
    return Path(str(dist.locate_file(found[0]))), dist.version


def icd10cm_release(version: str | None, file_name: str) -> tuple[str, date | None]:
    """The release a tabular file holds, and the date it took effect.

    The <version> element holds the fiscal year: FY2026 takes effect on
    October 1, 2025. Its April update keeps the same <version> and is told
    apart only by the file name (icd10cm-tabular-April-2025.xml); it takes
    effect on April 1 (CDC, ICD-10-CM files page).
    """
    if version is None or not re.fullmatch(r"\d{4}", version):
        return "unknown", None
    year = int(version)
    if "april" in file_name.lower():
        return f"FY{year} April update", date(year, 4, 1)
    return f"FY{year}", date(year - 1, 10, 1)


def seventh_excluded(code: str) -> bool:
    """True for the 7th-character codes the tabular's notes rule out.

    Category S06 (FY2026 tabular, note under S06): "7th characters D and S do
    not apply to codes in category S06 with 6th character 7 ... or 8".
    """
    return code.startswith("S06") and code[5] in "78" and code[6] in "DS"


def _version_text(events: Iterator[tuple[str, ET.Element]]) -> str | None:
    # <version> is the first child of the root, before any chapter.
    for event, element in events:
        if event == "end" and element.tag == "version":
            return _text(element)
        if element.tag == "chapter":
            return None
    return None


def _take_detail(element: ET.Element, node: _Node) -> None:
    if element.tag == "name":
        node.name = _text(element)
    elif element.tag == "desc":
        node.description = _text(element)


def _named(ancestors: list[_Node], tag: str) -> _Node:
    return next((node for node in ancestors if node.tag == tag), _Node(tag, 0))


def _text(element: ET.Element) -> str:
    return " ".join((element.text or "").split())


def _is_tabular(name: str) -> bool:
    lowered = name.lower()
    return lowered.endswith(".xml") and "tabular" in lowered

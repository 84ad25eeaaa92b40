"""Walk a payer file's JSON text as a stream of spans, holding only what is unfinished.

The walk feeds each decompressed chunk to a scanner and hands on the span of
every key, value and array element the scanner completed, as a memoryview of
the bytes in hand. Only the bytes of the part still in progress are carried to
the next chunk, so memory stays at one chunk plus the largest single item.
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from pathlib import Path
from typing import Literal

from payerbrief.sources.tic.innetwork.errors import TicFileBrokenError
from payerbrief.sources.tic.innetwork.scan import PyScanner, Scanner
from payerbrief.sources.tic.innetwork.stream import BOM, Inflate, OnRead, json_chunks

Engine = Literal["auto", "c", "python"]
Span = tuple[int, int, memoryview]

_TRUNCATED_HINT = "download the file again; it is incomplete"
_MALFORMED_HINT = (
    "the file is not valid JSON there: check that it is an in-network rates "
    "file, or download it again"
)


def c_scanner_available() -> bool:
    """Whether the C scanner extension was built with this install."""
    try:
        importlib.import_module("payerbrief.sources.tic.innetwork._scan")
    except ImportError:
        return False
    return True


def new_scanner(choice: Engine, start: int) -> Scanner:
    """The C scanner when built (or asked for), else the Python one."""
    if choice != "python":
        try:
            module = importlib.import_module("payerbrief.sources.tic.innetwork._scan")
        except ImportError:
            if choice == "c":
                raise
        else:
            scanner: Scanner = module.Scanner(start)
            return scanner
    return PyScanner(start)


class Walk:
    """One pass over a file; after it, `error` says whether the structure broke.

    `pending_start` is where the part in progress began when the text stopped
    (-1 when none was), so a reader can reject a truncated item.
    """

    def __init__(
        self,
        path: Path,
        engine: Engine,
        inflate: Inflate,
        on_read: OnRead | None = None,
    ) -> None:
        self.path = path
        self.on_read = on_read
        self.engine = engine
        self.inflate = inflate
        self.error: TicFileBrokenError | None = None
        self.pending_start = -1
        self.pending = b""
        self.json_bytes = 0

    def spans(self) -> Generator[Span, None, None]:
        """(event kind, start offset, bytes) for every completed part, in order.

        A part inside one chunk is a view of that chunk, without a copy. The
        chunks under a part still in progress are kept as they are and joined
        once it completes, so even a part of many chunks costs one copy.
        """
        scanner: Scanner | None = None
        pieces: list[bytes] = []  # the part in progress, from `pieces_start` on
        pieces_start = 0
        chunks = json_chunks(self.path, inflate=self.inflate, on_read=self.on_read)
        try:
            for chunk in chunks:
                if scanner is None:
                    # A UTF-8 byte-order mark is allowed before the object; offsets
                    # still count it, as they count bytes of the file.
                    skip = len(BOM) if chunk.startswith(BOM) else 0
                    scanner = new_scanner(self.engine, skip)
                    self.json_bytes = skip
                    chunk = chunk[skip:]
                chunk_start = self.json_bytes
                self.json_bytes += len(chunk)
                view = memoryview(chunk)
                for kind, start, end in scanner.feed(chunk):
                    if start >= chunk_start:
                        yield kind, start, view[start - chunk_start : end - chunk_start]
                    else:
                        head = b"".join(pieces)[start - pieces_start :]
                        yield kind, start, memoryview(head + chunk[: end - chunk_start])
                        pieces = []
                keep = scanner.keep_from
                if keep >= chunk_start:
                    pieces = (
                        [chunk[keep - chunk_start :]] if keep < self.json_bytes else []
                    )
                    pieces_start = keep
                else:
                    pieces.append(chunk)
                if scanner.error is not None:
                    break
        except TicFileBrokenError as exc:
            self.error = exc
        if scanner is None:
            scanner = new_scanner(self.engine, 0)
        if self.error is None:
            scanner.finish()
            if scanner.error is not None:
                ended = scanner.error.startswith("the JSON text ends early")
                self.error = TicFileBrokenError(
                    self.path,
                    scanner.error,
                    offset=self.json_bytes if ended else scanner.error_offset,
                    hint=_TRUNCATED_HINT if ended else _MALFORMED_HINT,
                )
        if self.error is not None and pieces:
            self.pending_start = pieces_start
            self.pending = b"".join(pieces)[:4096]

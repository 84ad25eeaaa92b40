"""The decompressed bytes of a payer file, in large chunks, whatever its wrapping.

Payer files come as plain JSON, gzip or a ZIP holding one JSON file, and their
names lie (a `.json.gz` may be plain JSON), so the wrapping is read from the
first bytes. Gzip is inflated with ISA-L when the `isal` package is installed
(about three times zlib's speed) and with zlib otherwise; a stream of several
gzip members (as `pigz` and some uploaders write) is read to its end.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Literal

from payerbrief.sources.tic.innetwork.errors import TicFileBrokenError

Inflate = Literal["auto", "zlib", "isal"]

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
BOM = b"\xef\xbb\xbf"
READ_SIZE = 1 << 20  # compressed bytes per read
CHUNK_SIZE = 4 << 20  # decompressed bytes handed on at a time
_TRUNCATED_HINT = "download the file again; it is incomplete"


OnRead = Callable[[int], None]


def wrapping(path: Path) -> str:
    """'gzip', 'zip' or 'json', from the file's first bytes, not its name."""
    with path.open("rb") as probe:
        head = probe.read(4)
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head == ZIP_MAGIC:
        return "zip"
    return "json"


def _zlib_module(inflate: Inflate) -> ModuleType:
    if inflate == "zlib":
        return zlib
    try:
        from isal import isal_zlib
    except ImportError:
        if inflate == "isal":
            raise
        return zlib
    return isal_zlib


def json_chunks(
    path: Path,
    *,
    inflate: Inflate = "auto",
    chunk_size: int = CHUNK_SIZE,
    on_read: OnRead | None = None,
) -> Iterator[bytes]:
    """Yield the file's JSON text in chunks of about `chunk_size` bytes.

    `on_read(n)` hears of every `n` bytes read from the file as stored (before
    decompression), so a progress bar can count them against the file's size.
    A damaged or truncated wrapping raises `TicFileBrokenError` after every
    byte that could be recovered has been yielded.
    """
    kind = wrapping(path)
    report = on_read or _ignore
    if kind == "gzip":
        yield from _gzip_chunks(path, _zlib_module(inflate), chunk_size, report)
    elif kind == "zip":
        yield from _zip_chunks(path, chunk_size)
    else:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(chunk_size), b""):
                report(len(block))
                yield block


def _ignore(count: int) -> None:
    return None


def _gzip_chunks(
    path: Path, module: ModuleType, chunk_size: int, report: OnRead
) -> Iterator[bytes]:
    inflater = module.decompressobj(31)  # 31: gzip header and trailer
    produced = 0
    with path.open("rb") as handle:
        while True:
            data = handle.read(READ_SIZE)
            if not data:
                break
            report(len(data))
            while data:
                try:
                    out = inflater.decompress(data, chunk_size)
                except module.error as exc:
                    raise TicFileBrokenError(
                        path,
                        f"the gzip data is damaged after {produced} bytes of JSON ({exc})",
                        offset=produced,
                        hint=_TRUNCATED_HINT,
                    ) from exc
                produced += len(out)
                if out:
                    yield out
                data = inflater.unconsumed_tail
                if inflater.eof:
                    # A further gzip member may follow the one that just ended.
                    data = inflater.unused_data + data
                    if not data.strip(b"\x00"):
                        break
                    inflater = module.decompressobj(31)
    if not inflater.eof:
        raise TicFileBrokenError(
            path,
            f"the gzip stream ends early, after {produced} bytes of JSON",
            offset=produced,
            hint=_TRUNCATED_HINT,
        )


def _zip_chunks(path: Path, chunk_size: int) -> Iterator[bytes]:
    produced = 0
    try:
        with zipfile.ZipFile(path) as archive:
            names = [
                n
                for n in archive.namelist()
                if not n.endswith("/") and not n.startswith("__MACOSX/")
            ]
            if len(names) != 1:
                raise TicFileBrokenError(
                    path,
                    f"expected one JSON file inside the ZIP, found {len(names)}",
                    offset=0,
                    hint="unpack the ZIP and pass the in-network JSON file itself",
                )
            with archive.open(names[0]) as member:
                for block in iter(lambda: member.read(chunk_size), b""):
                    produced += len(block)
                    yield block
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise TicFileBrokenError(
            path,
            f"the ZIP archive is damaged after {produced} bytes of JSON ({exc})",
            offset=produced,
            hint=_TRUNCATED_HINT,
        ) from exc

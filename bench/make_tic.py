"""Make large TiC in-network files for the ingest benchmark from the real CareFirst file.

The CareFirst file's `in_network` items are repeated, as written, until the
decompressed JSON reaches the asked size, and the result is gzip'd. Two copies
are written side by side:

- `tic-<size>mb.json.gz`: decimal provider ids exactly as CareFirst wrote them
  (`690.65570`), its 370 remote provider references kept;
- `tic-<size>mb-int.json.gz`: the same items with integer ids (`69065570`) and
  each remote reference replaced by one inline provider group, because
  `cms-mrf-extractor` crashes on decimal ids and would try to fetch the remote
  references over the network.

The files go to `bench/data/`, which git ignores; never commit them.
"""

from __future__ import annotations

import argparse
import re
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAREFIRST = (
    HERE.parent.parent / "shared/data/tic/carefirst/carefirst_examplefile.json.gz"
)
CHUNK = 8 << 20

_REMOTE = re.compile(
    rb'"provider_group_id":\s*(\d+),\s*"location":\s*"[^"]*"', re.MULTILINE
)


def split_file(text: bytes) -> tuple[bytes, bytes, bytes]:
    """The text before the first item, the items themselves, and the text after."""
    key = text.index(b'"in_network"')
    start = text.index(b"[", key) + 1
    end = text.rindex(b"]")
    return text[:start], text[start:end].strip(), text[end:]


def integer_ids(text: bytes) -> bytes:
    """Turn each decimal provider id into an integer and inline remote references."""
    text = re.sub(
        rb"(\"provider_group_id\":\s*|\"provider_references\":\s*\[)(\d+)\.(\d+)",
        rb"\1\2\3",
        text,
    )
    return _REMOTE.sub(
        rb'"provider_group_id": \1, "provider_groups": [{"npi": [1234567893], '
        rb'"tin": {"type": "ein", "value": "52-0000000"}}]',
        text,
    )


def write_copy(path: Path, head: bytes, items: bytes, tail: bytes, size: int) -> int:
    """Write head, items repeated to `size` bytes, tail; gzip'd. Returns JSON bytes."""
    squeeze = zlib.compressobj(6, zlib.DEFLATED, 31)
    written = 0
    with path.open("wb") as out:
        out.write(squeeze.compress(head + b"\n"))
        written += len(head) + 1
        first = True
        while first or written + len(items) + len(tail) <= size:
            piece = items if first else b",\n" + items
            for at in range(0, len(piece), CHUNK):
                out.write(squeeze.compress(piece[at : at + CHUNK]))
            written += len(piece)
            first = False
        out.write(squeeze.compress(b"\n" + tail))
        out.write(squeeze.flush())
    return written + len(tail) + 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--source", type=Path, default=CAREFIRST)
    parser.add_argument("--out-dir", type=Path, default=HERE / "data")
    parser.add_argument(
        "--decimal-only", action="store_true", help="skip the integer-id copy"
    )
    args = parser.parse_args(argv)

    args.out_dir.mkdir(parents=True, exist_ok=True)
    text = zlib.decompress(args.source.read_bytes(), 47)
    if text.startswith(b"\xef\xbb\xbf"):
        text = text[3:]
    size = args.size_mb * 1_000_000
    copies = [("", text)]
    if not args.decimal_only:
        copies.append(("-int", integer_ids(text)))
    for suffix, content in copies:
        head, items, tail = split_file(content)
        path = args.out_dir / f"tic-{args.size_mb}mb{suffix}.json.gz"
        total = write_copy(path, head, items, tail, size)
        print(
            f"{path}: {total / 1e6:,.0f} MB of JSON, {path.stat().st_size / 1e6:,.1f} MB gzip'd"
        )


if __name__ == "__main__":
    main()

"""Find the parts of a TiC file in its byte stream without parsing them.

An in-network file is one JSON object whose `in_network` (and, often,
`provider_references`) array holds nearly all of its bytes. The scanner is fed
the decompressed text chunk by chunk and reports the byte span of each top-level
key and value and of each element of those two arrays, so that each element can
be decoded on its own and the file never has to be in memory. It only tracks
nesting, strings and escapes; the decoder validates each span.

The C extension `_scan` implements the same state machine fast; this module's
`PyScanner` is the fallback used when the extension was not built, and the
reference the tests hold the extension to.
"""

from __future__ import annotations

import re
from typing import Protocol

# Event kinds: (kind, start, end), offsets into the whole decompressed stream.
KEY = 1  # a top-level key, quotes included
VALUE = 2  # the value of the key before it
ITEM = 3  # an element of the top-level `in_network` array
REFERENCE = 4  # an element of the top-level `provider_references` array
ARRAY_OPEN = 5  # the `[` of `in_network` or `provider_references`
ARRAY_CLOSE = 6  # its `]`

Event = tuple[int, int, int]

# Scanner states; the C extension uses the same numbers.
_OPEN, _KEY_OR_END, _KEY, _COLON, _VALUE_START, _VALUE = 0, 1, 2, 3, 4, 5
_AFTER_VALUE, _KEY_EXPECT, _ELEM_OR_END, _ELEM, _AFTER_ELEM = 6, 7, 8, 9, 10
_ELEM_EXPECT, _DONE, _ERROR = 11, 12, 13

# A value being skipped over: a container, a string, or a bare scalar.
_CONTAINER, _STRING, _BARE = 0, 1, 2

_NOT_A_VALUE = frozenset(b",:]}")  # bytes no JSON value starts with
_KEY_LIMIT = 64  # longer keys are none the scanner looks for
_ARRAYS = {b"in_network": ITEM, b"provider_references": REFERENCE}
_WS = re.compile(rb"[ \t\r\n]*")
_STRUCTURE = re.compile(rb'["{}\[\]]')
_STRING_END = re.compile(rb'["\\]')
_BARE_END = re.compile(rb"[ \t\r\n,\]}]")


class Scanner(Protocol):
    """What the reader needs of a scanner, C or Python."""

    @property
    def keep_from(self) -> int: ...

    @property
    def error(self) -> str | None: ...

    @property
    def error_offset(self) -> int: ...

    @property
    def done(self) -> bool: ...

    def feed(self, data: bytes) -> list[Event]: ...

    def finish(self) -> None: ...


def _shown(data: bytes, at: int) -> str:
    """The byte at `at`, as the error messages show it."""
    return repr(chr(data[at])) if data[at] < 128 else f"byte 0x{data[at]:02x}"


class PyScanner:
    """The scanner in plain Python: correct, and about fifty times slower than C."""

    def __init__(self, start: int = 0) -> None:
        self._base = start  # absolute offset of the next chunk's first byte
        self._state = _OPEN
        self._start = 0  # absolute start of the key, value or element in progress
        self._kind = _CONTAINER
        self._depth = 0
        self._in_string = False
        self._escape = False
        self._key = b""
        self._array = ITEM
        self.error: str | None = None
        self.error_offset = -1

    @property
    def keep_from(self) -> int:
        """The first byte a later event may still need: the reader keeps from here."""
        if self._state in (_KEY, _VALUE, _ELEM):
            return self._start
        return self._base

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def finish(self) -> None:
        """Mark the stream ended; an object left open becomes the error."""
        if self._state not in (_DONE, _ERROR):
            self._fail(self._base, "the JSON text ends early")

    def _fail(self, offset: int, problem: str) -> None:
        self._state = _ERROR
        self.error = problem
        self.error_offset = offset

    def _expected(self, data: bytes, at: int, what: str) -> None:
        self._fail(
            self._base + at,
            f"expected {what} at byte {self._base + at}, found {_shown(data, at)}",
        )

    def feed(self, data: bytes) -> list[Event]:
        """Scan the next chunk; return the events completed within it."""
        events: list[Event] = []
        at, size, base = 0, len(data), self._base
        while at < size and self._state != _ERROR:
            state = self._state
            if state in (_KEY, _VALUE, _ELEM):
                at = self._skip_value(data, at, events)
                continue
            at = _WS.match(data, at).end()  # type: ignore[union-attr]
            if at >= size:
                break
            char = data[at]
            if state == _OPEN:
                if char != 0x7B:  # {
                    self._expected(data, at, "'{' to open the file's object")
                    break
                self._state = _KEY_OR_END
                at += 1
            elif state in (_KEY_OR_END, _KEY_EXPECT):
                if char == 0x7D and state == _KEY_OR_END:  # }
                    self._state = _DONE
                    at += 1
                elif char == 0x22:  # "
                    self._begin(base + at, _STRING, _KEY)
                    at += 1
                else:
                    self._expected(data, at, "a key")
            elif state == _COLON:
                if char != 0x3A:  # :
                    self._expected(data, at, "':'")
                    break
                self._state = _VALUE_START
                at += 1
            elif state == _VALUE_START:
                array = _ARRAYS.get(self._key)
                if array is not None and char == 0x5B:  # [
                    events.append((ARRAY_OPEN, base + at, base + at + 1))
                    self._array = array
                    self._state = _ELEM_OR_END
                    at += 1
                elif char in _NOT_A_VALUE:
                    self._expected(data, at, "a value")
                else:
                    at = self._begin_value(data, at, _VALUE)
            elif state == _AFTER_VALUE:
                if char == 0x2C:  # ,
                    self._state = _KEY_EXPECT
                elif char == 0x7D:  # }
                    self._state = _DONE
                else:
                    self._expected(data, at, "',' or '}' after a value")
                    break
                at += 1
            elif state in (_ELEM_OR_END, _ELEM_EXPECT):
                if char == 0x5D and state == _ELEM_OR_END:  # ]
                    events.append((ARRAY_CLOSE, base + at, base + at + 1))
                    self._state = _AFTER_VALUE
                    at += 1
                elif char in _NOT_A_VALUE:
                    self._expected(data, at, "an array element")
                else:
                    at = self._begin_value(data, at, _ELEM)
            elif state == _AFTER_ELEM:
                if char == 0x2C:
                    self._state = _ELEM_EXPECT
                elif char == 0x5D:
                    events.append((ARRAY_CLOSE, base + at, base + at + 1))
                    self._state = _AFTER_VALUE
                else:
                    self._expected(data, at, "',' or ']' after an array element")
                    break
                at += 1
            else:  # _DONE
                self._expected(data, at, "nothing after the file's object")
        self._base += size
        return events

    def _begin(self, start: int, kind: int, state: int) -> None:
        self._start = start
        self._kind = kind
        self._state = state
        self._depth = 0
        self._in_string = kind == _STRING
        self._escape = False
        if state == _KEY:
            self._key = b""

    def _begin_value(self, data: bytes, at: int, state: int) -> int:
        char = data[at]
        if char in (0x7B, 0x5B):  # { [
            self._begin(self._base + at, _CONTAINER, state)
            self._depth = 1
            return at + 1
        if char == 0x22:
            self._begin(self._base + at, _STRING, state)
            return at + 1
        self._begin(self._base + at, _BARE, state)
        return at

    def _skip_value(self, data: bytes, at: int, events: list[Event]) -> int:
        """Move through the value in progress; emit it when it ends."""
        size = len(data)
        while at < size:
            if self._escape:
                self._escape = False
                at += 1
                continue
            if self._in_string:
                found = _STRING_END.search(data, at)
                end = size if found is None else found.start()
                if self._state == _KEY and len(self._key) <= _KEY_LIMIT:
                    self._key += data[at : min(end + 1, size)]
                if found is None:
                    return size
                if data[end] == 0x5C:  # backslash
                    self._escape = True
                    at = end + 1
                    continue
                self._in_string = False
                at = end + 1
                if self._kind == _STRING:
                    self._complete(at, events)
                    return at
                continue
            if self._kind == _BARE:
                found = _BARE_END.search(data, at)
                if found is None:
                    return size
                self._complete(found.start(), events)
                return found.start()
            found = _STRUCTURE.search(data, at)
            if found is None:
                return size
            at = found.start()
            char = data[at]
            at += 1
            if char == 0x22:
                self._in_string = True
            elif char in (0x7B, 0x5B):
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth == 0:
                    self._complete(at, events)
                    return at
        return at

    def _complete(self, end: int, events: list[Event]) -> None:
        """The value in progress ends before `end` (an offset in this chunk)."""
        start, stop = self._start, self._base + end
        if self._state == _KEY:
            self._key = self._key[:-1]  # the closing quote
            events.append((KEY, start, stop))
            self._state = _COLON
        elif self._state == _VALUE:
            events.append((VALUE, start, stop))
            self._state = _AFTER_VALUE
            self._key = b""
        else:
            events.append((self._array, start, stop))
            self._state = _AFTER_ELEM

    def __repr__(self) -> str:
        return f"PyScanner(state={self._state}, offset={self._base})"

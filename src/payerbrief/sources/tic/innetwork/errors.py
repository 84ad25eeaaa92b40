"""Errors of the in-network rates reader, in payerbrief's one hierarchy."""

from __future__ import annotations

from pathlib import Path

from payerbrief.errors import SourceFileError


class TicFileBrokenError(SourceFileError):
    """A payer file whose structure breaks (truncated, damaged or not JSON) at `offset`.

    The reader raises it only after its last batch: every row yielded before it
    came from a complete, valid item, so a loader should keep them and record
    the file as partially loaded (`partial` is true for that reason).
    """

    partial = True

    def __init__(
        self, path: Path | str, problem: str, *, offset: int, hint: str = ""
    ) -> None:
        self.offset = offset
        super().__init__(path, problem, hint=hint)

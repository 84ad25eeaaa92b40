"""The one exception hierarchy of payerbrief.

Every error keeps the values that caused it, and its message ends with what to
do next, so the CLI can print it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class PayerbriefError(Exception):
    """Base of every error payerbrief raises on purpose."""

    hint: str = ""

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message}\nHint: {self.hint}" if self.hint else message


class SourceFileError(PayerbriefError):
    """A source file cannot be read as the kind it was given as."""

    def __init__(
        self,
        path: Path | str,
        problem: str,
        *,
        line: int | None = None,
        hint: str = "",
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        self.hint = hint
        where = f"{self.path}" if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {problem}")


class MissingSourceError(SourceFileError):
    """A source file does not exist or cannot be opened."""


class UnknownSourceKindError(PayerbriefError):
    def __init__(self, kind: str, known: Sequence[str]) -> None:
        self.kind = kind
        self.known = list(known)
        self.hint = "choose one of: " + ", ".join(self.known)
        super().__init__(f"unknown source kind {kind!r}")


class MalformedCodeError(PayerbriefError):
    """Text that is not a billing code of any supported code system."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.hint = (
            "a CPT Category I code is five digits (99213); Category II is four "
            "digits and F (3372F); Category III is four digits and T (0042T); "
            "a HCPCS Level II code is a letter A-V and four digits (G0439)"
        )
        super().__init__(f"{text!r} is not a billing code")


class UnknownCodeError(PayerbriefError):
    """A well-formed billing code that no loaded code set contains."""

    def __init__(
        self, code: str, code_sets: Sequence[str], closest: Sequence[str]
    ) -> None:
        self.code = code
        self.code_sets = list(code_sets)
        self.closest = list(closest)
        loaded = ", ".join(self.code_sets) if self.code_sets else "none"
        message = f"code {code} is in none of the loaded code sets ({loaded})"
        if self.closest:
            self.hint = "closest codes: " + ", ".join(self.closest)
        else:
            self.hint = (
                "load a code set first: run `payerbrief demo` or `payerbrief ingest`"
            )
        super().__init__(message)


class ReleaseNotFoundError(PayerbriefError):
    def __init__(self, kind: str, release: str, available: Sequence[str]) -> None:
        self.kind = kind
        self.release = release
        self.available = list(available)
        self.hint = "loaded releases: " + (", ".join(self.available) or "none")
        super().__init__(f"no {kind} release {release!r} is loaded")


class WarehouseError(PayerbriefError):
    """The warehouse directory or its catalog cannot be used."""

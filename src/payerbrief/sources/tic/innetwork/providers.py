"""Provider groups of an in-network file: top-level, inline and remote ones.

Every provider group id a rate names gets rows here, so a join of `tic_rate`
and `tic_provider_group` on the id finds each rate's providers, or shows why
it cannot: `source` says where the group came from and `resolved` whether its
NPIs and TINs are known.

- top-level: an element of the file's `provider_references` with inline
  `provider_groups` (1.x, and the only form in 2.x);
- remote: a 1.x `provider_references` element with a `location` URL instead.
  It stays unresolved (with its URL) unless a `resolve_remote` hook fetches it;
- inline: 1.x `provider_groups` written inside a negotiated rate. Such a set
  is keyed `inline:` plus a hash of its text, so a set repeated across rates
  is stored once;
- missing: an id that rates name but the file never defines.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pyarrow as pa

from payerbrief.errors import PayerbriefError
from payerbrief.sources.base import ReadStats
from payerbrief.sources.tic.innetwork.checks import decode_problem, id_text, reason
from payerbrief.sources.tic.innetwork.model import (
    ProviderGroup,
    ProviderReference,
    RemoteReference,
    given,
)
from payerbrief.sources.tic.innetwork.schema import PROVIDER_GROUP

log = logging.getLogger(__name__)

ResolveRemote = Callable[[str], bytes | None]

_REFERENCE = msgspec.json.Decoder(ProviderReference, float_hook=str)
_GROUPS = msgspec.json.Decoder(list[ProviderGroup])
_REMOTE = msgspec.json.Decoder(RemoteReference)
_SEEN_LIMIT = 1_000_000  # inline keys remembered; past it a set may be stored twice


class ProviderGroupTable:
    """Rows of `tic_provider_group`, collected as the file is read."""

    def __init__(self, stats: ReadStats, resolve_remote: ResolveRemote | None) -> None:
        self.stats = stats
        self.resolve_remote = resolve_remote
        self.defined: set[str] = set()
        self.references = 0
        self.unresolved = 0
        self.has_network_names = False  # a 2.x shape
        self.has_business_names = False  # a 2.x shape
        self.has_remote = False  # a 1.x shape
        self._inline_seen: set[str] = set()
        self._remote_cache: dict[str, list[ProviderGroup] | None] = {}
        self._rows: dict[str, list[Any]] = {name: [] for name in PROVIDER_GROUP.names}

    def add_reference(self, index: int, offset: int, text: memoryview) -> None:
        """One element of the top-level `provider_references`."""
        where = f"provider_references[{index}]"
        try:
            reference = _REFERENCE.decode(text)
            group_id = id_text(reference.provider_group_id)
            if group_id is None:
                raise msgspec.ValidationError(
                    "Expected a number, got "
                    f"{json.dumps(reference.provider_group_id)[:40]} - at `$.provider_group_id`"
                )
            groups = (
                _GROUPS.decode(reference.provider_groups)
                if given(reference.provider_groups)
                else None
            )
            if groups is not None:
                self._check_npis(groups)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            kind, detail = decode_problem(exc)
            self._reject(index, reason(kind, where, offset, detail), text)
            return
        self.references += 1
        networks = reference.network_name
        self.has_network_names = self.has_network_names or networks is not None
        if groups is not None:
            self._add_groups(group_id, groups, "top-level", None, networks)
        elif reference.location is not None:
            self.has_remote = True
            self._add_remote(group_id, reference.location, networks)
        else:
            self._reject(
                index,
                reason(
                    "missing required field",
                    where,
                    offset,
                    "a provider reference needs `provider_groups` or `location`",
                ),
                text,
            )

    def inline_key(self, raw: bytes | memoryview) -> str | None:
        """The key of a negotiated rate's inline `provider_groups`, None if invalid."""
        key = "inline:" + hashlib.blake2b(raw, digest_size=8).hexdigest()
        if key in self._inline_seen:
            return key
        try:
            groups = _GROUPS.decode(raw)
            self._check_npis(groups)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        if len(self._inline_seen) >= _SEEN_LIMIT:
            self._inline_seen.clear()
        self._inline_seen.add(key)
        self._add_groups(key, groups, "inline", None, None)
        return key

    def add_missing(self, ids: set[str]) -> None:
        """Rows for ids that rates name but the file never defines."""
        for group_id in sorted(ids - self.defined):
            self._add_row(group_id, None, None, None, "missing", None, False)
            self.unresolved += 1

    def take_batch(self) -> pa.RecordBatch | None:
        if not self._rows["provider_group_id"]:
            return None
        batch = pa.RecordBatch.from_pydict(self._rows, schema=PROVIDER_GROUP)
        self._rows = {name: [] for name in PROVIDER_GROUP.names}
        return batch

    def _reject(self, index: int, why: str, text: memoryview) -> None:
        self.stats.rows_read += 1
        self.stats.reject(index, why, bytes(text).decode("utf-8", "replace"))

    def _check_npis(self, groups: list[ProviderGroup]) -> None:
        """NPIs must be numbers, or digits in quotes (some payers quote them)."""
        for group in groups:
            for npi in group.npi:
                if isinstance(npi, str) and not npi.isdigit():
                    raise msgspec.ValidationError(
                        f"Expected an NPI number, got {npi[:20]!r} - at `$.npi`"
                    )
            self.has_business_names = (
                self.has_business_names or group.tin.business_name is not None
            )

    def _add_remote(
        self, group_id: str, location: str, networks: list[str] | None
    ) -> None:
        groups = self._fetch(location) if self.resolve_remote is not None else None
        if groups is None:
            self._add_row(group_id, None, None, networks, "remote", location, False)
            self.unresolved += 1
            return
        self._add_groups(group_id, groups, "remote", location, networks)

    def _fetch(self, location: str) -> list[ProviderGroup] | None:
        """The groups at a remote location, once per URL; None when unavailable."""
        if location in self._remote_cache:
            return self._remote_cache[location]
        groups: list[ProviderGroup] | None = None
        assert self.resolve_remote is not None
        try:
            content = self.resolve_remote(location)
            if content is not None:
                groups = _REMOTE.decode(content).provider_groups
                self._check_npis(groups)
        except PayerbriefError as exc:
            log.warning("provider reference %s not fetched: %s", location, exc)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.warning("provider reference %s is not valid: %s", location, exc)
            groups = None
        self._remote_cache[location] = groups
        return groups

    def _add_groups(
        self,
        group_id: str,
        groups: list[ProviderGroup],
        source: str,
        location: str | None,
        networks: list[str] | None,
    ) -> None:
        for position, group in enumerate(groups):
            npis = [int(n) for n in group.npi]
            self._add_row(group_id, position, group, networks, source, location, True)
            self._rows["npi"][-1] = npis

    def _add_row(
        self,
        group_id: str,
        position: int | None,
        group: ProviderGroup | None,
        networks: list[str] | None,
        source: str,
        location: str | None,
        resolved: bool,
    ) -> None:
        self.defined.add(group_id)
        rows = self._rows
        rows["provider_group_id"].append(group_id)
        rows["group_index"].append(position)
        rows["npi"].append(None)
        rows["tin_type"].append(group.tin.type if group else None)
        rows["tin_value"].append(group.tin.value if group else None)
        rows["business_name"].append(group.tin.business_name if group else None)
        rows["network_name"].append(networks)
        rows["source"].append(source)
        rows["location"].append(location)
        rows["resolved"].append(resolved)

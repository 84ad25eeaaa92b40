"""Facts about what a code means and how it is coded."""

from __future__ import annotations

from typing import Any

from payerbrief.codes import BillingCode
from payerbrief.facts import coverage, edits, indicators, taxonomies
from payerbrief.facts.model import (
    Fact,
    FactSet,
    SourceRef,
    State,
    not_applicable,
    not_available,
    present,
)
from payerbrief.facts.payment import _pfs_missing, base_row, medicare_national
from payerbrief.facts.reference import Reference

# Plain labels for CPT modifiers (our own words; the AMA's descriptors are not
# shipped). HCPCS Level II modifiers take their descriptor from the HCPCS file.
CPT_MODIFIERS = {
    "26": "Professional component",
    "50": "Bilateral procedure",
    "51": "Multiple procedures",
    "62": "Two surgeons",
    "66": "Surgical team",
    "80": "Assistant surgeon",
    "82": "Assistant surgeon when no qualified resident surgeon is available",
}


# Which user-supplied CPT descriptor a brief prefers, when several are loaded.
CPT_PREFERENCE = ("long", "clinician", "medium", "consumer", "short")


def cpt_descriptor(ref: Reference, code: BillingCode) -> Fact | None:
    """The descriptor from a CPT file the user supplied under their AMA licence."""
    sources = {s.load_id: s for s in ref.set_sources("cpt-descriptors")}
    if code.system != "CPT" or not sources:
        return None
    rows = ref.lookup(
        "SELECT load_id, descriptor, descriptor_kind FROM cpt_descriptor "
        "WHERE code = ? ORDER BY line",
        [code.code],
    )
    if not rows:
        return None
    rows.sort(
        key=lambda r: (
            CPT_PREFERENCE.index(r["descriptor_kind"])
            if r["descriptor_kind"] in CPT_PREFERENCE
            else len(CPT_PREFERENCE)
        )
    )
    best = rows[0]
    source = sources[best["load_id"]]
    short = base_row(ref, code.code)
    return present(
        {
            "text": best["descriptor"],
            "short": short["description"] if short else best["descriptor"],
            "kind": f"{source.release} descriptor",
        },
        source,
    )


def descriptor(ref: Reference, code: BillingCode) -> Fact:
    """A user-supplied CPT descriptor, the HCPCS long one, else the CMS short one."""
    licensed = cpt_descriptor(ref, code)
    if licensed is not None:
        return licensed
    hcpcs = ref.hcpcs.get(code.code)
    if hcpcs is not None and hcpcs.get("long_description"):
        return present(
            {
                "text": hcpcs["long_description"],
                "short": hcpcs.get("short_description"),
                "kind": "HCPCS Level II long descriptor",
            },
            *_sources(ref, "hcpcs"),
        )
    row = base_row(ref, code.code)
    if row is not None:
        return present(
            {
                "text": row["description"],
                "short": row["description"],
                "kind": "CMS short descriptor",
            },
            *_sources(ref, "pfs-rvu"),
        )
    return not_available(f"No loaded code set describes {code.code}")


def _sources(ref: Reference, *kinds: str) -> list[Any]:
    return [s for s in (ref.source(k) for k in kinds) if s is not None]


def summary_facts(ref: Reference, code: BillingCode, payers: FactSet) -> FactSet:
    """What the code is, and which payers' data the brief has (from `payers`)."""
    facts = FactSet()
    code_source = _sources(ref, "hcpcs" if code.code in ref.hcpcs else "pfs-rvu")
    facts["code"] = present(code.code, *code_source)
    facts["code_system"] = present(code.system, *code_source)
    facts["category"] = present(code.category, *code_source)
    facts["descriptor"] = descriptor(ref, code)
    national = payers["medicare_national"]
    with_data = ["Medicare"] if national.present else []
    without = []
    sources = list(national.sources)
    for name, fact in payers.items():
        if not name.startswith("payer:"):
            continue
        # A withheld payer has rates, too few to publish: it has data.
        if fact.present or fact.state is State.WITHHELD:
            with_data.append(name.removeprefix("payer:"))
            sources += fact.sources
        else:
            without.append(name.removeprefix("payer:"))
    facts["payers_with_data"] = present(with_data, *sources)
    facts["payers_without_data"] = present(without)
    return facts


def billing_facts(ref: Reference, code: BillingCode) -> FactSet:
    facts = FactSet()
    facts["service_type"] = present(code.category)
    facts["betos"] = betos(ref, code)
    facts["medicare_status"] = medicare_status(ref, code)
    facts["fee_schedule_settings"] = fee_schedule_settings(ref, code)
    facts["payer_places_of_service"] = payer_places_of_service(ref, code)
    return facts


def payer_places_of_service(ref: Reference, code: BillingCode) -> Fact:
    """Places of service the payer files list for the code's rates, named."""
    from payerbrief.facts.rates import pos_label, pos_setting

    missing = not_available(
        f"No payer in-network file loaded lists places of service for {code.code}"
    )
    if not ref.rate_files:
        return missing
    rows = ref.lookup(
        "SELECT pos, load_id, sum(rows) AS rates FROM rate_summary "
        "WHERE code = ? AND pos <> '' GROUP BY pos, load_id ORDER BY pos",
        [code.code],
    )
    if not rows:
        return missing
    places: dict[str, int] = {}
    for row in rows:
        places[row["pos"]] = places.get(row["pos"], 0) + row["rates"]
    files = {r["load_id"] for r in rows}
    sources = [SourceRef.of(f.entry) for k, f in ref.rate_files.items() if k in files]
    value = [
        {
            "place_of_service": pos,
            "label": pos_label(ref, pos.split(",")),
            "setting": pos_setting(ref, pos.split(",")),
            "rates": rates,
        }
        for pos, rates in places.items()
    ]
    return present(value, *sources, *_sources(ref, "pos"))


def betos(ref: Reference, code: BillingCode) -> Fact:
    row = ref.hcpcs.get(code.code)
    if row is not None and row.get("betos"):
        return present(row["betos"], *_sources(ref, "hcpcs"))
    if code.system == "CPT":
        return not_available(f"No loaded file gives a BETOS category for {code.code}")
    return not_available(
        f"The loaded HCPCS file gives no BETOS category for {code.code}"
    )


def medicare_status(ref: Reference, code: BillingCode) -> Fact:
    row = base_row(ref, code.code)
    if row is None:
        return _pfs_missing(ref, code)
    status = row["status"]
    return present(
        {"code": status, "words": indicators.in_words(indicators.STATUS, status)},
        *_sources(ref, "pfs-rvu"),
    )


def fee_schedule_settings(ref: Reference, code: BillingCode) -> Fact:
    national = medicare_national(ref, code)
    if not national.present:
        return national
    row = national.value[0]
    parts = [r["modifier"] for r in national.value if r["modifier"]]
    return present(
        {
            "non_facility": not row["non_facility_na"],
            "facility": not row["facility_na"],
            "parts": parts,
        },
        *national.sources,
    )


def coding_facts(ref: Reference, code: BillingCode) -> FactSet:
    facts = FactSet()
    facts["clinical_context"] = descriptor(ref, code)
    facts["code_family"] = code_family(ref, code)
    facts["modifiers"] = modifiers(ref, code, edits.ncci_edits(ref, code))
    facts["global_period"] = global_period(ref, code)
    facts["mue"] = edits.mue(ref, code)
    facts["ncci_edits"] = edits.ncci_edits(ref, code)
    facts["icd10_pairings"] = coverage.icd10_pairings(ref, code)
    facts["provider_taxonomies"] = taxonomies.provider_taxonomies(ref, code)
    facts["bundled_codes"] = bundled_codes(ref, code)
    return facts


def bundled_codes(ref: Reference, code: BillingCode) -> Fact:
    """Codes a payer file bundles with `code`, or covers under it (TiC
    `bundled_codes` and `covered_services`, 2.x `contained_billing_code`)."""
    missing = not_available(
        f"No loaded payer file bundles other codes with {code.code}"
    )
    if not ref.rate_files or not ref.lookup(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'payer_bundle'",
        [],
    ):
        return missing
    # Both ways: what the code's own items contain, and items containing it.
    rows = ref.lookup(
        "SELECT related AS code, relation, 'contains' AS direction, "
        "min(description) AS description, list(DISTINCT load_id) AS files "
        "FROM payer_bundle WHERE code = $code GROUP BY ALL "
        "UNION ALL SELECT code, relation, 'contained in' AS direction, NULL, "
        "list(DISTINCT load_id) FROM payer_bundle WHERE related = $code "
        "GROUP BY ALL ORDER BY direction, relation, code",
        {"code": code.code},
    )
    if not rows:
        return missing
    files = {f for r in rows for f in r.pop("files")}
    sources = [SourceRef.of(f.entry) for k, f in ref.rate_files.items() if k in files]
    return present(rows, *sources)


def code_family(ref: Reference, code: BillingCode) -> Fact:
    family = []
    for neighbour in ref.neighbours(code.code):
        fact = descriptor(ref, ref.resolve(neighbour))
        text = fact.value["short"] if fact.present else None
        family.append({"code": neighbour, "descriptor": text})
    if not family:
        return not_available(f"No loaded code set lists neighbours of {code.code}")
    kinds = ("hcpcs",) if code.code in ref.hcpcs else ("pfs-rvu",)
    return present(family, *_sources(ref, *kinds))


def global_period(ref: Reference, code: BillingCode) -> Fact:
    row = base_row(ref, code.code)
    if row is None:
        return _pfs_missing(ref, code)
    days = row["global_days"]
    source = _sources(ref, "pfs-rvu")
    words = indicators.in_words(indicators.GLOBAL_DAYS, days)
    if days == "XXX":
        return not_applicable(f"{words} (global days XXX)", *source)
    value = {"days": days, "words": words}
    if any(row[k] for k in ("pre_op", "intra_op", "post_op")):
        value["split"] = {k: row[k] for k in ("pre_op", "intra_op", "post_op")}
    return present(value, *source)


def modifiers(ref: Reference, code: BillingCode, ncci: Fact) -> Fact:
    """Modifiers the fee-schedule indicators and NCCI edits call for, with rules."""
    row = base_row(ref, code.code)
    if row is None:
        return _pfs_missing(ref, code)
    pfs = _sources(ref, "pfs-rvu")
    national = medicare_national(ref, code)
    if national.state.value == "not applicable":
        return not_applicable(national.reason, *pfs)
    rows = _indicator_modifiers(row) + edits.ncci_modifier_rows(ncci)
    seen, payer_sources = _payer_modifiers(ref, code)
    for modifier, count in seen.items():
        note = f"payer files: {count} rates"
        known = [r for r in rows if r["modifier"] == modifier]
        for entry in known:
            entry["indicator"] += f"; {note}"
        if not known:
            rows.append(
                {
                    "modifier": modifier,
                    "description": CPT_MODIFIERS.get(modifier, modifier),
                    "description_source": "payerbrief label",
                    "when": "payers list negotiated rates with it for this code",
                    "indicator": note,
                }
            )
    for entry in rows:
        hcpcs = ref.modifiers.get(entry["modifier"])
        if hcpcs is not None:
            # Some HCPCS long descriptors run to a paragraph; the short one then.
            long = hcpcs["long_description"] or ""
            entry["description"] = (
                long if len(long) <= 120 else hcpcs["short_description"]
            )
            entry["description_source"] = "HCPCS Level II modifier file"
    if not rows:
        return not_applicable(
            f"the fee-schedule indicators of {code.code} call for no payment modifier",
            *pfs,
        )
    used = [*pfs, *_sources(ref, "hcpcs-modifier"), *payer_sources]
    if any(r["indicator"].startswith("NCCI") for r in rows):
        used += ncci.sources
    return present(rows, *used)


def _payer_modifiers(
    ref: Reference, code: BillingCode
) -> tuple[dict[str, int], list[SourceRef]]:
    """Modifiers the loaded payer files list with rates for `code`, with counts."""
    if not ref.rate_files:
        return {}, []
    rows = ref.lookup(
        "SELECT modifier, load_id, sum(rows) AS rates FROM rate_summary "
        "WHERE code = ? AND modifier <> '' GROUP BY ALL ORDER BY modifier",
        [code.code],
    )
    seen: dict[str, int] = {}
    for row in rows:
        for modifier in row["modifier"].split(","):
            seen[modifier] = seen.get(modifier, 0) + row["rates"]
    files = {r["load_id"] for r in rows}
    sources = [SourceRef.of(f.entry) for k, f in ref.rate_files.items() if k in files]
    return dict(sorted(seen.items())), sources


def _indicator_modifiers(row: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def add(modifier: str, indicator: str, when: str) -> None:
        found.append(
            {
                "modifier": modifier,
                "description": CPT_MODIFIERS.get(modifier, modifier),
                "description_source": "payerbrief label",
                "when": when,
                "indicator": f"fee schedule: {indicator}",
            }
        )

    pctc = row["pctc"]
    if pctc == "1":
        add("26", "PC/TC 1", "billing the interpretation and report alone")
        add("TC", "PC/TC 1", "billing the equipment, staff and supplies alone")
    elif pctc in ("6", "8"):
        add("26", f"PC/TC {pctc}", "billing the physician's interpretation")
    if row["bilat_surg"] == "1":
        add("50", "bilateral 1", "done on both sides in one session: paid at 150%")
    elif row["bilat_surg"] == "3":
        add("50", "bilateral 3", "done on both sides: each side paid at 100%")
    if row["mult_proc"] in ("2", "3"):
        rule = indicators.in_words(indicators.MULT_PROC, row["mult_proc"])
        add("51", f"multiple procedure {row['mult_proc']}", rule)
    # Surgery-team indicators matter for procedures with a global period; an
    # office visit (XXX) carries assistant indicator 0 without it meaning much.
    surgical = row["global_days"] in ("000", "010", "090", "ZZZ")
    assistant = row["asst_surg"]
    if assistant == "2" or (assistant == "0" and surgical):
        when = (
            "an assistant at surgery, paid only with documented medical necessity"
            if assistant == "0"
            else "an assistant at surgery: paid"
        )
        for modifier in ("80", "82", "AS"):
            add(modifier, f"assistant {assistant}", when)
    if row["co_surg"] in ("1", "2"):
        when = indicators.in_words(indicators.CO_SURGEON, row["co_surg"])
        add("62", f"co-surgeon {row['co_surg']}", when)
    if row["team_surg"] in ("1", "2"):
        when = indicators.in_words(indicators.TEAM, row["team_surg"])
        add("66", f"team surgery {row['team_surg']}", when)
    return found

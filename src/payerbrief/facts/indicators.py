"""Fee-schedule indicators in words.

The meanings follow the CMS PFS Relative Value File documentation (RVU25
README, "Status Code", "PC/TC Indicator", "Global Surgery", "Multiple
Procedure", "Bilateral Surgery", "Assistant at Surgery", "Co-Surgeons" and
"Team Surgery" fields). The wording is ours.
"""

from __future__ import annotations

STATUS = {
    "A": "active code, paid separately under the fee schedule",
    "B": "bundled code: payment is always included in another service",
    "C": "contractor-priced code: each Medicare contractor sets the amount",
    "D": "deleted code, with a grace period for claims",
    "E": "excluded from the fee schedule by regulation",
    "F": "deleted code, with no grace period",
    "G": "not valid for Medicare; another code is used instead",
    "H": "deleted modifier for this code",
    "I": "not valid for Medicare purposes; Medicare uses another code",
    "J": "anesthesia service, paid with anesthesia base units",
    "M": "measurement code, reported for quality programs with no payment",
    "N": "not covered by Medicare",
    "P": "bundled or excluded code: no separate payment",
    "Q": "therapy functional information code",
    "R": "restricted coverage: paid only in special circumstances",
    "T": "paid only when no other fee-schedule service is billed the same day",
    "X": "excluded from the fee schedule by statute",
}

# Status codes whose amounts the fee schedule's RVUs price.
PAID_STATUSES = frozenset("ARTC")

PCTC = {
    "0": "physician service: modifiers 26 and TC do not apply",
    "1": "diagnostic test or radiology service with a professional (26) and a "
    "technical (TC) component",
    "2": "professional component only",
    "3": "technical component only",
    "4": "global test only: the 26 and TC parts have codes of their own",
    "5": "incident-to service: modifiers 26 and TC do not apply",
    "6": "laboratory physician interpretation: modifier 26 may apply, TC may not",
    "7": "physical therapy service: modifiers 26 and TC do not apply",
    "8": "physician interpretation: modifier 26 may apply, TC may not",
    "9": "the professional/technical concept does not apply",
}

GLOBAL_DAYS = {
    "000": "0-day global period: endoscopy or minor procedure, same-day care included",
    "010": "10-day global period: minor procedure, follow-up for 10 days included",
    "090": "90-day global period: major surgery, the day before and 90 days after "
    "included",
    "MMM": "maternity code: the usual global surgery rules do not apply",
    "XXX": "the global surgery concept does not apply",
    "YYY": "the contractor sets the global period",
    "ZZZ": "add-on code: it falls in the global period of the primary service",
}

MULT_PROC = {
    "0": "no multiple-procedure reduction applies",
    "1": "standard multiple-procedure reduction (historical rule)",
    "2": "standard multiple-procedure reduction: 100% for the highest-valued "
    "procedure, 50% for the others (modifier 51)",
    "3": "special rule for multiple endoscopies in the same family",
    "4": "multiple-procedure reduction for diagnostic imaging (technical and "
    "professional parts)",
    "5": "multiple-procedure reduction for therapy services",
    "6": "multiple-procedure reduction for diagnostic cardiovascular services",
    "7": "multiple-procedure reduction for diagnostic ophthalmology services",
    "9": "the multiple-procedure concept does not apply",
}

BILATERAL = {
    "0": "the 150% bilateral adjustment does not apply",
    "1": "the 150% bilateral adjustment applies (modifier 50)",
    "2": "already priced as bilateral: no adjustment",
    "3": "each side is paid at 100% of the amount",
    "9": "the bilateral concept does not apply",
}

ASSISTANT = {
    "0": "assistant at surgery paid only with documentation of medical necessity",
    "1": "assistant at surgery may not be paid",
    "2": "assistant at surgery may be paid",
    "9": "the assistant-at-surgery concept does not apply",
}

CO_SURGEON = {
    "0": "co-surgeons not permitted",
    "1": "co-surgeons paid with supporting documentation",
    "2": "co-surgeons permitted",
    "9": "the co-surgeon concept does not apply",
}

TEAM = {
    "0": "team surgeons not permitted",
    "1": "team surgeons paid with supporting documentation",
    "2": "team surgeons permitted",
    "9": "the team-surgery concept does not apply",
}


def in_words(table: dict[str, str], value: str | None) -> str:
    """The meaning of an indicator, or a plain statement that it is not known."""
    if value is None or value == "":
        return "not given"
    return table.get(value, f"indicator {value}, not in the CMS documentation")

"""Make a file in the layout of the CMS NPPES monthly NPI file, for the benchmark.

The layout is the one of `npidata_pfile_20050523-YYYYMMDD.csv` in the
NPPES Data Dissemination bundle (NPPES Data Dissemination Readme, section 2.1,
"Data File Layout"): a header row of the 330 column names, then one row per
NPI, every field in double quotes, empty fields written `""`, rows ending in
CRLF. Dates are MM/DD/YYYY. A deactivated NPI keeps only its NPI and its
deactivation date. The column once named "Provider Gender Code" is named
"Provider Sex Code" in the files published since 2024.

Values are invented but shaped like the real ones: NPIs with valid check
digits, taxonomy codes from the NUCC 25.1 code set in `../shared/data/nucc`,
two-letter states, ZIP+4 postal codes, and a share of providers with several
taxonomies, with and without a primary switch set. Nothing here is a real
provider. Run:

    .venv/bin/python bench/make_nppes.py --size-mb 2000

The file goes to `bench/data/`, which git ignores; never commit it.
`--fixtures DIR` instead writes the small files the tests read.
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUCC = HERE.parent.parent / "shared/data/nucc/nucc_taxonomy_251.csv"
MONTHLY_NAME = "npidata_pfile_20050523-20251109.csv"


def header() -> list[str]:
    """The 330 column names of the NPPES data file, in file order."""
    names = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
    ]
    for place in ("Mailing", "Practice Location"):
        names += [
            f"Provider First Line Business {place} Address",
            f"Provider Second Line Business {place} Address",
            f"Provider Business {place} Address City Name",
            f"Provider Business {place} Address State Name",
            f"Provider Business {place} Address Postal Code",
            f"Provider Business {place} Address Country Code (If outside U.S.)",
            f"Provider Business {place} Address Telephone Number",
            f"Provider Business {place} Address Fax Number",
        ]
    names += [
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Sex Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    for n in range(1, 16):
        names += [
            f"Healthcare Provider Taxonomy Code_{n}",
            f"Provider License Number_{n}",
            f"Provider License Number State Code_{n}",
            f"Healthcare Provider Primary Taxonomy Switch_{n}",
        ]
    for n in range(1, 51):
        names += [
            f"Other Provider Identifier_{n}",
            f"Other Provider Identifier Type Code_{n}",
            f"Other Provider Identifier State_{n}",
            f"Other Provider Identifier Issuer_{n}",
        ]
    names += [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ]
    names += [f"Healthcare Provider Taxonomy Group_{n}" for n in range(1, 16)]
    names.append("Certification Date")
    return names


HEADER = header()
COLUMN = {name: index for index, name in enumerate(HEADER)}
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "PR",
]
LAST = [
    "STONE",
    "RIVERA",
    "PATEL",
    "NGUYEN",
    "OKAFOR",
    "BERG",
    "HALL",
    "MORENO",
    "KIM",
    "SHAW",
    "LUND",
    "ADEYEMI",
]
FIRST = [
    "ALEX",
    "JORDAN",
    "SAM",
    "TAYLOR",
    "RILEY",
    "CASEY",
    "MORGAN",
    "JAMIE",
    "AVERY",
    "QUINN",
    "DREW",
]
STREETS = [
    "MAIN",
    "OAK",
    "PINE",
    "MAPLE",
    "CEDAR",
    "ELM",
    "LAKE",
    "HILL",
    "PARK",
    "RIVER",
]
CITIES = [
    "SPRINGFIELD",
    "RIVERTON",
    "FAIRVIEW",
    "MADISON",
    "GREENVILLE",
    "CLINTON",
    "SALEM",
]
CREDENTIALS = ("M.D.", "D.O.", "NP", "PA-C", "RN", "DDS", "PT", "LCSW", "")


def check_digit(base: str) -> str:
    """The NPI check digit: Luhn over the nine digits with the prefix 80840.

    CMS, "Requirements for National Provider Identifier check digit": double
    every other digit from the right of the nine-digit base, add the digits,
    add 24 for the prefix 80840, and take what brings the sum to a multiple
    of ten.
    """
    total = 24
    for position, char in enumerate(base):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return str((10 - total % 10) % 10)


def npi(base: int) -> str:
    text = f"{base:09d}"
    return text + check_digit(text)


def taxonomy_codes() -> list[str]:
    with NUCC.open(newline="", encoding="utf-8") as handle:
        return [row["Code"] for row in csv.DictReader(handle)]


def quoted(cells: list[str]) -> str:
    return ",".join(f'"{cell}"' for cell in cells) + "\r\n"


def date_text(rng: random.Random, first_year: int = 2005) -> str:
    return f"{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}/{rng.randint(first_year, 2025)}"


def put(cells: list[str], name: str, value: str) -> None:
    cells[COLUMN[name]] = value


def address(rng: random.Random, cells: list[str], place: str) -> str:
    state = rng.choice(STATES)
    zip5 = f"{rng.randint(601, 99950):05d}"
    postal = zip5 + f"{rng.randint(0, 9999):04d}" if rng.random() < 0.7 else zip5
    put(
        cells,
        f"Provider First Line Business {place} Address",
        f"{rng.randint(1, 9999)} {rng.choice(STREETS)} ST",
    )
    if rng.random() < 0.3:
        put(
            cells,
            f"Provider Second Line Business {place} Address",
            f"SUITE {rng.randint(1, 900)}",
        )
    put(cells, f"Provider Business {place} Address City Name", rng.choice(CITIES))
    put(cells, f"Provider Business {place} Address State Name", state)
    put(cells, f"Provider Business {place} Address Postal Code", postal)
    put(
        cells, f"Provider Business {place} Address Country Code (If outside U.S.)", "US"
    )
    put(
        cells,
        f"Provider Business {place} Address Telephone Number",
        f"{rng.randint(2000000000, 9899999999)}",
    )
    if rng.random() < 0.5:
        put(
            cells,
            f"Provider Business {place} Address Fax Number",
            f"{rng.randint(2000000000, 9899999999)}",
        )
    return state


def taxonomy_count(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.70:
        return 1
    if roll < 0.90:
        return 2
    if roll < 0.97:
        return 3
    return rng.randint(4, 15)


def taxonomies(
    rng: random.Random, cells: list[str], codes: list[str], state: str
) -> None:
    chosen = rng.sample(codes, taxonomy_count(rng))
    primary = rng.randrange(len(chosen))
    no_switch = rng.random() < 0.05
    for n, code in enumerate(chosen, start=1):
        put(cells, f"Healthcare Provider Taxonomy Code_{n}", code)
        if rng.random() < 0.8:
            put(
                cells,
                f"Provider License Number_{n}",
                f"{rng.choice('ABCDMR')}{rng.randint(10000, 999999)}",
            )
            put(cells, f"Provider License Number State Code_{n}", state)
        switch = "X" if no_switch else ("Y" if n - 1 == primary else "N")
        put(cells, f"Healthcare Provider Primary Taxonomy Switch_{n}", switch)


def other_identifiers(rng: random.Random, cells: list[str], state: str) -> None:
    for n in range(1, rng.choice((0, 0, 1, 1, 2, 3)) + 1):
        put(cells, f"Other Provider Identifier_{n}", f"{rng.randint(100000, 99999999)}")
        put(cells, f"Other Provider Identifier Type Code_{n}", rng.choice(("01", "05")))
        put(cells, f"Other Provider Identifier State_{n}", state)
        put(
            cells,
            f"Other Provider Identifier Issuer_{n}",
            rng.choice(("MEDICAID", "BCBS", "")),
        )


def individual(rng: random.Random, cells: list[str]) -> None:
    put(cells, "Entity Type Code", "1")
    put(cells, "Provider Last Name (Legal Name)", rng.choice(LAST))
    put(cells, "Provider First Name", rng.choice(FIRST))
    if rng.random() < 0.5:
        put(cells, "Provider Middle Name", rng.choice(FIRST))
    put(cells, "Provider Credential Text", rng.choice(CREDENTIALS))
    put(cells, "Provider Sex Code", rng.choice("MF"))
    put(cells, "Is Sole Proprietor", rng.choice("NNNYX"))


def organisation(rng: random.Random, cells: list[str]) -> None:
    put(cells, "Entity Type Code", "2")
    put(
        cells,
        "Provider Organization Name (Legal Business Name)",
        f"{rng.choice(CITIES)} {rng.choice(LAST)} HEALTH GROUP LLC",
    )
    put(cells, "Authorized Official Last Name", rng.choice(LAST))
    put(cells, "Authorized Official First Name", rng.choice(FIRST))
    put(
        cells,
        "Authorized Official Title or Position",
        rng.choice(("CEO", "OWNER", "ADMINISTRATOR")),
    )
    put(
        cells,
        "Authorized Official Telephone Number",
        f"{rng.randint(2000000000, 9899999999)}",
    )
    put(cells, "Is Organization Subpart", rng.choice("NNNY"))
    if rng.random() < 0.2:
        put(
            cells,
            "Healthcare Provider Taxonomy Group_1",
            "193200000X MULTI-SPECIALTY GROUP",
        )


def provider_row(rng: random.Random, codes: list[str], number: str) -> list[str]:
    """One NPI's cells: a deactivated NPI, an individual, or an organisation."""
    cells = [""] * len(HEADER)
    put(cells, "NPI", number)
    if rng.random() < 0.01:
        put(cells, "NPI Deactivation Date", date_text(rng, 2008))
        return cells
    if rng.random() < 0.75:
        individual(rng, cells)
    else:
        organisation(rng, cells)
    address(rng, cells, "Mailing")
    state = address(rng, cells, "Practice Location")
    put(cells, "Provider Enumeration Date", date_text(rng))
    put(cells, "Last Update Date", date_text(rng, 2015))
    taxonomies(rng, cells, codes, state)
    other_identifiers(rng, cells, state)
    put(cells, "Certification Date", date_text(rng, 2018))
    return cells


def rows(seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    codes = taxonomy_codes()
    base = 100_000_000
    while True:
        base += rng.randint(1, 40)
        yield quoted(provider_row(rng, codes, npi(base)))


def make(path: Path, size: int, seed: int) -> int:
    """Write rows until the file holds `size` bytes; returns the row count."""
    count = 0
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        first = quoted(HEADER)
        out.write(first)
        written += len(first)
        for row in rows(seed):
            out.write(row)
            written += len(row)
            count += 1
            if written >= size:
                break
    return count


# The test fixtures: hand-picked rows with the cases the reader must handle.

TAXONOMY = "Healthcare Provider Taxonomy Code_{}"
SWITCH = "Healthcare Provider Primary Taxonomy Switch_{}"
STATE = "Provider Business Practice Location Address State Name"
POSTAL = "Provider Business Practice Location Address Postal Code"
COUNTRY = "Provider Business Practice Location Address Country Code (If outside U.S.)"


def fixture_person(number: str, last: str, state: str, postal: str) -> dict[str, str]:
    return {
        "NPI": number,
        "Entity Type Code": "1",
        "Provider Last Name (Legal Name)": last,
        "Provider First Name": "TEST",
        "Provider Credential Text": "M.D.",
        STATE: state,
        POSTAL: postal,
        COUNTRY: "US",
        "Provider Enumeration Date": "05/23/2005",
        "Last Update Date": "07/08/2024",
        "Provider Sex Code": "F",
    }


def fixture_org(number: str, name: str, state: str, postal: str) -> dict[str, str]:
    return {
        "NPI": number,
        "Entity Type Code": "2",
        "Provider Organization Name (Legal Business Name)": name,
        STATE: state,
        POSTAL: postal,
        COUNTRY: "US",
        "Provider Enumeration Date": "06/01/2006",
        "Last Update Date": "01/15/2025",
        "Authorized Official Last Name": "FAKEOFFICIAL",
        "Is Organization Subpart": "N",
    }


def with_taxonomies(
    row: dict[str, str], *slots: tuple[int, str, str]
) -> dict[str, str]:
    """The row with (slot, taxonomy code, primary switch) filled in."""
    for slot, code, switch in slots:
        row[TAXONOMY.format(slot)] = code
        row[SWITCH.format(slot)] = switch
        row[f"Provider License Number_{slot}"] = f"TEST{slot}"
    return row


def monthly_fixture() -> list[dict[str, str]]:
    """Rows of the monthly fixture, lines 2 to 10."""
    foreign = fixture_person(npi(100000008), "FAKEABROAD", "", "K1A 0B1")
    foreign[COUNTRY] = "CA"
    return [
        # Line 2: one taxonomy marked primary, ZIP+4.
        with_taxonomies(
            fixture_person("1234567893", "FAKEDOCTOR", "MD", "208141234"),
            (1, "207Q00000X", "Y"),
        ),
        # Line 3: three taxonomies, the second one primary, five-digit ZIP.
        with_taxonomies(
            fixture_person(npi(100000001), "FAKESURGEON", "NY", "10001"),
            (1, "207R00000X", "N"),
            (2, "207RC0000X", "Y"),
            (3, "208D00000X", "N"),
        ),
        # Line 4: an organisation with two taxonomies and no primary switch.
        with_taxonomies(
            fixture_org(npi(100000002), "FAKE CLINIC GROUP LLC", "TX", "773301234"),
            (1, "193200000X", "N"),
            (2, "261QM1300X", "X"),
        ),
        # Line 5: one taxonomy, switch not answered: it is the primary one.
        with_taxonomies(
            fixture_person(npi(100000003), "FAKENURSE", "CA", "941031234"),
            (1, "363L00000X", "X"),
        ),
        # Line 6: an NPI whose check digit is wrong (1234567890).
        with_taxonomies(
            fixture_person("1234567890", "FAKEBADCHECK", "FL", "33101"),
            (1, "207Q00000X", "Y"),
        ),
        # Line 7: a deactivated NPI keeps only its NPI and deactivation date.
        {"NPI": npi(100000005), "NPI Deactivation Date": "03/15/2019"},
        # Line 8: taxonomies in slots 1, 3 and 15, the last one primary.
        with_taxonomies(
            fixture_org(npi(100000006), "FAKE HOSPITAL INC", "OH", "432150001"),
            (1, "282N00000X", "N"),
            (3, "261QE0700X", "N"),
            (15, "207P00000X", "Y"),
        ),
        # Line 9: a practice location outside the U.S.
        with_taxonomies(foreign, (1, "207Q00000X", "Y")),
        # Line 10: two taxonomies both marked primary; the first one wins.
        with_taxonomies(
            fixture_person(npi(100000009), "FAKETWOPRIMARY", "WA", "98101"),
            (1, "207Q00000X", "Y"),
            (2, "207R00000X", "Y"),
        ),
    ]


def weekly_fixture() -> list[dict[str, str]]:
    """Rows of the weekly fixture: line 2 replaces an NPI, line 3 is new."""
    return [
        with_taxonomies(
            fixture_person("1234567893", "FAKEDOCTOR", "VA", "220301234"),
            (1, "207R00000X", "Y"),
        ),
        with_taxonomies(
            fixture_person(npi(100000011), "FAKENEWCOMER", "MD", "21201"),
            (1, "207Q00000X", "Y"),
        ),
    ]


def write_fixture(path: Path, records: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(quoted(HEADER))
        for record in records:
            cells = [""] * len(HEADER)
            for name, value in record.items():
                put(cells, name, value)
            out.write(quoted(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "data")
    parser.add_argument("--fixtures", type=Path, help="write the test files here")
    args = parser.parse_args()

    if args.fixtures:
        args.fixtures.mkdir(parents=True, exist_ok=True)
        write_fixture(args.fixtures / MONTHLY_NAME, monthly_fixture())
        weekly = args.fixtures / "npidata_pfile_20251110-20251116.csv"
        write_fixture(weekly, weekly_fixture())
        print(f"wrote the fixtures in {args.fixtures}")
        return

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"nppes-{args.size_mb}mb" / MONTHLY_NAME
    path.parent.mkdir(exist_ok=True)
    count = make(path, args.size_mb * 1_000_000, args.seed)
    print(f"{path}: {count:,} rows, {path.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate core/src/enrich/airports_generated.rs from the `airportsdata` package.

Source: airportsdata (https://pypi.org/project/airportsdata/,
https://github.com/mborsetti/airportsdata), MIT licence, Copyright (c) 2020- Mike
Borsetti, which itself includes data from https://github.com/mwgg/Airports,
Copyright (c) 2014 mwgg. The licence requires the notice to travel with substantial
portions of the data, so the generated file repeats it in full.

The build never runs this script: the generated file is committed, so cflog-core keeps
building offline and for wasm with no Python. To refresh the data:

    python3 -m venv .venv-gen
    .venv-gen/bin/pip install airportsdata
    .venv-gen/bin/python tools/gen_airports.py

Choices made here, because the Rust side relies on them:

* Only rows with a three-letter IATA code are kept, in `airports.csv` order; if a code
  occurs twice the first row wins (airportsdata's own `load('IATA')` would keep the
  last one, but its CSV is curated so that the first row is the primary airport).
* IATA *metropolitan-area* codes from `iata_macs.csv` (LON, NYC, TYO, ...) are added
  when no airport uses the same code, so a multi-airport city code still resolves.
* A row with an empty city falls back to the airport name with the usual suffixes
  ("International Airport", "Airport", ...) removed, e.g. FJR -> "Fujairah".
* Each code carries its airport's latitude and longitude (WGS 84 degrees, rounded to
  5 decimals, about a metre), for the edge location's geo point in OpenSearch documents.
  A metropolitan-area code takes the point of the first of its airports, in
  `iata_macs.csv` order, that the table has.
* The country-to-region mapping lives here, once, and is emitted as a second sorted
  table so the Rust code derives a region from a country without a second copy of the
  mapping that could drift. The script fails if a country has no region.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import airportsdata

OUT = Path(__file__).resolve().parent.parent / "core" / "src" / "enrich" / "airports_generated.rs"

# Continents, with two CDN-minded departures from a pure continent split:
# the Arab states of Western Asia plus Iran and Israel form MiddleEast (the
# region AWS and most traffic reports single out), and transcontinental Russia,
# Turkey and Cyprus count as Europe, where their main edge locations sit.
# The Caribbean and Central America are NorthAmerica; Egypt and the rest of
# North Africa are Africa; the Caucasus and Central Asia are Asia; Pacific
# islands, including US and French territories there, are Oceania. Hawaii and
# other overseas parts of a country take the country's region, because the
# mapping only ever sees the country code.
REGIONS: dict[str, list[str]] = {
    "NorthAmerica": [
        "US", "CA", "MX", "GL", "BM", "PM",
        # Central America
        "BZ", "CR", "GT", "HN", "NI", "PA", "SV",
        # Caribbean
        "AG", "AI", "AW", "BB", "BL", "BQ", "BS", "CU", "CW", "DM", "DO", "GD",
        "GP", "HT", "JM", "KN", "KY", "LC", "MF", "MQ", "MS", "PR", "SX", "TC",
        "TT", "VC", "VG", "VI",
    ],
    "SouthAmerica": [
        "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PE", "PY", "SR",
        "UY", "VE", "GS",
    ],
    "Europe": [
        "AD", "AL", "AT", "AX", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE",
        "DK", "EE", "ES", "FI", "FO", "FR", "GB", "GG", "GI", "GR", "HR", "HU",
        "IE", "IM", "IS", "IT", "JE", "LI", "LT", "LU", "LV", "MC", "MD", "ME",
        "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SJ",
        "SK", "SM", "TR", "UA", "VA", "XK",
    ],
    "MiddleEast": [
        "AE", "BH", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA", "SA",
        "SY", "YE",
    ],
    "Asia": [
        "AF", "AM", "AZ", "BD", "BN", "BT", "CN", "GE", "HK", "ID", "IN", "IO",
        "JP", "KG", "KH", "KP", "KR", "KZ", "LA", "LK", "MM", "MN", "MO", "MV",
        "MY", "NP", "PH", "PK", "SG", "TH", "TJ", "TL", "TM", "TW", "UZ", "VN",
    ],
    "Oceania": [
        "AS", "AU", "CC", "CK", "CX", "FJ", "FM", "GU", "KI", "MH", "MP", "NC",
        "NF", "NR", "NU", "NZ", "PF", "PG", "PN", "PW", "SB", "TK", "TO", "TV",
        "UM", "VU", "WF", "WS",
    ],
    "Africa": [
        "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ",
        "DZ", "EG", "EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ", "GW", "KE",
        "KM", "LR", "LS", "LY", "MA", "MG", "ML", "MR", "MU", "MW", "MZ", "NA",
        "NE", "NG", "RE", "RW", "SC", "SD", "SH", "SL", "SN", "SO", "SS", "ST",
        "SZ", "TD", "TG", "TN", "TZ", "UG", "YT", "ZA", "ZM", "ZW",
    ],
    "Antarctica": ["AQ", "BV", "HM", "TF"],
}

NAME_SUFFIXES = [
    " International Airport",
    " Regional Airport",
    " Municipal Airport",
    " Air Force Station",
    " Air Force Base",
    " Air Base",
    " Airport",
    " Airfield",
    " Aerodrome",
    " Airstrip",
    " Heliport",
]


def country_regions() -> dict[str, str]:
    out: dict[str, str] = {}
    for region, countries in REGIONS.items():
        for cc in countries:
            if cc in out:
                sys.exit(f"country {cc} is in both {out[cc]} and {region}")
            out[cc] = region
    return out


def city_of(row: dict[str, str]) -> str:
    city = row["city"].strip()
    if city:
        return city
    name = row["name"].strip()
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)].strip()
    return name


def degrees(text: str, limit: int) -> str:
    """A coordinate as a Rust f64 literal, 5 decimals, trailing zeros dropped (always with
    a `.`); exits on a value out of range, so a bad row cannot reach the table."""
    value = round(float(text), 5)
    if not -limit <= value <= limit:
        sys.exit(f"coordinate {text} out of range")
    out = f"{value:.5f}".rstrip("0")
    out = out + "0" if out.endswith(".") else out
    return "0.0" if out in ("-0.0", "0.0") else out


def is_iata(code: str) -> bool:
    return len(code) == 3 and code.isascii() and code.isalpha() and code.isupper()


def rust_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    data_dir = Path(airportsdata.__file__).resolve().parent
    regions = country_regions()

    entries: dict[str, tuple[str, str, str, str]] = {}
    with (data_dir / "airports.csv").open(encoding="utf8", newline="") as f:
        for row in csv.DictReader(f):
            code = row["iata"].strip()
            if is_iata(code) and code not in entries:
                entries[code] = (city_of(row), row["country"].strip(), degrees(row["lat"], 90), degrees(row["lon"], 180))
    airports = len(entries)

    metros: dict[str, tuple[str, str, str, str] | None] = {}
    with (data_dir / "iata_macs.csv").open(encoding="utf8", newline="") as f:
        for row in csv.DictReader(f):
            code = row["City Code"].strip()
            if not is_iata(code) or code in entries:
                continue
            member = entries.get(row["Airport Code"].strip())
            if metros.get(code) is None:
                point = (member[2], member[3]) if member else None
                metros[code] = (row["City Name"].strip(), row["Country"].strip(), *point) if point else None
    no_point = sorted(code for code, e in metros.items() if e is None)
    if no_point:
        sys.exit(f"metropolitan-area codes {no_point} have no airport in the table to take a point from")
    entries.update(metros)
    metro = len(entries) - airports

    missing = sorted({e[1] for e in entries.values() if e[1] not in regions})
    if missing:
        sys.exit(f"no region for countries {missing}; add them to REGIONS")
    used = sorted({e[1] for e in entries.values()} | set(regions))

    lines = [
        "// @generated by tools/gen_airports.py; do not edit by hand.",
        f"// Source: airportsdata {airportsdata.__version__} (PyPI), https://github.com/mborsetti/airportsdata",
        f"// {airports} airports with an IATA code, plus {metro} IATA metropolitan-area codes.",
        "//",
    ]
    lines += ["// " + l if l else "//" for l in license_path(data_dir).read_text(encoding="utf8").splitlines()]
    lines += [
        "",
        "use super::geo::Region::{self, *};",
        "",
        "/// (IATA code, city, ISO 3166-1 alpha-2 country, region, latitude, longitude), sorted by",
        "/// code for binary search.",
        "pub(crate) static AIRPORTS: &[(&str, &str, &str, Region, f64, f64)] = &[",
    ]
    for code in sorted(entries):
        city, cc, lat, lon = entries[code]
        lines.append(f"    ({rust_str(code)}, {rust_str(city)}, {rust_str(cc)}, {regions[cc]}, {lat}, {lon}),")
    lines += [
        "];",
        "",
        "/// (ISO 3166-1 alpha-2 country, region), sorted by country for binary search.",
        "pub(crate) static COUNTRY_REGIONS: &[(&str, Region)] = &[",
    ]
    for cc in used:
        lines.append(f"    ({rust_str(cc)}, {regions[cc]}),")
    lines += ["];", ""]
    OUT.write_text("\n".join(lines), encoding="utf8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(entries)} codes, {len(used)} countries)")


def license_path(data_dir: Path) -> Path:
    # The licence ships in the wheel's dist-info, next to the package directory.
    for info in sorted(data_dir.parent.glob("airportsdata-*.dist-info")):
        for candidate in (info / "licenses" / "LICENSE", info / "LICENSE"):
            if candidate.is_file():
                return candidate
    sys.exit("airportsdata LICENSE not found in its dist-info")


if __name__ == "__main__":
    main()

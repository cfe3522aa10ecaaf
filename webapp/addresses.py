"""The council's gazetteer: every address in its area, with its UPRN (Unique Property Reference Number).

Loaded from a CSV by ``flask import-addresses`` (the council's local land and property gazetteer, or an
AddressBase extract), all or nothing. The find-an-address page (forms/_address.py) looks addresses up by postcode;
services keep the UPRN of the address chosen."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from webapp.extensions import db, request_memo
from webapp.geo import box_around, distance_metres, normalise_postcode, street_key
from webapp.imports import ImportFileError, read_rows
from webapp.models import Address

COLUMNS = ("uprn", "line1", "line2", "line3", "town", "postcode", "latitude", "longitude", "street")
REQUIRED = ("uprn", "line1", "town", "postcode")
BATCH = 5000
# How far from a map position the nearest address may be, to say which street a problem is on.
NEAREST_METRES = 400
# "12 Cardigan Road", "12A Cardigan Road", "12-14 Cardigan Road": the street after the number.
_NUMBERED = re.compile(r"^\d+[A-Za-z]?(?:\s*-\s*\d+[A-Za-z]?)?,?\s+(?P<street>\D.*)$")


class AddressFileError(ImportFileError):
    """An addresses file that cannot be imported; ``problems`` lists each bad line, and nothing was changed."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def street_of(lines: Iterable[str | None]) -> str | None:
    """The street an address is on, from its lines when the file does not say: the first line that starts with
    a house number, without it ("Flat 2", "12 Cardigan Road" -> "Cardigan Road")."""
    for line in lines:
        match = _NUMBERED.match((line or "").strip())
        if match:
            return match.group("street").strip()
    return None


def _coordinate(row: dict[str, str], name: str, low: float, high: float) -> float | None:
    raw = (row.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number in decimal degrees, not {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:g} and {high:g}, not {raw}")
    return value


def _row(row: dict[str, str]) -> dict[str, Any]:
    raw_uprn = (row.get("uprn") or "").strip()
    if not raw_uprn.isdigit() or len(raw_uprn) > 12:
        raise ValueError(f"uprn must be a number of up to 12 digits, not {raw_uprn!r}")
    text = {name: (row.get(name) or "").strip() for name in ("line1", "line2", "line3", "town", "street")}
    for name in ("line1", "town"):
        if not text[name]:
            raise ValueError(f"{name} is missing")
    too_long = [name for name, value in text.items() if len(value) > (100 if name == "town" else 200)]
    if too_long:
        raise ValueError(f"{too_long[0]} is too long")
    postcode = normalise_postcode(row.get("postcode"))
    if postcode is None:
        raise ValueError(f"postcode {row.get('postcode')!r} is not a UK postcode")
    latitude = _coordinate(row, "latitude", -90, 90)
    longitude = _coordinate(row, "longitude", -180, 180)
    if (latitude is None) != (longitude is None):
        raise ValueError("give both latitude and longitude, or neither")
    street = text["street"] or street_of((text["line1"], text["line2"], text["line3"]))
    return {
        "uprn": int(raw_uprn),
        "line1": text["line1"],
        "line2": text["line2"] or None,
        "line3": text["line3"] or None,
        "town": text["town"],
        "postcode": postcode,
        "street": street,
        "street_key": street_key(street),
        "latitude": latitude,
        "longitude": longitude,
    }


def read(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Every row of an addresses CSV, checked; AddressFileError naming each bad line if any is bad."""
    return read_rows(
        lines,
        required=REQUIRED,
        columns=COLUMNS,
        parse=_row,
        key=lambda row: row["uprn"],
        named=lambda uprn: f"UPRN {uprn}",
        error=AddressFileError,
    )


def import_csv(text: str) -> ImportResult:
    """Create or update addresses from the file (by UPRN), all or nothing, a batch of statements at a time rather
    than a row at a time: a city's gazetteer has hundreds of thousands. The caller commits."""
    rows = read(io.StringIO(text))
    result = ImportResult()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        known = set(db.session.scalars(select(Address.uprn).where(Address.uprn.in_([row["uprn"] for row in batch]))))
        new = [row for row in batch if row["uprn"] not in known]
        changed = [row for row in batch if row["uprn"] in known]
        if new:
            db.session.execute(insert(Address), new)
        if changed:
            db.session.execute(update(Address), changed)
        result.created += len(new)
        result.updated += len(changed)
    db.session.flush()
    return result


def _natural(address: Address) -> list[Any]:
    """Sort "2 Cardigan Road" before "10 Cardigan Road", and "Flat 2" before "Flat 10"."""
    text = " ".join(address.lines).lower()
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", text) if part]


def at_postcode(postcode: str | None) -> list[Address]:
    """The addresses at a postcode, in the order a person reads them (house numbers in number order). Looked up
    once a request: a journey's page conditions ask it again and again as the engine works out the pages."""
    normal = normalise_postcode(postcode)
    if normal is None:
        return []
    found = request_memo("addresses_at")
    if normal not in found:
        found[normal] = sorted(db.session.scalars(select(Address).where(Address.postcode == normal)), key=_natural)
    return list(found[normal])


def get(uprn: int | str | None) -> Address | None:
    try:
        return db.session.get(Address, int(uprn)) if uprn not in (None, "") else None
    except (TypeError, ValueError):
        return None


def nearest(latitude: float, longitude: float, within: float = NEAREST_METRES) -> Address | None:
    """The address on a street nearest a map position, within ``within`` metres: which street a problem reported by
    its position alone is on (a request over Open311 may give only that)."""
    south, west, north, east = box_around(latitude, longitude, within)
    closest = (
        select(Address)
        .where(
            Address.latitude.between(south, north),
            Address.longitude.between(west, east),
            Address.street.is_not(None),
        )
        .order_by(func.abs(Address.latitude - latitude) + func.abs(Address.longitude - longitude))
        .limit(20)
    )
    found = [
        (distance_metres(latitude, longitude, address.latitude, address.longitude), address)
        for address in db.session.scalars(closest)
    ]
    distance, address = min(found, key=lambda pair: pair[0], default=(None, None))
    return address if distance is not None and distance <= within else None


def on_street(street: str | None) -> Address | None:
    """An address on a street of that name (compared loosely), if the gazetteer has one."""
    key = street_key(street)
    if key is None:
        return None
    return db.session.scalars(select(Address).where(Address.street_key == key).limit(1)).first()


def locality(address: Address) -> str:
    """The area an address is in, as a report's "Town or area" says it: the last of its lines with no house number
    and no street in it ("Headingley"), else its town."""
    street = (address.street or "").lower()
    for line in reversed([line for line in (address.line1, address.line2, address.line3) if line]):
        if not any(ch.isdigit() for ch in line) and not (street and street in line.lower()):
            return line
    return address.town

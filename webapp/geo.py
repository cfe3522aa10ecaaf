"""Places: UK postcodes, distances, the council's area, and street names compared loosely."""

from __future__ import annotations

import math
import re

EARTH_RADIUS_METRES = 6_371_008.8
# The GOV.UK-recommended shape of a UK postcode (outward code, then inward code), plus GIR 0AA.
_POSTCODE = re.compile(r"^(GIR0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?[0-9][ABD-HJLNP-UW-Z]{2})$")
_STREET_ABBREVIATIONS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cres": "crescent",
    "pl": "place",
    "sq": "square",
    "ter": "terrace",
    "tce": "terrace",
    "gdns": "gardens",
    "cl": "close",
    "ct": "court",
}


def normalise_postcode(value: str | None) -> str | None:
    """``"sw1a1aa "`` -> ``"SW1A 1AA"``; None when it is not a UK postcode."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not _POSTCODE.match(compact):
        return None
    return f"{compact[:-3]} {compact[-3:]}"


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))


def box_around(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a box that holds every point within ``metres`` of the centre."""
    dlat = math.degrees(metres / EARTH_RADIUS_METRES)
    dlon = math.degrees(metres / (EARTH_RADIUS_METRES * max(math.cos(math.radians(lat)), 1e-6)))
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def in_box(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    south, west, north, east = box
    return south <= lat <= north and west <= lon <= east


def street_key(street: str | None) -> str | None:
    """A street name for comparison: case, punctuation and common abbreviations folded."""
    words = re.findall(r"[a-z0-9]+", (street or "").lower().replace("'", ""))
    key = " ".join(_STREET_ABBREVIATIONS.get(word, word) for word in words)
    return key or None


def area_key(area: str | None) -> str | None:
    """A town or area for comparison (routing rules, similar reports): ``" Little  woodhouse"`` and
    ``"Little Woodhouse"`` are the same place."""
    return " ".join((area or "").lower().split()) or None


def same_area(one: str | None, other: str | None) -> bool:
    """Two reports' areas are the same place when they match, or when either report did not name one."""
    one, other = area_key(one), area_key(other)
    return one is None or other is None or one == other

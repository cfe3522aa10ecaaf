from __future__ import annotations

import re

import pytest

from webapp import geo, submissions


def test_references_are_readable_and_unique():
    references = {submissions.new_reference("RP") for _ in range(5000)}
    assert len(references) == 5000
    for reference in list(references)[:200]:
        assert re.fullmatch(r"RP-[2-9A-HJKMNP-TX-Z]{4}-[2-9A-HJKMNP-TX-Z]{4}", reference)
    assert not set("01ILOUVW") & set("".join(references).replace("RP-", "").replace("-", ""))


@pytest.mark.parametrize("typed", ["rp-7k3f-9qx2", "RP 7K3F 9QX2", " rp7k3f9qx2 "])
def test_references_are_read_as_typed(typed):
    assert submissions.normalise_reference(typed) == "RP-7K3F-9QX2"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ls1 6hd", "LS1 6HD"),
        ("SW1A1AA", "SW1A 1AA"),
        ("m1 1ae", "M1 1AE"),
        ("GIR 0AA", "GIR 0AA"),
        ("LS1", None),
        ("12345", None),
        ("", None),
        ("QQ1 1QQ", None),
    ],
)
def test_postcodes(typed, expected):
    assert geo.normalise_postcode(typed) == expected


def test_distances_and_boxes():
    # About 111 metres per 0.001 degrees of latitude.
    assert 110 < geo.distance_metres(53.7975, -1.542, 53.7985, -1.542) < 112
    south, west, north, east = geo.box_around(53.7975, -1.542, 50)
    assert geo.distance_metres(53.7975, -1.542, north, -1.542) == pytest.approx(50, rel=0.01)
    assert geo.distance_metres(53.7975, -1.542, 53.7975, east) == pytest.approx(50, rel=0.01)
    assert geo.in_box(53.8, -1.5, (53.69, -1.80, 53.95, -1.29))
    assert not geo.in_box(51.5, -0.12, (53.69, -1.80, 53.95, -1.29))


def test_street_keys_fold_case_punctuation_and_abbreviations():
    assert geo.street_key("St. John's Rd") == geo.street_key("st johns road") == "street johns road"
    assert geo.street_key("  ") is None

"""The council's gazetteer (flask import-addresses) and the GOV.UK "find an address" pages, walked through the
care assessment request, which asks for an address with them."""

from __future__ import annotations

import pytest
from factories import load_addresses
from journey_helpers import walk_service

from webapp import addresses
from webapp.extensions import db
from webapp.models import Address

BASE = "/services/ask-for-a-care-assessment"
TO_ADDRESS = {
    "in-danger": {"danger": "no"},
    "who-for": {"who": "me"},
    "full-name": {"name": "Pat Example"},
    "date-of-birth": {"date_of_birth": ["2", "3", "1947"]},
}


@pytest.fixture
def gazetteer(app_ctx):
    load_addresses()


def at_address_page(resident) -> str:
    return walk_service(resident, BASE, TO_ADDRESS, stop_before="find-their-address")


def test_import_loads_and_updates_by_uprn(app_ctx):
    result = addresses.import_csv(
        "uprn,line1,line2,line3,town,postcode,latitude,longitude\n"
        "100,12 Cardigan Road,Headingley,,Leeds,ls6 3ae,53.8,-1.57\n"
        "101,Flat 2,14 Cardigan Road,,Leeds,LS6 3AE,,\n"
    )
    db.session.commit()
    assert (result.created, result.updated) == (2, 0)
    flat = db.session.get(Address, 101)
    assert (flat.postcode, flat.street, flat.street_key, flat.latitude) == (
        "LS6 3AE",
        "Cardigan Road",
        "cardigan road",
        None,
    )
    again = addresses.import_csv("uprn,line1,town,postcode\n100,12A Cardigan Road,Leeds,LS6 3AE\n")
    db.session.commit()
    assert (again.created, again.updated) == (0, 1)
    assert db.session.get(Address, 100).line1 == "12A Cardigan Road"
    assert db.session.query(Address).count() == 2


def test_a_bad_file_imports_nothing_and_names_each_bad_line(app_ctx):
    with pytest.raises(addresses.AddressFileError) as error:
        addresses.import_csv(
            "uprn,line1,town,postcode,latitude,longitude\n"
            "1,1 Good Street,Leeds,LS1 1AA,,\n"
            "x2,2 Bad Street,Leeds,LS1 1AA,,\n"
            "3,3 Bad Street,Leeds,NOT A POSTCODE,,\n"
            "4,,Leeds,LS1 1AA,,\n"
            "5,5 Bad Street,Leeds,LS1 1AA,53.8,\n"
            "1,1 Again Street,Leeds,LS1 1AA,,\n"
        )
    assert error.value.problems == [
        "Line 3: uprn must be a number of up to 12 digits, not 'x2'",
        "Line 4: postcode 'NOT A POSTCODE' is not a UK postcode",
        "Line 5: line1 is missing",
        "Line 6: give both latitude and longitude, or neither",
        "Line 7: UPRN 1 is also on line 2",
    ]
    assert db.session.query(Address).count() == 0
    with pytest.raises(addresses.AddressFileError, match="no uprn column"):
        addresses.import_csv("line1,town,postcode\n1 Street,Leeds,LS1 1AA\n")


def test_the_cli_imports_a_file(app, tmp_path):
    path = tmp_path / "gazetteer.csv"
    path.write_text("uprn,line1,town,postcode\n7,7 Park Lane,Leeds,LS3 1EP\n")
    result = app.test_cli_runner().invoke(args=["import-addresses", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 1 new addresses and updated 0." in result.output
    path.write_text("uprn,line1,town,postcode\nseven,7 Park Lane,Leeds,LS3 1EP\n")
    result = app.test_cli_runner().invoke(args=["import-addresses", str(path)])
    assert result.exit_code == 1 and "Nothing was imported" in result.output and "Line 2: uprn" in result.output


def test_addresses_at_a_postcode_come_in_the_order_people_read_them(gazetteer):
    found = [address.line1 for address in addresses.at_postcode("ls63ae")]
    assert found == [
        "1 Cardigan Road",
        "3 Cardigan Road",
        "5 Cardigan Road",
        "7 Cardigan Road",
        "9 Cardigan Road",
        "11 Cardigan Road",
        "Flat 1",
        "Flat 2",
    ]
    assert addresses.at_postcode("not a postcode") == []


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ({"postcode": ""}, "Enter a postcode"),
        ({"postcode": "LS6"}, "Enter a full UK postcode, like LS6 3AE"),
        ({"postcode": "LS6 3AE", "building": "x" * 101}, "Building number or name must be 100 characters or fewer"),
    ],
)
def test_the_postcode_page_says_what_is_wrong_and_keeps_what_was_typed(resident, gazetteer, typed, error):
    page = resident.post(at_address_page(resident), typed, expected=400)
    assert page.errors() == [error]
    assert page.soup.find("input", {"name": "postcode"}).get("value", "") == typed["postcode"]


def test_choose_from_the_list_keeps_the_uprn(resident, gazetteer):
    location = resident.post(at_address_page(resident), {"postcode": "ls6 3ae", "find": "Find address"}).location
    assert location.endswith("/choose-their-address")
    page = resident.get(location)
    assert page.h1 == "Select the address"
    assert "8 addresses found for LS6 3AE" in page.text
    assert len(page.soup.select("input[name=uprn]")) == 8
    assert resident.post(location, {}, expected=400).errors() == ["Select the address"]
    assert resident.post(location, {"uprn": "99999"}, expected=400).errors() == ["Select the address"]
    assert resident.post(location, {"uprn": "72001003"}).location.endswith("/contact-details")


def test_the_building_narrows_the_list(resident, gazetteer):
    location = resident.post(at_address_page(resident), {"postcode": "LS6 3AE", "building": "flat"}).location
    page = resident.get(location)
    assert [label.get_text(strip=True) for label in page.soup.select(".govuk-radios__label")] == [
        "Flat 1, 15 Cardigan Road, Headingley, Leeds, LS6 3AE",
        "Flat 2, 15 Cardigan Road, Headingley, Leeds, LS6 3AE",
    ]
    assert "and ‘flat’" in page.text


def test_an_address_not_listed_is_typed_in(resident, gazetteer):
    location = resident.post(at_address_page(resident), {"postcode": "LS6 3AE"}).location
    location = resident.post(location, {"manual": "The address is not listed"}).location
    assert location.endswith("/enter-their-address")
    page = resident.get(location)
    assert page.soup.find("input", {"name": "postcode"})["value"] == "LS6 3AE"
    errors = resident.post(location, {"postcode": "LS6 3AE"}, expected=400).errors()
    assert errors == ["Enter address line 1, typically the building and street", "Enter town or city"]
    errors = resident.post(
        location, {"line1": "17 Cardigan Road", "town": "Leeds", "postcode": "L"}, expected=400
    ).errors()
    assert errors == ["Enter a full UK postcode, like LS6 3AE"]
    assert resident.post(
        location, {"line1": "17 Cardigan Road", "town": "Leeds", "postcode": "ls63ae"}
    ).location.endswith("/contact-details")


def test_a_postcode_with_no_addresses_goes_straight_to_typing_it(resident, gazetteer):
    location = resident.post(at_address_page(resident), {"postcode": "LS99 9ZZ"}).location
    assert location.endswith("/enter-their-address")
    assert "We could not find an address at LS99 9ZZ in our list." in resident.get(location).text


def test_the_address_can_be_typed_without_a_postcode_search(resident, gazetteer):
    location = resident.post(at_address_page(resident), {"manual": "Enter the address manually"}).location
    assert location.endswith("/enter-their-address")
    assert "We could not find" not in resident.get(location).text


def test_a_new_postcode_asks_for_the_address_again(resident, gazetteer):
    find = at_address_page(resident)
    resident.post(resident.post(find, {"postcode": "LS6 3AE"}).location, {"uprn": "72001001"})
    location = resident.post(find + "?change=1", {"postcode": "LS3 1EP"}).location
    assert location.endswith("/choose-their-address?change=1")
    assert "4 addresses found for LS3 1EP" in resident.get(location).text

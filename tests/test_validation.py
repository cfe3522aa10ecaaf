"""Bad input gets a GOV.UK error message, keeps what was typed, and never a stack trace."""

from __future__ import annotations

import pytest

from tests.journey_helpers import DEFAULTS, url, walk


def answer_up_to(resident, page: str) -> None:
    assert walk(resident, stop_before=page).endswith(page)


def post_invalid(resident, page: str, data: dict):
    response = resident.post(url(page), data, expected=400)
    assert response.title.startswith("Error: ")
    assert response.soup.select_one(".govuk-error-summary") is not None
    return response


def test_category_is_required(resident):
    answer_up_to(resident, "what-is-the-problem")
    response = post_invalid(resident, "what-is-the-problem", {})
    assert response.errors() == ["Select what the problem is"]
    assert response.soup.select_one(".govuk-error-summary a")["href"] == "#category"
    message = response.soup.select_one(".govuk-error-message").get_text(" ", strip=True)
    assert message == "Error: Select what the problem is"


def test_a_made_up_category_is_refused(resident):
    answer_up_to(resident, "what-is-the-problem")
    response = post_invalid(resident, "what-is-the-problem", {"category": "<script>"})
    assert response.errors() == ["Not a valid choice."] or response.errors()[0].startswith("Not a valid choice")


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"street": "", "area": ""}, ["Enter the street name", "Enter the town or area"]),
        ({"postcode": "NOT A POSTCODE"}, ["Enter a real postcode, like LS1 1UR"]),
        ({"latitude": "53.8"}, ["Enter the longitude, or remove the latitude"]),
        ({"latitude": "north", "longitude": "-1.5"}, ["Latitude must be a number, like 53.7997"]),
        ({"latitude": "53.8", "longitude": "west"}, ["Longitude must be a number, like -1.5492"]),
        ({"latitude": "95", "longitude": "-1.5"}, ["Latitude must be between -90 and 90"]),
        (
            {"latitude": "51.5007", "longitude": "-0.1246"},
            ["The map coordinates must be inside the Example City Council area"],
        ),
        ({"street": "x" * 201}, ["Street name must be 200 characters or fewer"]),
    ],
)
def test_location_errors(resident, changes, errors):
    answer_up_to(resident, "where-is-it")
    data = {**DEFAULTS["where-is-it"], **changes}
    response = post_invalid(resident, "where-is-it", data)
    assert response.errors() == errors
    # What the resident typed is still there.
    for name in ("street", "landmark", "latitude"):
        assert response.soup.find("input", attrs={"name": name})["value"] == data[name]
    postcode = response.soup.find("input", attrs={"name": "postcode"})["value"]
    assert postcode.replace(" ", "").upper() == data["postcode"].replace(" ", "").upper()


def test_a_valid_position_and_postcode_are_stored_in_standard_form(resident, app_ctx):
    answer_up_to(resident, "where-is-it")
    data = {**DEFAULTS["where-is-it"], "postcode": " ls16hd", "latitude": "53.79971234", "longitude": "-1.5492"}
    resident.post(url("where-is-it"), data)
    page = resident.get(url("where-is-it"))
    assert page.soup.find("input", attrs={"name": "postcode"})["value"] == "LS1 6HD"
    assert page.soup.find("input", attrs={"name": "latitude"})["value"] == "53.799712"


def test_description_is_required_and_limited(resident):
    answer_up_to(resident, "describe-it")
    assert post_invalid(resident, "describe-it", {"description": "   "}).errors() == [
        "Enter a description of the problem"
    ]
    response = post_invalid(resident, "describe-it", {"description": "a" * 1001})
    assert response.errors() == ["Description must be 1000 characters or fewer"]
    assert response.soup.find("textarea").get_text() == "a" * 1001


def test_pothole_details_are_required(resident):
    answer_up_to(resident, "pothole-details")
    response = post_invalid(resident, "pothole-details", {"size": "small"})
    assert response.errors() == ["Select where the pothole is"]
    assert response.soup.find("input", attrs={"name": "size", "value": "small"}).has_attr("checked")


def test_contact_choice_is_required(resident):
    answer_up_to(resident, "get-updates")
    assert post_invalid(resident, "get-updates", {}).errors() == ["Select if you want to get updates about this report"]


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": "", "email": ""}, ["Enter your full name", "Enter your email address"]),
        ({"email": "not-an-email"}, ["Enter an email address in the correct format, like name@example.com"]),
        ({"phone": "call me"}, ["Enter a phone number, like 01632 960 001 or +44 808 157 0192"]),
        ({"phone": "123"}, ["Enter a phone number, like 01632 960 001 or +44 808 157 0192"]),
    ],
)
def test_details_errors(resident, changes, errors):
    answer_up_to(resident, "your-details")
    response = post_invalid(resident, "your-details", {**DEFAULTS["your-details"], **changes})
    assert response.errors() == errors


def test_single_question_pages_use_the_question_as_the_heading(resident):
    answer_up_to(resident, "what-is-the-problem")
    page = resident.get(url("what-is-the-problem"))
    legend = page.soup.select_one("legend.govuk-fieldset__legend--l h1")
    assert legend.get_text(strip=True) == "What is the problem?"
    assert page.title == "What is the problem? - Report a pothole or other road problem - Example City Council"
    assert page.soup.find("form")["novalidate"] is not None

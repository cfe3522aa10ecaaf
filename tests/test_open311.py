"""Open311 GeoReport v2 at /open311/v2/: every endpoint in XML and JSON, every error, the filters and the date
window, and FixMyStreet's own client (tests/fixmystreet_client.py, a port of its perllib/Open311.pm) sending
reports and updates and reading what comes back."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select

from tests import fixmystreet_client as fms
from tests.factories import create_staff, create_submission, load_addresses
from tests.staff_helpers import sign_in
from tests.test_exports import export
from webapp import api, cases, service_levels, working_days
from webapp.extensions import db
from webapp.models import AuditEvent, CaseEvent, Follower, Notification, Status, Submission, UpdatesBy, utcnow
from webapp.open311 import reads

BASE = "/open311/v2/"
# A point on Cardigan Road, Headingley, a few metres from the demo gazetteer's addresses there.
ON_CARDIGAN_ROAD = (53.818, -1.5763)
POTHOLE = {
    "service_code": "pothole",
    "lat": "53.818",
    "long": "-1.5763",
    "description": "A deep pothole by the bus stop",
    "first_name": "Ann",
    "last_name": "Other",
    "email": "ann@example.com",
    "phone": "01632 960 001",
    "attribute[size]": "large",
    "attribute[position]": "road",
}


@pytest.fixture
def open311_key(app_ctx) -> str:
    load_addresses()
    return api.create_client("FixMyStreet", [], open311=True)[1]


def get(app, path: str, **params):
    return app.test_client().get(BASE + path, query_string=params)


def post(app, path: str, data: dict):
    return app.test_client().post(BASE + path, data=data)


def xml_of(response) -> ElementTree.Element:
    body = response.get_data()
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert response.content_type == "text/xml; charset=utf-8"
    return ElementTree.fromstring(body)


def json_of(response):
    assert response.content_type == "application/json; charset=utf-8"
    return json.loads(response.get_data(as_text=True))


def errors_of(response, fmt: str) -> list[tuple[int, str]]:
    if fmt == "json":
        return [(item["code"], item["description"]) for item in json_of(response)]
    root = xml_of(response)
    assert root.tag == "errors"
    return [(int(error.findtext("code")), error.findtext("description")) for error in root.findall("error")]


def assert_error(response, fmt: str, status: int, words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    found = errors_of(response, fmt)
    assert found and all(code == status for code, _ in found)
    assert any(words in description for _, description in found), found


def send(app, key: str, fmt: str = "xml", **changes) -> Submission:
    data = {**POTHOLE, "api_key": key, **changes}
    response = post(app, f"requests.{fmt}", {name: value for name, value in data.items() if value is not None})
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        reference = json_of(response)[0]["service_request_id"]
    else:
        reference = xml_of(response).findtext("request/service_request_id")
    return db.session.scalar(select(Submission).where(Submission.reference == reference))


def report(**overrides) -> Submission:
    """A street report made on the website."""
    values = {
        "description": "Hole in the road",
        "latitude": ON_CARDIGAN_ROAD[0],
        "longitude": ON_CARDIGAN_ROAD[1],
        "street": "Cardigan Road",
        "area": "Headingley",
        "contact_name": "Rita Resident",
        "contact_email": "rita@example.com",
        "contact_phone": "07700 900123",
    }
    return create_submission(**(values | overrides))


# Discovery and services -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_discovery_names_the_endpoint_and_its_formats(app_ctx, fmt):
    response = get(app_ctx, f"discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        endpoint = xml_of(response).find("endpoints/endpoint")
        assert endpoint.findtext("url") == "http://localhost/open311/v2"
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert [item.text for item in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
        assert endpoint.findtext("type") == "production"
    else:
        found = json_of(response)
        assert found["endpoints"][0]["formats"] == ["text/xml", "application/json"]
        assert found["max_requests"] == 1000


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_services_are_the_street_problem_categories(app_ctx, fmt):
    response = get(app_ctx, f"services.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        services = [{child.tag: child.text for child in service} for service in xml_of(response).findall("service")]
    else:
        services = json_of(response)
    assert [service["service_code"] for service in services] == [
        "pothole",
        "damaged-pavement",
        "street-light",
        "blocked-drain",
        "fly-tipping",
    ]
    pothole = services[0]
    assert pothole["service_name"] == "Pothole"
    assert pothole["group"] == "Roads, streets and pavements"
    assert pothole["type"] == "realtime"
    assert "road surface" in pothole["keywords"].split(",")
    # Only the pothole has questions of its own beyond the request's fields.
    assert [service["metadata"] in (True, "true") for service in services] == [True, False, False, False, False]
    # No other service (a care assessment, a parking fine) is offered.
    assert not any("care" in (service["service_name"] or "").lower() for service in services)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_the_pothole_definition_has_the_pages_questions_as_attributes(app_ctx, fmt):
    response = get(app_ctx, f"services/pothole.{fmt}")
    assert response.status_code == 200
    if fmt == "xml":
        root = xml_of(response)
        assert root.tag == "service_definition"
        attributes = [
            {
                **{child.tag: child.text for child in attribute if child.tag != "values"},
                "values": [
                    (value.findtext("key"), value.findtext("name")) for value in attribute.findall("values/value")
                ],
            }
            for attribute in root.findall("attributes/attribute")
        ]
        assert root.findtext("service_code") == "pothole"
    else:
        found = json_of(response)
        assert found["service_code"] == "pothole"
        attributes = [
            {**attribute, "values": [(value["key"], value["name"]) for value in attribute["values"]]}
            for attribute in found["attributes"]
        ]
    assert [attribute["code"] for attribute in attributes] == ["size", "position"]
    size = attributes[0]
    assert size["datatype"] == "singlevaluelist"
    assert str(size["required"]).lower() == "true" and str(size["variable"]).lower() == "true"
    assert str(size["order"]) == "1" and str(attributes[1]["order"]) == "2"
    assert size["description"] == "About how big is the pothole?"
    assert size["values"] == [
        ("small", "Smaller than a dinner plate"),
        ("medium", "Between a dinner plate and a car tyre"),
        ("large", "Larger than a car tyre"),
    ]


def test_a_category_without_questions_has_no_attributes(app_ctx):
    assert json_of(get(app_ctx, "services/street-light.json")) == {"service_code": "street-light", "attributes": []}


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_an_unknown_service_is_404(app_ctx, fmt):
    assert_error(get(app_ctx, f"services/ask-for-a-care-assessment.{fmt}"), fmt, 404, "not one of the services")


@pytest.mark.parametrize("path", ["services.csv", "nothing.json", "requests/RP-AAAA-AAAA.html", "discovery"])
def test_paths_nobody_answers_are_404_in_open311s_shape(app_ctx, path):
    response = get(app_ctx, path)
    assert response.status_code == 404
    fmt = "json" if path.endswith(".json") else "xml"
    assert errors_of(response, fmt)[0][0] == 404


def test_a_method_not_allowed_is_answered_in_open311s_shape(app_ctx):
    response = app_ctx.test_client().delete(BASE + "requests.json")
    assert response.status_code == 405
    assert errors_of(response, "json")[0][0] == 405


# Sending a request ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_request_is_filed_routed_and_recorded_as_from_its_client(app_ctx, open311_key, fmt):
    submission = send(app_ctx, open311_key, fmt)
    assert submission.status == Status.RECEIVED
    assert submission.queue.slug == "highways"
    assert submission.routing_rule.name == "Potholes to Highways"
    assert submission.channel == "open311"
    assert submission.api_client.name == "FixMyStreet"
    assert (submission.street, submission.area) == ("Cardigan Road", "Headingley")
    assert (submission.latitude, submission.longitude) == ON_CARDIGAN_ROAD
    assert submission.description == "A deep pothole by the bus stop"
    assert submission.answers["pothole-details"] == {"size": "large", "position": "road"}
    assert (submission.contact_name, submission.contact_email) == ("Ann Other", "ann@example.com")
    assert submission.contact_phone == "01632 960 001"
    # FixMyStreet tells its own user: we do not write to them as well.
    assert submission.updates_by == UpdatesBy.SENDER
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    (submitted,) = [event for event in submission.events if event.kind == "submitted"]
    assert submitted.actor_kind == "api_client" and submitted.api_client.name == "FixMyStreet"
    assert submitted.data["queue"] == "highways"


def test_the_answer_gives_the_id_and_what_happens_next(app_ctx, open311_key):
    response = post(app_ctx, "requests.xml", {**POTHOLE, "api_key": open311_key})
    request = xml_of(response).find("request")
    assert request.findtext("service_request_id").startswith("RP-")
    assert request.findtext("service_notice").startswith("Sent to Highways. We'll check your report")


def test_staff_see_an_open311_report_in_their_queue_with_its_client(app_ctx, open311_key, resident):
    submission = send(app_ctx, open311_key, media_url="https://fixmystreet.example/photo/1.jpeg")
    caseworker = create_staff("caseworker", ("highways",))
    sign_in(resident, caseworker)
    queue = resident.get("/staff/queues/highways")
    assert submission.reference in queue.text
    page = resident.get(f"/staff/cases/{submission.reference}")
    assert "Open311, from FixMyStreet" in page.text
    assert "From the system that sent it" in page.text
    photo = page.soup.find("a", string="Photo 1 (opens in new tab)")
    assert photo["href"] == "https://fixmystreet.example/photo/1.jpeg"
    assert "by FixMyStreet, over Open311" in page.text


def test_a_street_light_needs_no_attributes_and_goes_to_street_lighting(app_ctx, open311_key):
    submission = send(
        app_ctx, open311_key, service_code="street-light", **{"attribute[size]": None, "attribute[position]": None}
    )
    assert submission.queue.slug == "street-lighting"
    assert "pothole-details" not in submission.answers


def test_an_anonymous_request_keeps_no_contact(app_ctx, open311_key):
    submission = send(app_ctx, open311_key, email=None, first_name=None, last_name=None, phone=None)
    assert submission.contact_email is None and submission.contact_name is None
    assert submission.answers["get-updates"] == {"contact": "anonymous"}


def test_address_string_alone_says_where(app_ctx, open311_key):
    submission = send(app_ctx, open311_key, lat=None, long=None, address_string="12 Cardigan Road, Headingley")
    assert (submission.street, submission.area, submission.latitude) == ("Cardigan Road", "Headingley", None)
    assert submission.answers["where-is-it"]["landmark"] == "12 Cardigan Road, Headingley"


def test_a_postcode_alone_is_placed_by_the_gazetteer(app_ctx, open311_key):
    submission = send(app_ctx, open311_key, lat=None, long=None, address_string="ls6 3ae")
    assert (submission.street, submission.area, submission.postcode) == ("Cardigan Road", "Headingley", "LS6 3AE")
    assert submission.latitude is not None


def test_an_open311_report_is_checked_against_nearby_reports_by_its_sender_not_here(app_ctx, open311_key):
    original = report()
    submission = send(app_ctx, open311_key)
    assert submission.id != original.id
    assert submission.answers["similar-reports"]["duplicate_of"] == "none"


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("key", "words"),
    [(None, "send your API key"), ("ctw_nothing_wrong", "not valid"), ("", "send your API key")],
)
def test_sending_needs_a_key(app_ctx, open311_key, fmt, key, words):
    data = {**POTHOLE} | ({"api_key": key} if key is not None else {})
    assert_error(post(app_ctx, f"requests.{fmt}", data), fmt, 403, words)
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_revoked_key_or_one_without_open311_cannot_send(app_ctx, open311_key, fmt):
    export_only = api.create_client("Asset system", ["highways"])[1]
    assert_error(post(app_ctx, f"requests.{fmt}", {**POTHOLE, "api_key": export_only}), fmt, 403, "may not send")
    api.revoke_client("FixMyStreet")
    assert_error(post(app_ctx, f"requests.{fmt}", {**POTHOLE, "api_key": open311_key}), fmt, 403, "revoked")


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"service_code": None}, 400, "service_code: send the code"),
        ({"service_code": "care"}, 404, "service_code: care is not one of the services"),
        ({"lat": None, "long": None}, 400, "say where the problem is"),
        ({"lat": "51.5", "long": "-0.12"}, 400, "lat: The map coordinates must be inside the Example City Council"),
        ({"lat": "north", "long": "-1.5763"}, 400, "lat:"),
        ({"lat": "53.818", "long": None}, 400, "long:"),
        ({"description": ""}, 400, "description: Enter a description of the problem"),
        ({"description": "x" * 1001}, 400, "description: Description must be 1000 characters or fewer"),
        ({"attribute[size]": None}, 400, "attribute[size]: Select about how big the pothole is"),
        ({"attribute[size]": "enormous"}, 400, "Send one of: small, medium, large"),
        ({"email": "not an email"}, 400, "email: Enter an email address in the correct format"),
        ({"first_name": "", "last_name": ""}, 400, "first_name and last_name: Enter your full name"),
        ({"phone": "call me"}, 400, "phone: Enter a phone number"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url: javascript:alert(1) is not a web address"),
        ({"lat": None, "long": None, "address_string": "Nowhere"}, 400, "Enter the town or area"),
        ({"lat": "53.90", "long": "-1.70"}, 400, "Enter the street name"),
        ({"jurisdiction_id": "elsewhere.gov.uk"}, 404, "jurisdiction_id: elsewhere.gov.uk is not served here"),
        ({"attribute[size]": "x" * 3000}, 400, "attribute[size]: this is too long"),
    ],
)
def test_bad_requests_are_refused_with_open311_errors(app_ctx, open311_key, fmt, changes, status, words, app):
    app.config["OPEN311_JURISDICTION_ID"] = "example.gov.uk"
    data = {name: value for name, value in ({**POTHOLE, "api_key": open311_key} | changes).items() if value is not None}
    assert_error(post(app_ctx, f"requests.{fmt}", data), fmt, status, words)
    assert db.session.scalar(select(func.count()).select_from(Submission)) == 0


def test_every_error_is_listed_at_once(app_ctx, open311_key):
    data = {**POTHOLE, "api_key": open311_key, "description": "", "attribute[size]": "", "attribute[position]": "x"}
    described = [description for _, description in errors_of(post(app_ctx, "requests.json", data), "json")]
    assert [text.split(":")[0] for text in described] == ["description", "attribute[size]", "attribute[position]"]


def test_the_configured_jurisdiction_is_accepted(app_ctx, open311_key, app):
    app.config["OPEN311_JURISDICTION_ID"] = "example.gov.uk"
    assert send(app_ctx, open311_key, jurisdiction_id="example.gov.uk").queue.slug == "highways"


def test_the_same_rules_as_the_website_reach_the_same_queue(app_ctx, open311_key):
    for code, queue in [("fly-tipping", "environmental-services"), ("blocked-drain", "highways")]:
        assert send(app_ctx, open311_key, service_code=code).queue.slug == queue


# Reading requests -------------------------------------------------------------------------------------


def read(app, path: str, member: str, fmt: str, **params) -> list[dict]:
    """A list answer's members, as dicts of their fields, from either format."""
    response = get(app, f"{path}.{fmt}", **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        return json_of(response)
    return [{child.tag: child.text or "" for child in item} for item in xml_of(response).findall(member)]


def listed(app, fmt: str = "json", **params) -> list[dict]:
    return read(app, "requests", "request", fmt, **params)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_request_reads_back_without_the_reporters_details(app_ctx, open311_key, fmt):
    submission = send(app_ctx, open311_key)
    (found,) = listed(app_ctx, fmt)
    assert found["service_request_id"] == submission.reference
    assert found["status"] == "open"
    assert found["service_code"] == "pothole" and found["service_name"] == "Pothole"
    assert found["description"] == "A deep pothole by the bus stop"
    assert found["agency_responsible"] == "Highways"
    assert found["address"] == "Cardigan Road, Headingley"
    assert float(found["lat"]) == ON_CARDIGAN_ROAD[0] and float(found["long"]) == ON_CARDIGAN_ROAD[1]
    assert found["requested_datetime"].endswith("+00:00")
    assert set(found) >= {"status_notes", "updated_datetime", "zipcode", "media_url", "service_notice"}
    # Its service level: a pothole is due 5 working days after it came in, by the end of that UK day.
    due = submission.due_on
    assert due == working_days.add(service_levels.uk_date(submission.received_at), 5)
    assert found["expected_datetime"].startswith(f"{due.isoformat()}T23:59:59")
    body = get(app_ctx, f"requests.{fmt}").get_data(as_text=True)
    for personal in ("ann@example.com", "Other", "01632"):
        assert personal not in body


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_one_request_by_its_id(app_ctx, open311_key, fmt):
    submission = send(app_ctx, open311_key)
    response = get(app_ctx, f"requests/{submission.reference}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert [item["service_request_id"] for item in json_of(response)] == [submission.reference]
    else:
        assert xml_of(response).findtext("request/service_request_id") == submission.reference
    assert_error(get(app_ctx, f"requests/RP-2222-2222.{fmt}"), fmt, 404, "there is no request RP-2222-2222")


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_tokens_answer_with_the_request_id(app_ctx, open311_key, fmt):
    submission = send(app_ctx, open311_key)
    response = get(app_ctx, f"tokens/{submission.reference}.{fmt}")
    if fmt == "json":
        assert json_of(response)[0]["service_request_id"] == submission.reference
    else:
        assert xml_of(response).findtext("request/service_request_id") == submission.reference
    assert_error(get(app_ctx, f"tokens/nothing.{fmt}"), fmt, 404, "there is no request")


def test_other_services_and_withdrawn_reports_are_never_read(app_ctx):
    care = create_submission(
        service_slug="ask-for-a-care-assessment",
        category=None,
        classification="OFFICIAL-SENSITIVE",
        description="Private",
    )
    withdrawn = report(status=Status.WITHDRAWN)
    awaiting = report(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    shown = report()
    assert [found["service_request_id"] for found in listed(app_ctx)] == [shown.reference]
    for hidden in (care, withdrawn, awaiting):
        assert get(app_ctx, f"requests/{hidden.reference}.json").status_code == 404
    ids = ",".join(item.reference for item in (care, withdrawn, awaiting, shown))
    assert [found["service_request_id"] for found in listed(app_ctx, service_request_id=ids)] == [shown.reference]


def test_the_filters(app_ctx):
    now = utcnow()
    light = report(category="street-light", created_at=now - timedelta(days=2))
    fixed = report(status=Status.RESOLVED, created_at=now - timedelta(days=3))
    old = report(created_at=now - timedelta(days=100))
    new = report(created_at=now - timedelta(hours=1))

    def ids(**params) -> list[str]:
        return [found["service_request_id"] for found in listed(app_ctx, **params)]

    # The last 90 days by default, newest first.
    assert ids() == [new.reference, light.reference, fixed.reference]
    assert ids(status="closed") == [fixed.reference]
    assert ids(status="open") == [new.reference, light.reference]
    assert ids(status="open,closed") == [new.reference, light.reference, fixed.reference]
    assert ids(service_code="street-light") == [light.reference]
    assert ids(service_code="street-light,pothole", status="closed") == [fixed.reference]
    day = timedelta(days=1)
    assert ids(start_date=(now - 110 * day).isoformat(), end_date=(now - 95 * day).isoformat()) == [old.reference]
    assert ids(start_date=(now - 2.5 * day).strftime("%Y-%m-%dT%H:%M:%SZ")) == [new.reference, light.reference]
    assert ids(end_date=(now - 2.5 * day).isoformat()) == [fixed.reference]
    assert ids(end_date=(now - 3 * day).date().isoformat()) == [fixed.reference]
    # An id list overrides every other filter.
    assert ids(service_request_id=f"{old.reference},{light.reference}", status="closed") == [
        light.reference,
        old.reference,
    ]
    assert ids(service_request_id=old.reference.lower().replace("-", "")) == [old.reference]


def test_the_status_notes_are_the_latest_public_update(app_ctx):
    submission = report()
    caseworker = create_staff("caseworker", ("highways",))
    cases.update_case(submission, "Inspected: we will fill it this week", caseworker, Status.IN_PROGRESS)
    cases.add_note(submission, "Internal: crew 4", caseworker)
    (found,) = listed(app_ctx)
    assert found["status_notes"] == "Inspected: we will fill it this week"


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"start_date": "yesterday"}, 400, "start_date: yesterday is not a W3C date"),
        ({"end_date": "2026-13-01"}, 400, "end_date:"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400, "more than 90 days"),
        ({"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}, 400, "must be after"),
        ({"status": "fixed"}, 400, "status: send open, closed"),
        ({"service_code": "pothole,care"}, 404, "care is not one of the services"),
        ({"service_request_id": ",".join(["RP-2222-2222"] * 1001)}, 400, "at most 1,000"),
    ],
)
def test_bad_filters_are_refused(app_ctx, fmt, params, status, words):
    assert_error(get(app_ctx, f"requests.{fmt}", **params), fmt, status, words)


def test_at_most_the_limit_newest_first(app_ctx, monkeypatch):
    monkeypatch.setattr(reads, "LIMIT", 3)
    now = utcnow()
    made = [report(created_at=now - timedelta(hours=hours)) for hours in range(5)]
    assert [found["service_request_id"] for found in listed(app_ctx)] == [item.reference for item in made[:3]]


# Updates ---------------------------------------------------------------------------------------------


def updates(app, fmt: str = "json", **params) -> list[dict]:
    return read(app, "servicerequestupdates", "request_update", fmt, **params)


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_staff_public_update_appears_in_servicerequestupdates(app_ctx, fmt, resident):
    submission = report()
    caseworker = create_staff("caseworker", ("highways",))
    sign_in(resident, caseworker)
    page = resident.get(f"/staff/cases/{submission.reference}")
    resident.post(
        f"/staff/cases/{submission.reference}/updates",
        {"update-update": "We have fixed the pothole — £0 to you", "update-status": "resolved"},
    )
    assert page.status == 200
    db.session.refresh(submission)
    assert submission.status == Status.RESOLVED
    cases.add_note(submission, "Not for the public", caseworker)
    (update,) = updates(app_ctx, fmt)
    assert update["service_request_id"] == submission.reference
    assert update["status"] == "FIXED"
    assert update["description"] == "We have fixed the pothole — £0 to you"
    assert update["updated_datetime"].endswith("+00:00")
    assert update["update_id"] and "media_url" in update


def test_updates_carry_the_status_as_it_was_then(app_ctx):
    submission = report()
    caseworker = create_staff("caseworker", ("highways",))
    cases.update_case(submission, "We are looking at it", caseworker, Status.IN_PROGRESS)
    cases.update_case(submission, "Crew booked for Tuesday", caseworker)
    cases.update_case(submission, "Filled", caseworker, Status.RESOLVED)
    assert [(item["status"], item["description"]) for item in updates(app_ctx)] == [
        ("IN_PROGRESS", "We are looking at it"),
        ("IN_PROGRESS", "Crew booked for Tuesday"),
        ("FIXED", "Filled"),
    ]


def test_the_updates_window(app_ctx):
    submission = report()
    caseworker = create_staff("caseworker", ("highways",))
    cases.update_case(submission, "Old news", caseworker)
    db.session.execute(
        CaseEvent.__table__.update().values(created_at=utcnow() - timedelta(hours=5)).where(CaseEvent.public)
    )
    db.session.commit()
    cases.update_case(submission, "New news", caseworker)
    now = utcnow()
    w3c = "%Y-%m-%dT%H:%M:%SZ"
    end = now + timedelta(minutes=1)
    recent = updates(app_ctx, start_date=(now - timedelta(hours=2)).strftime(w3c), end_date=end.strftime(w3c))
    assert [item["description"] for item in recent] == ["New news"]
    assert [item["description"] for item in updates(app_ctx)] == ["Old news", "New news"]
    assert_error(get(app_ctx, "servicerequestupdates.xml", start_date="soon"), "xml", 400, "start_date")


def post_update(app, key: str, submission: Submission, fmt: str = "xml", **fields):
    data = {
        "api_key": key,
        "service_request_id": submission.reference,
        "status": "FIXED",
        "description": "Pothole filled",
        "updated_datetime": "2026-12-03T10:00:00+00:00",
        "update_id": "1001",
        "first_name": "Harry",
        "last_name": "Highways",
    } | fields
    return post(app, f"servicerequestupdates.{fmt}", {name: value for name, value in data.items() if value is not None})


@pytest.fixture
def back_office_key(app_ctx) -> str:
    return api.create_client("Highways back office", ["highways"], open311=True)[1]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_a_back_office_marks_a_report_fixed_and_the_resident_is_told(app_ctx, back_office_key, fmt):
    submission = report()
    follower = Follower(submission=submission, email="fran@example.com")
    db.session.add(follower)
    db.session.commit()
    response = post_update(app_ctx, back_office_key, submission, fmt)
    assert response.status_code == 200, response.get_data(as_text=True)
    if fmt == "json":
        update_id = json_of(response)[0]["update_id"]
    else:
        update_id = xml_of(response).findtext("request_update/update_id")
    db.session.refresh(submission)
    assert submission.status == Status.RESOLVED
    event = db.session.get(CaseEvent, int(update_id))
    assert (event.actor_kind, event.api_client.name, event.client_reference) == (
        "api_client",
        "Highways back office",
        "1001",
    )
    assert event.public and event.body == "Pothole filled"
    sent = db.session.scalars(select(Notification).where(Notification.template == "case-update")).all()
    assert sorted(message.to for message in sent) == ["fran@example.com", "rita@example.com"]
    resident_email = next(message for message in sent if message.to == "rita@example.com")
    assert "We have marked your report as fixed" in resident_email.body
    assert "Pothole filled" in resident_email.body
    (audit,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.status")).all()
    assert audit.detail["client"] == "Highways back office" and audit.actor_id is None


def test_the_same_update_posted_twice_is_recorded_once(app_ctx, back_office_key):
    submission = report()
    first = post_update(app_ctx, back_office_key, submission, "json")
    again = post_update(app_ctx, back_office_key, submission, "json")
    assert json_of(first) == json_of(again)
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.public)) == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1


@pytest.mark.parametrize(
    ("start", "posted", "ends", "shown"),
    [
        (Status.RECEIVED, "IN_PROGRESS", Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.RECEIVED, "action scheduled", Status.IN_PROGRESS, "ACTION_SCHEDULED"),
        (Status.RECEIVED, "INVESTIGATING", Status.IN_PROGRESS, "INVESTIGATING"),
        (Status.IN_PROGRESS, "FIXED", Status.RESOLVED, "FIXED"),
        (Status.RECEIVED, "NOT_COUNCILS_RESPONSIBILITY", Status.CLOSED, "NOT_COUNCILS_RESPONSIBILITY"),
        (Status.RECEIVED, "NO_FURTHER_ACTION", Status.CLOSED, "NO_FURTHER_ACTION"),
        (Status.RECEIVED, "DUPLICATE", Status.CLOSED, "DUPLICATE"),
        (Status.RECEIVED, "closed", Status.CLOSED, "CLOSED"),
        (Status.RESOLVED, "REOPEN", Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.CLOSED, "OPEN", Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.IN_PROGRESS, "OPEN", Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.RECEIVED, "OPEN", Status.RECEIVED, "OPEN"),
        (Status.RESOLVED, "CLOSED", Status.RESOLVED, "FIXED"),
        (Status.AWAITING_INFORMATION, "IN_PROGRESS", Status.IN_PROGRESS, "IN_PROGRESS"),
        (Status.DUPLICATE, "CLOSED", Status.CLOSED, "CLOSED"),
    ],
)
def test_fixmystreets_extended_statuses_map_onto_ours(app_ctx, back_office_key, start, posted, ends, shown):
    submission = report(status=start)
    response = post_update(app_ctx, back_office_key, submission, "json", status=posted, description="Words")
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.refresh(submission)
    assert submission.status == ends
    (update,) = updates(app_ctx)
    assert update["status"] == shown
    assert fms.Client.map_state(update["status"]) in {
        "in progress",
        "action scheduled",
        "investigating",
        "fixed - council",
        "not responsible",
        "unable to fix",
        "duplicate",
        "confirmed",
    }


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"api_key": None}, 403, "send your API key"),
        ({"api_key": "ctw_wrongkey_x"}, 403, "not valid"),
        ({"service_request_id": None}, 400, "service_request_id: send the id"),
        ({"service_request_id": "RP-2222-2222"}, 404, "there is no request RP-2222-2222"),
        ({"status": None}, 400, "status: send the request's status"),
        ({"status": "MENDED"}, 400, "status: MENDED is not a status we know"),
        ({"status": "OPEN", "description": ""}, 400, "description: send the update's words"),
        ({"updated_datetime": "last week"}, 400, "updated_datetime"),
        ({"update_id": "x" * 65}, 400, "update_id: at most 64"),
        ({"media_url": "ftp://example.com/a.jpg"}, 400, "media_url"),
    ],
)
def test_bad_updates_are_refused(app_ctx, back_office_key, fmt, fields, status, words):
    submission = report()
    assert_error(post_update(app_ctx, back_office_key, submission, fmt, **fields), fmt, status, words)
    db.session.refresh(submission)
    assert submission.status == Status.RECEIVED


def test_a_client_updates_only_its_own_requests_and_its_queues(app_ctx, open311_key, back_office_key):
    lighting = report(category="street-light")
    assert lighting.queue.slug == "street-lighting"
    assert_error(post_update(app_ctx, back_office_key, lighting), "xml", 403, "Street Lighting queue")
    # FixMyStreet has no queues, but may update what it sent.
    own = send(app_ctx, open311_key, service_code="street-light")
    assert post_update(app_ctx, open311_key, own, status="IN_PROGRESS").status_code == 200
    assert_error(post_update(app_ctx, open311_key, lighting, update_id="2"), "xml", 403, "may not update")


# Non-ASCII, formats and limits -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_non_ascii_text_goes_both_ways(app_ctx, open311_key, back_office_key, fmt):
    text = "Pothole outside the café — about £40 of damage to my tyre"
    submission = send(app_ctx, open311_key, fmt, description=text, first_name="Zoë", last_name="Brontë")
    assert submission.description == text and submission.contact_name == "Zoë Brontë"
    response = get(app_ctx, f"requests/{submission.reference}.{fmt}")
    assert text.encode() in response.get_data()  # UTF-8 on the wire, not escaped
    (found,) = listed(app_ctx, fmt)
    assert found["description"] == text
    post_update(app_ctx, back_office_key, submission, fmt, description="Réparé — £0", status="FIXED")
    assert updates(app_ctx, fmt)[0]["description"] == "Réparé — £0"


def test_text_xml_cannot_hold_is_dropped_from_xml(app_ctx):
    report(description="Bell\x07 rang\x0b here")
    (found,) = listed(app_ctx, "xml")
    assert found["description"] == "Bell rang here"


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_OPEN311_WRITE": "2 per minute"}])
def test_rate_limits_count_each_key(app_ctx, open311_key, config_overrides):
    other = api.create_client("Other system", [], open311=True)[1]
    for _ in range(2):
        send(app_ctx, open311_key)
    assert_error(post(app_ctx, "requests.xml", {**POTHOLE, "api_key": open311_key}), "xml", 429, "")
    assert send(app_ctx, other).status == Status.RECEIVED


@pytest.mark.parametrize(
    "data",
    [
        {"service_code": "pothole", "lat": "nan", "long": "inf"},
        {"service_code": "pothole", "lat": "1e400", "long": "-1e400"},
        {"service_code": "pothole", "lat": "53.818", "long": "-1.5763", "attribute[size][]": ["small", "large"]},
        {"service_code": "pothole\x00", "address_string": "\x00\x01"},
        {"service_code": ["pothole", "street-light"], "address_string": "1 Cardigan Road, Headingley", "media_url": ""},
        {"service_code": "pothole", "address_string": ",,,", "email": "a@" + "b" * 300 + ".com"},
        {"service_code": "pothole", "address_string": "LS6 3AE", "lat": "53.818"},
    ],
)
def test_no_input_makes_a_server_error(app_ctx, open311_key, data):
    response = post(app_ctx, "requests.json", {**data, "api_key": open311_key})
    assert response.status_code < 500, response.get_data(as_text=True)
    json_of(response)
    for path in ("requests.json", "servicerequestupdates.json"):
        read = get(app_ctx, path, **{key: value for key, value in data.items() if isinstance(value, str)})
        assert read.status_code < 500


def test_invalid_utf8_is_not_a_server_error(app_ctx, open311_key):
    body = b"api_key=" + open311_key.encode() + b"&service_code=pothole&description=caf%E9&lat=53.818&long=-1.5763"
    response = app_ctx.test_client().post(
        BASE + "requests.xml", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (200, 400)


# FixMyStreet's own client ----------------------------------------------------------------------------


def fixmystreet(app, key: str = "", **options) -> fms.Client:
    return fms.Client(app.test_client(), f"http://localhost{BASE}", key, **options)


def test_fixmystreet_reads_the_service_list_and_definitions(app_ctx):
    client = fixmystreet(app_ctx)
    services = client.get_service_list()
    codes = [service["service_code"] for service in services["service"]]
    assert codes[0] == "pothole" and len(codes) == 5
    assert services["service"][0]["group"] == ["Roads, streets and pavements"]
    assert services["service"][0]["metadata"] == "true"
    meta = client.get_service_meta_info("pothole")
    assert isinstance(meta["attributes"], list)
    assert [attribute["code"] for attribute in meta["attributes"]] == ["size", "position"]
    assert [value["key"] for value in meta["attributes"][0]["values"]] == ["small", "medium", "large"]
    assert meta["attributes"][0]["required"] == "true" and meta["attributes"][0]["order"] == "1"


def test_fixmystreet_sends_a_report_as_it_does_and_gets_the_id(app_ctx, open311_key, app):
    app.config["OPEN311_JURISDICTION_ID"] = "example.gov.uk"
    client = fixmystreet(app_ctx, open311_key, jurisdiction="example.gov.uk")
    problem = fms.Problem(
        id=4321,
        title="Pothole on Cardigan Road",
        detail="Deep — about £200 to mend a tyre. Outside the café.",
        name="Zoë Q. Public",
        email="zoe@example.com",
        latitude=53.8180004,
        longitude=-1.576300,
        phone="01632 960 002",
        extra_fields=[
            {"name": "size", "value": "medium"},
            {"name": "position", "value": "cycle-lane"},
            {"name": "fixmystreet_id", "value": "4321"},
            {"name": "easting", "value": "428000"},
        ],
        uprn="72001001",
    )
    extra = {"image_url": "https://www.fixmystreet.com/photo/4321.0.full.jpeg", "easting": 428000}
    request_id = client.send_service_request(problem, extra, "pothole")
    assert request_id and client.success, client.error
    # Exactly what its _request sent: a form-encoded POST with api_key and jurisdiction_id in the body.
    assert dict(client.last_request["pairs"])["api_key"] == open311_key.encode()
    assert "jurisdiction_id=example.gov.uk" in client.last_request["body"]
    assert "attribute%5Bsize%5D=medium" in client.last_request["body"]
    submission = db.session.scalar(select(Submission).where(Submission.reference == request_id))
    assert submission.queue.slug == "highways"
    assert submission.answers["pothole-details"] == {"size": "medium", "position": "cycle-lane"}
    assert submission.contact_name == "Zoë Q. Public"
    assert submission.description.startswith("title: Pothole on Cardigan Road\n\ndetail: Deep — about £200")
    assert submission.media_url == "https://www.fixmystreet.com/photo/4321.0.full.jpeg"
    assert (submission.latitude, submission.longitude) == (53.818, -1.5763)


def test_fixmystreet_reads_our_errors(app_ctx):
    client = fixmystreet(app_ctx, "ctw_notakey1_x")
    problem = fms.Problem(1, "Hole", "Hole", "Ann Other", None, 53.818, -1.5763)
    assert client.send_service_request(problem, {"easting": 1, "url": ""}, "pothole") == 0
    assert client.error.startswith("request failed: 403\nerror: 403: api_key: this key is not valid")


def test_fixmystreet_polls_requests_and_a_token(app_ctx, open311_key):
    client = fixmystreet(app_ctx, open311_key)
    made = [report(), report(category="street-light")]
    requests = client.get_service_requests({"report_ids": [item.reference for item in made]})
    assert sorted(request["service_request_id"] for request in requests) == sorted(item.reference for item in made)
    assert client.get_service_request_id_from_token(made[0].reference) == made[0].reference


def test_fixmystreet_posts_an_update_and_reads_ours(app_ctx, open311_key):
    client = fixmystreet(app_ctx, open311_key, extended_statuses=True)
    problem = fms.Problem(7, "Light out", "It is dark", "Ann Other", "ann@example.com", 53.818, -1.5763)
    request_id = client.send_service_request(problem, {"easting": 1, "url": "https://fms/7"}, "street-light")
    comment = fms.Comment(
        id=99,
        text="Still out — since Tuesday",
        name="Ann Other",
        email="ann@example.com",
        external_id=request_id,
        state="confirmed",
        confirmed="2026-12-03T09:15:00Z",
    )
    update_id = client.post_service_request_update(comment)
    assert update_id, client.error
    assert client.post_service_request_update(comment) == update_id  # a retry is the same update
    # Staff act; FixMyStreet reads the updates for the last two hours, as GetServiceRequestUpdates does.
    submission = db.session.scalar(select(Submission).where(Submission.reference == request_id))
    caseworker = create_staff("caseworker", ("street-lighting",))
    cases.update_case(submission, "Lamp replaced", caseworker, Status.RESOLVED)
    now = utcnow()
    w3c = "%Y-%m-%dT%H:%M:%SZ"
    start, end = now - timedelta(hours=2), now + timedelta(minutes=1)
    found = client.get_service_request_updates(start.strftime(w3c), end.strftime(w3c))
    assert [(item["update_id"], item["status"], item["description"]) for item in found] == [
        (update_id, "OPEN", "Still out — since Tuesday"),
        (found[1]["update_id"], "FIXED", "Lamp replaced"),
    ]
    assert all(item["service_request_id"] == request_id for item in found)
    assert fms.Client.map_state(found[1]["status"]) == "fixed - council"
    # FixMyStreet's own user was not written to by us: it tells them itself.
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


# Keys and access ---------------------------------------------------------------------------------------


def test_the_cli_gives_a_client_the_open311_permission(app_ctx):
    load_addresses()
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["create-api-client", "FixMyStreet", "--open311"])
    assert result.exit_code == 0, result.output
    assert "Open311 requests and updates" in result.output
    key = re.search(r"ctw_\S+", result.output).group()
    assert send(app_ctx, key).channel == "open311"
    both = runner.invoke(args=["create-api-client", "Confirm", "--queue", "highways", "--open311"])
    assert "exports of highways (OFFICIAL cases only); Open311 requests and updates" in both.output
    neither = runner.invoke(args=["create-api-client", "Nothing"])
    assert neither.exit_code != 0 and "--open311" in neither.output


def test_open311_views_declare_their_access(app):
    declared = {name: view.access for name, view in app.view_functions.items() if name.startswith("open311.")}
    writes = {"open311.send_request", "open311.post_update"}
    assert {name for name, access in declared.items() if access == "api_key:open311"} == writes
    assert all(access == "public" for name, access in declared.items() if name not in writes)
    assert len(declared) == 9


def test_queue_exports_carry_the_clients_photo_links(app_ctx, open311_key):
    links = ["https://fixmystreet.example/photo/1.jpeg", "https://fixmystreet.example/photo/2.jpeg"]
    submission = send(app_ctx, open311_key, media_url=links)
    key = api.create_client("Asset system", ["highways"])[1]
    response = export(app_ctx, key, "/api/queues/highways/export.jsonl")
    (row,) = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    assert row["reference"] == submission.reference and row["channel"] == "open311"
    assert row["photo_url"] == " ".join(links)
    # Reads give the first, as GeoReport v2 has one media_url a request.
    assert listed(app_ctx)[0]["media_url"] == links[0]


def test_an_updates_photo_link_is_read_back(app_ctx, back_office_key):
    submission = report()
    photo = "https://confirm.example/jobs/77/after.jpeg"
    assert post_update(app_ctx, back_office_key, submission, media_url=photo).status_code == 200
    assert updates(app_ctx)[0]["media_url"] == photo

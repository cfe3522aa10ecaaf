"""Find a caller: contact-centre agents find a caller's submissions across every service by precise values only,
see an OFFICIAL one's progress and summary and only that an OFFICIAL-SENSITIVE one exists (and who to transfer the
call to), note that the caller rang, and every search and look is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tests.factories import create_staff, create_submission
from tests.staff_helpers import sign_in
from webapp import callers, lifecycle, phones
from webapp.extensions import db
from webapp.models import AuditEvent, CaseEvent, Queue, Status, utcnow
from webapp.staff.forms import NOTHING_TO_FIND

SEARCH = "/staff/callers"


@pytest.fixture
def agent_user(app_ctx):
    return create_staff("agent", (), name="Alex Agent", email="alex@example.gov.uk")


@pytest.fixture
def agent(resident, agent_user):
    """The test client, signed in as Alex, a contact-centre agent."""
    sign_in(resident, agent_user)
    return resident


def search(person, expected: int = 200, **values):
    """Search as the agent does, by posting the form; with no values at all, just open the page."""
    if not values:
        return person.get(SEARCH, expected=expected)
    return person.post(SEARCH, values, expected=expected)


def found(page) -> list[str]:
    return [th.get_text(strip=True) for th in page.soup.select("table tbody th")]


def audits(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def people(app_ctx):
    """Sam's report and Anne's, with their details as the forms store them."""
    return {
        "sam": create_submission(
            contact_name="Sam Smith",
            contact_email="Sam.Smith@Example.com",
            contact_phone="07700 900123",
            postcode="LS1 6HD",
        ),
        "anne": create_submission(
            contact_name="Anne Smith",
            contact_email="anne@example.com",
            contact_phone="+44 113 496 0000",
            postcode="LS6 3AA",
            created_at=utcnow() - timedelta(hours=2),
        ),
    }


@pytest.mark.parametrize(
    ("values", "who"),
    [
        ({"name": "Sam Smith"}, ["sam"]),
        ({"name": "  sam   SMITH "}, ["sam"]),
        ({"name": "Sam"}, []),
        ({"name": "Ann"}, []),  # not Anne Smith: no part of a name
        ({"name": "Smith"}, []),
        ({"name": "%"}, []),
        ({"name": "_am Smith"}, []),
        ({"email": "sam.smith@example.com"}, ["sam"]),
        ({"email": "SAM.SMITH@EXAMPLE.COM"}, ["sam"]),
        ({"email": "smith@example.com"}, []),
        ({"phone": "07700900123"}, ["sam"]),
        ({"phone": "+447700900123"}, ["sam"]),
        ({"phone": "+44 (0)7700 900 123"}, ["sam"]),
        ({"phone": "0044 7700 900123"}, ["sam"]),
        ({"phone": "447700900123"}, ["sam"]),
        ({"phone": "0113 496 0000"}, ["anne"]),  # stored as +44 113 496 0000
        ({"phone": "07700 900124"}, []),
        ({"postcode": "ls16hd"}, ["sam"]),
        ({"postcode": "LS6 3AA"}, ["anne"]),
        ({"name": "Sam Smith", "postcode": "LS6 3AA"}, []),  # several values narrow
        ({"name": "Anne Smith", "postcode": "LS6 3AA", "phone": "+44 113 4960000"}, ["anne"]),
    ],
)
def test_each_value_is_matched_whole_and_several_narrow(agent, people, values, who):
    assert found(search(agent, **values)) == [people[name].reference for name in who]


def test_a_reference_is_matched_in_any_case_with_or_without_its_dashes(agent, people):
    reference = people["anne"].reference
    assert found(search(agent, reference=reference.lower())) == [reference]
    assert found(search(agent, reference=reference.replace("-", " "))) == [reference]
    assert found(search(agent, reference=reference[:-1])) == []


def test_phone_numbers_are_one_string_of_digits_however_written():
    for written in ("07700 900123", "+44 7700 900123", "+44 (0)7700 900123", "0044 7700 900123", "447700900123"):
        assert phones.phone_key(written) == "07700900123", written
    assert phones.phone_key("+33 1 23 45 67 89") == phones.phone_key("0033 123456789") == "+33123456789"
    assert "07700900123" in callers.phone_spellings("+447700900123")


def test_a_callers_submissions_across_services_and_statuses_newest_first(agent, app_ctx):
    road = create_submission(contact_email="sam@example.com", created_at=utcnow() - timedelta(days=3))
    fine = create_submission(
        service_slug="pay-a-parking-fine",
        category="pcn",
        status=Status.AWAITING_PAYMENT,
        queue=None,
        street=None,
        contact_email="sam@example.com",
        answers={},
        created_at=utcnow() - timedelta(days=1),
    )
    closed = create_submission(contact_email="sam@example.com", status=Status.CLOSED, created_at=utcnow())
    create_submission(contact_email="someone.else@example.com")
    page = search(agent, email="sam@example.com")
    assert found(page) == [closed.reference, fine.reference, road.reference]
    assert "3 submissions found" in page.text
    rows = {row.select_one("th").get_text(strip=True): row for row in page.soup.select("table tbody tr")}
    assert [cell["data-label"] for cell in rows[road.reference].select("th, td")] == [
        "Reference",
        "Received",
        "Service",
        "Status",
        "About",
    ]
    assert "Report a pothole or other road problem" in rows[road.reference].text
    assert "Team: Highways" in rows[road.reference].text and "Problem: Pothole" in rows[road.reference].text
    assert "Pay a parking fine" in rows[fine.reference].text and "Awaiting payment" in rows[fine.reference].text
    assert "Team: none yet" in rows[fine.reference].text
    assert "Nothing to show without personal data" in rows[fine.reference].text
    assert rows[closed.reference].select_one(".govuk-tag").get_text(strip=True) == "Closed"
    link = rows[road.reference].select_one("th a")["href"]
    assert link == f"/staff/callers/{road.reference}"


def test_at_most_the_configured_number_the_most_recent(agent, app):
    app.config["CALLER_SEARCH_LIMIT"] = 3
    made = [create_submission(contact_name="Sam Smith", created_at=utcnow() - timedelta(hours=h)) for h in range(5)]
    page = search(agent, name="Sam Smith")
    assert found(page) == [s.reference for s in made[:3]]
    assert "More than 3 submissions found" in page.text
    assert "Showing the 3 most recent." in page.text
    assert audits("caller.search")[0].detail["more"] == "True"


def test_the_limit_is_50_by_default(app):
    assert app.config["CALLER_SEARCH_LIMIT"] == 50


def test_no_value_is_an_error_and_searches_nothing(agent, people):
    first = search(agent)
    assert first.h1 == "Find a caller" and first.errors() == [] and first.soup.select_one("table") is None
    for values in ({"reference": "", "email": "", "phone": "", "postcode": "", "name": ""}, {"name": "   "}):
        page = search(agent, expected=400, **values)
        assert page.title == "Error: Find a caller - Example City Council"
        assert page.errors() == [NOTHING_TO_FIND]
        assert page.soup.select_one(".govuk-error-summary a")["href"] == "#reference"
        assert page.soup.select_one("table") is None
    assert audits("caller.search") == []
    with pytest.raises(callers.NothingToSearch):
        callers.find_callers(callers.CallerQuery.of())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"email": "sam@"}, "Enter an email address in the correct format, like name@example.com"),
        ({"phone": "900123"}, "Enter a phone number, like 01632 960 001 or +44 808 157 0192"),
        ({"phone": "07700 9001ab"}, "Enter a phone number, like 01632 960 001 or +44 808 157 0192"),
        ({"postcode": "LS1"}, "Enter a real postcode, like LS1 1UR"),
        ({"reference": "R" * 21}, "Reference must be 20 characters or fewer"),
        ({"name": "S" * 201, "email": "sam@"}, "Full name must be 200 characters or fewer"),
    ],
)
def test_a_value_that_is_not_valid_is_a_govuk_error(agent, people, values, message):
    page = search(agent, expected=400, **values)
    assert page.title.startswith("Error: ") and message in page.errors()
    assert message in " ".join(e.get_text(" ", strip=True) for e in page.soup.select(".govuk-error-message"))
    assert page.soup.select_one("table") is None
    assert audits("caller.search") == []


def test_a_value_that_is_not_valid_is_refused_by_the_query_too():
    with pytest.raises(ValueError, match="phone"):
        callers.CallerQuery.of(phone="()")
    with pytest.raises(ValueError, match="postcode"):
        callers.CallerQuery.of(postcode="LS1")


# Sensitive submissions ---------------------------------------------------------------------------------------

SECRETS = (
    "Kestrel Avenue",  # street
    "LS9 9ZZ",  # postcode
    "the man next door frightens me",  # description
    "Sam.Sensitive@example.com",
    "07700 900999",
    "Safeguarding officer will visit on Friday",  # a public update
    "In progress",  # its status
    "Report a pothole or other road problem",  # its service
    "Pothole",  # what it is about
    "Sam Sensitive",  # who made it
)


@pytest.fixture
def sealed(app_ctx):
    queue = Queue(slug="safeguarding", name="Safeguarding team")
    db.session.add(queue)
    submission = create_submission(
        classification="OFFICIAL-SENSITIVE",
        status=Status.IN_PROGRESS,
        queue=queue,
        street="Kestrel Avenue",
        postcode="LS9 9ZZ",
        contact_name="Sam Sensitive",
        contact_email="Sam.Sensitive@example.com",
        contact_phone="07700 900999",
        answers={
            "what-is-the-problem": {"category": "pothole"},
            "where-is-it": {"street": "Kestrel Avenue", "area": "City Centre", "postcode": "LS9 9ZZ"},
            "describe-it": {"description": "the man next door frightens me"},
        },
    )
    lifecycle.record(submission, "public_update", lifecycle.Actor.system("Test"), SECRETS[5], public=True)
    db.session.commit()
    return submission


def assert_nothing_of_it(html: str) -> None:
    for secret in SECRETS:
        assert secret not in html, secret


def test_a_sensitive_case_shows_only_that_it_exists_and_who_to_transfer_to(agent, sealed):
    page = search(agent, reference=sealed.reference)
    assert found(page) == [sealed.reference]
    assert "A sensitive case exists. Transfer the call to Safeguarding team." in page.text
    assert page.soup.select_one("table tbody th a") is None  # nothing to open
    assert_nothing_of_it(page.html)
    # Found by its phone number (which the search box shows again): the result shows nothing more.
    by_phone = search(agent, phone="07700 900999")
    assert found(by_phone) == [sealed.reference]
    assert_nothing_of_it(str(by_phone.soup.select_one("table")))

    view = agent.get(f"/staff/callers/{sealed.reference}")
    assert view.h1 == "Transfer the call"
    assert "A sensitive case exists. Transfer the call to Safeguarding team." in view.text
    assert_nothing_of_it(view.html)
    assert view.soup.select_one("textarea") is None

    refused = agent.post(f"/staff/callers/{sealed.reference}/caller-rang", {"note": "Rang"}, expected=403)
    assert "Transfer the call to Safeguarding team." in refused.text
    assert_nothing_of_it(refused.html)
    assert not [e for e in sealed.events if e.kind == "caller_rang"]

    events = audits("caller.view")
    assert [(e.submission_id, e.classification, e.detail["shown"]) for e in events] == [
        (sealed.id, "OFFICIAL-SENSITIVE", "transfer"),
        (sealed.id, "OFFICIAL-SENSITIVE", "transfer"),
    ]


def test_a_sensitive_case_in_no_queue_yet_goes_to_the_supervisor(agent, app_ctx):
    waiting = create_submission(
        classification="OFFICIAL-SENSITIVE", status=Status.AWAITING_PAYMENT, queue=None, contact_name="Sam Smith"
    )
    page = search(agent, name="Sam Smith")
    assert found(page) == [waiting.reference]
    assert "Transfer the call to the contact centre supervisor." in page.text
    assert "Awaiting payment" not in page.text


def test_a_note_on_a_sealed_case_is_refused_by_the_module_too(app_ctx, sealed, agent_user):
    with pytest.raises(PermissionError):
        callers.caller_rang(sealed, "Rang", agent_user)


# One submission, as the agent sees it -----------------------------------------------------------------------


@pytest.fixture
def report(app_ctx):
    submission = create_submission(
        status=Status.IN_PROGRESS,
        contact_name="Sam Smith",
        contact_email="sam@example.com",
        contact_phone="07700 900123",
        answers={
            "what-is-the-problem": {"category": "pothole"},
            "where-is-it": {"street": "Briggate", "area": "City Centre", "postcode": "LS1 6HD"},
            "describe-it": {"description": "Outside my house, number 12"},
        },
    )
    staff = lifecycle.Actor.system("Highways")
    first = lifecycle.record(submission, "public_update", staff, "We have looked at it.", public=True)
    first.created_at = utcnow() - timedelta(days=1)
    lifecycle.record(submission, "public_update", staff, "We will fill it on Tuesday.", public=True)
    lifecycle.record(submission, "note", staff, "Internal: the crew is short this week")
    db.session.commit()
    return submission


def test_the_agent_sees_the_progress_and_what_it_is_about_not_personal_answers(agent, report):
    page = agent.get(f"/staff/callers/{report.reference}")
    assert page.title == f"{report.reference} - Example City Council"
    assert "In progress" in page.h1
    updates = [li.get_text(" ", strip=True) for li in page.soup.select("ol.app-history li")]
    assert len(updates) == 2
    assert "We will fill it on Tuesday." in updates[0] and "We have looked at it." in updates[1]  # newest first
    assert "Internal: the crew is short this week" not in page.html
    assert "Problem Pothole" in page.text and "Briggate" in page.text and "Team dealing with it Highways" in page.text
    assert "Outside my house, number 12" not in page.html  # the description page holds personal data
    assert "Name Sam Smith" in page.text and "Updates by Email" in page.text
    assert "sam@example.com" not in page.html and "07700 900123" not in page.html
    start = page.soup.find("a", string=lambda s: s and "Start a new call with these details" in s)
    assert start["href"] == url_for("assisted.new_call", caller=report.reference, _external=False)
    form = page.soup.select_one(f"form[action='/staff/callers/{report.reference}/caller-rang']")
    assert form["method"] == "post" and form.find("textarea", attrs={"name": "note"})
    event = audits("caller.view")[0]
    assert (event.submission_id, event.classification, event.detail) == (report.id, "OFFICIAL", {"shown": "summary"})
    assert event.actor_email == "alex@example.gov.uk"


def test_a_reference_that_does_not_exist_is_not_found(agent, app_ctx):
    agent.get("/staff/callers/RP-XXXX-XXXX", expected=404)


def test_a_note_that_the_caller_rang_is_a_case_event_by_phone(agent, agent_user, report):
    done = agent.post(f"/staff/callers/{report.reference}/caller-rang", {"note": "  Asked when it will be fixed. "})
    assert done.location == f"/staff/callers/{report.reference}"
    page = agent.get(done.location)
    assert "Note added." in page.text
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "caller_rang"))
    assert (event.submission_id, event.body, event.public) == (report.id, "Asked when it will be fixed.", False)
    assert (event.actor_kind, event.actor_id, event.data) == ("agent", agent_user.id, {"channel": "phone"})
    rang = audits("caller.rang")
    assert [(e.submission_id, e.actor_id) for e in rang] == [(report.id, agent_user.id)]
    # The team sees it in the case's history.
    agent.post("/staff/sign-out", {})
    sign_in(agent, create_staff("caseworker", ("highways",)))
    case = agent.get(f"/staff/cases/{report.reference}")
    history = case.soup.select_one("ol.app-history").get_text(" ", strip=True)
    assert "Caller rang" in history and "Asked when it will be fixed." in history and "by Alex Agent" in history


@pytest.mark.parametrize(
    ("note", "message"),
    [("", "Enter a note about the call"), ("x" * 2001, "Note must be 2000 characters or fewer")],
)
def test_a_note_that_is_not_valid_is_a_govuk_error(agent, report, note, message):
    page = agent.post(f"/staff/callers/{report.reference}/caller-rang", {"note": note}, expected=400)
    assert page.title == f"Error: {report.reference} - Example City Council"
    assert page.errors() == [message]
    assert page.soup.select_one(".govuk-error-summary a")["href"] == "#note"
    assert message in page.soup.select_one(".govuk-error-message").get_text()
    assert db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "caller_rang")) is None
    assert audits("caller.rang") == []


def test_the_notes_address_in_the_address_bar_is_the_page(agent, report):
    response = agent.get(f"/staff/callers/{report.reference}/caller-rang", expected=302)
    assert response.location == f"/staff/callers/{report.reference}"


# The audit trail and who may -----------------------------------------------------------------------------------


def test_every_search_is_audited_with_what_was_searched_for(agent, agent_user, people):
    search(agent, name="Sam  Smith", phone="+44 7700 900123")
    search(agent, email="nobody@example.com")
    first, second = audits("caller.search")
    assert first.actor_id == agent_user.id and first.submission_id is None
    assert first.detail == {
        "phone": "07700900123",
        "name": "sam smith",
        "results": "1",
        "more": "False",
        "references": people["sam"].reference,
    }
    assert second.detail == {"email": "nobody@example.com", "results": "0", "more": "False", "references": ""}


def test_find_a_caller_is_in_the_navigation_for_agents_and_admins_only(resident, app_ctx):
    def navigation() -> list[str]:
        return [
            a.get_text(strip=True) for a in resident.get("/staff/queues").soup.select(".govuk-service-navigation__link")
        ]

    for role, shown in (("agent", True), ("admin", True), ("caseworker", False), ("finance", False)):
        sign_in(resident, create_staff(role, ("highways",) if role == "caseworker" else ()))
        assert ("Find a caller" in navigation()) is shown, role
        resident.post("/staff/sign-out", {})


def test_admins_find_callers_too(resident, people):
    sign_in(resident, create_staff("admin", ()))
    assert found(search(resident, name="Anne Smith")) == [people["anne"].reference]

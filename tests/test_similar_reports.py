"""Before the details page, open reports like this one are shown: "Is this the problem you are reporting?"."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import create_submission
from tests.journey_helpers import BASE, DEFAULTS, url, walk
from webapp.extensions import db
from webapp.models import Follower, Notification, Submission, utcnow

AT_BRIGGATE = {**DEFAULTS["where-is-it"], "latitude": "53.7975", "longitude": "-1.5420"}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def walk_to_similar(resident, where=None, category="pothole"):
    answers = {"where-is-it": where or AT_BRIGGATE, "what-is-the-problem": {"category": category}}
    return walk(resident, answers, stop_before="already-reported")


def test_a_report_within_50_metres_is_offered(resident, app_ctx):
    nearby = create_submission(latitude=53.7977, longitude=-1.5421)  # about 23 metres away
    location = walk_to_similar(resident)
    assert location.endswith("/already-reported")
    page = resident.get(location)
    assert page.h1 == "Is this the problem you are reporting?"
    assert nearby.reference in page.text
    assert "metres away" in page.text


def test_reports_further_than_50_metres_older_closed_or_of_another_kind_are_not_offered(resident, app_ctx):
    create_submission(latitude=53.7985, longitude=-1.5420)  # about 110 metres away
    create_submission(latitude=53.7975, longitude=-1.5420, created_at=utcnow() - timedelta(days=31))
    create_submission(latitude=53.7975, longitude=-1.5420, status="resolved")
    create_submission(latitude=53.7975, longitude=-1.5420, category="street-light")
    assert walk(resident, {"where-is-it": AT_BRIGGATE}).endswith("/check-answers")


def test_without_a_map_position_the_same_street_is_offered(resident, app_ctx):
    same_street = create_submission(street="BRIGGATE ", latitude=53.79, longitude=-1.54)
    create_submission(street="Boar Lane")
    location = walk_to_similar(resident, where=DEFAULTS["where-is-it"])
    page = resident.get(location)
    assert same_street.reference in page.text
    assert "Same street" in page.text
    assert "Boar Lane" not in page.text


def test_saying_no_goes_on_to_the_details(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": "none"})
    assert response.location.endswith("/get-updates")
    walk_rest = resident.post(response.location, {"contact": "anonymous"})
    assert walk_rest.location.endswith("/check-answers")


def test_saying_yes_follows_the_original_and_makes_no_new_report(resident, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": original.reference})
    assert response.location.endswith(f"/already-reported/{original.reference}")
    page = resident.get(response.location)
    assert page.h1 == "This problem has already been reported"
    response = resident.post(response.location, {"email": "neighbour@example.com"})
    done = resident.get(response.location)
    assert original.reference in done.text and "neighbour@example.com" in done.text

    assert count(Submission) == 1
    follower = db.session.scalar(select(Follower))
    assert (follower.submission_id, follower.email) == (original.id, "neighbour@example.com")
    email = db.session.scalar(select(Notification))
    assert email.to == "neighbour@example.com" and original.reference in email.body
    assert email.status == "queued"
    # The draft is gone: going back into the journey starts again.
    assert resident.get(f"{BASE}/check-answers").h1 == "Sorry, you'll have to start again"


def test_saying_yes_without_an_email_just_ends(resident, app_ctx):
    original = create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": original.reference})
    response = resident.post(response.location, {"email": ""})
    assert "We have not made a new report" in resident.get(response.location).text
    assert count(Follower) == 0 and count(Notification) == 0


def test_an_answer_must_be_chosen_from_the_list(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    response = resident.post(location, {"duplicate_of": "RP-ZZZZ-ZZZZ"}, expected=400)
    assert response.errors()[0].startswith("Not a valid choice") or response.errors() == [
        "Select the problem you are reporting, or select that it is a different problem"
    ]
    response = resident.post(location, {}, expected=400)
    assert response.errors() == ["Select the problem you are reporting, or select that it is a different problem"]


def test_the_already_reported_page_only_opens_for_the_chosen_report(resident, app_ctx):
    other = create_submission(street="Boar Lane")
    walk_to_similar(resident)
    response = resident.get(f"{BASE}/already-reported/{other.reference}", expected=302)
    assert response.location.endswith("/check-answers")


def test_moving_the_location_asks_again(resident, app_ctx):
    create_submission(latitude=53.7975, longitude=-1.5420)
    location = walk_to_similar(resident)
    resident.post(location, {"duplicate_of": "none"})
    resident.post(url("get-updates"), {"contact": "anonymous"})
    # The same place again: already answered, straight back to check answers.
    assert resident.post(url("where-is-it") + "?change=1", AT_BRIGGATE).location.endswith("/check-answers")
    # Moved a little, still near the open report: asked again.
    moved = {**AT_BRIGGATE, "latitude": "53.79752"}
    assert resident.post(url("where-is-it") + "?change=1", moved).location.endswith("/already-reported?change=1")
    resident.post(url("already-reported") + "?change=1", {"duplicate_of": "none"})
    # Moved far away, with nothing nearby: no question, and the old answer is dropped.
    far = {**AT_BRIGGATE, "latitude": "53.80", "longitude": "-1.60"}
    assert resident.post(url("where-is-it") + "?change=1", far).location.endswith("/check-answers")

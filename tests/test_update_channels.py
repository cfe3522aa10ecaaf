"""What staff are told after they change a case, when the people who hear of it do so in different ways: by email,
by text message, by post, or (for someone who asked for updates by phone) by a call the member of staff must make."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import create_submission
from webapp.cases import Recipient
from webapp.extensions import db
from webapp.models import Follower, Notification, Submission
from webapp.staff.views import closing_message, duplicate_messages, told_message

PHONE = "0113 496 0000"
RING = f"Pat Caller asked for updates by phone: ring them on {PHONE} to tell them."


def case_url(submission: Submission, action: str = "") -> str:
    return f"/staff/cases/{submission.reference}" + (f"/{action}" if action else "")


def by_phone(**overrides) -> Submission:
    values = {"contact_name": "Pat Caller", "contact_phone": PHONE, "updates_by": "phone", "channel": "phone"}
    return create_submission(**{**values, **overrides})


def by_text(**overrides) -> Submission:
    values = {"contact_name": "Sam Caller", "contact_phone": "07700 900123", "updates_by": "sms", "channel": "phone"}
    return create_submission(**{**values, **overrides})


def by_post(**overrides) -> Submission:
    values = {
        "contact_name": "Lee Caller",
        "contact_address": "1 Market Street\nLeeds\nLS1 6HD",
        "updates_by": "letter",
        "channel": "phone",
    }
    return create_submission(**{**values, **overrides})


def followed(submission: Submission, *emails: str) -> Submission:
    for email in emails:
        db.session.add(Follower(submission=submission, email=email))
    db.session.commit()
    return submission


def flashed(resident, submission: Submission) -> str:
    return resident.get(case_url(submission)).soup.select_one(".govuk-notification-banner").get_text(" ", strip=True)


def sent() -> list[tuple[str, str]]:
    return [(n.channel, n.to) for n in db.session.scalars(select(Notification).order_by(Notification.id))]


# After an update or a new status --------------------------------------------------------------------------------


def test_an_update_for_someone_who_asked_for_phone_calls_tells_staff_to_ring_them(worker, app_ctx):
    submission = by_phone(status="in_progress")
    worker.post(case_url(submission, "updates"), {"update-update": "An inspector will visit on Friday."})
    assert flashed(worker, submission).endswith(f"Update published. We are not sending it to anyone. {RING}")
    assert sent() == []


def test_a_new_status_for_a_phone_caller_with_followers_says_both(worker, app_ctx):
    submission = followed(by_phone(), "neighbour@example.com")
    worker.post(case_url(submission, "updates"), {"update-status": "in_progress"})
    assert flashed(worker, submission).endswith(
        f"Status changed to in progress. We are emailing it to 1 person. {RING}"
    )
    assert sent() == [("email", "neighbour@example.com")]


def test_claiming_a_phone_callers_case_into_progress_says_to_ring_them(worker, app_ctx):
    submission = by_phone()
    worker.post(case_url(submission, "claim"), {"claim-start": "y"})
    assert flashed(worker, submission).endswith(f"You have claimed this case and marked it as in progress. {RING}")


@pytest.mark.parametrize(
    ("make", "message", "channels"),
    [
        (by_text, "We are sending it to 3 people: 2 by email and 1 by text message.", ["sms", "email", "email"]),
        (by_post, "We are sending it to 2 people: 1 by email and 1 by post.", ["letter", "email"]),
    ],
)
def test_the_confirmation_says_how_it_goes_when_not_everyone_gets_an_email(worker, app_ctx, make, message, channels):
    submission = make(status="in_progress")
    followed(submission, "neighbour@example.com", *(["other@example.com"] if make is by_text else []))
    worker.post(case_url(submission, "updates"), {"update-update": "Filled today."})
    banner = flashed(worker, submission)
    assert banner.endswith(f"Update published. {message}") and "emailing" not in banner
    assert [channel for channel, _ in sent()] == channels


def test_one_way_that_is_not_email_is_said_as_it_is(worker, app_ctx):
    submission = by_post(status="in_progress")
    worker.post(case_url(submission, "updates"), {"update-update": "Filled today."})
    assert flashed(worker, submission).endswith("Update published. We are sending it to 1 person by post.")


def test_nobody_to_tell_says_so(worker, app_ctx):
    submission = create_submission(status="in_progress", updates_by="none")
    worker.post(case_url(submission, "updates"), {"update-update": "Filled today."})
    assert flashed(worker, submission).endswith(
        "Update published. Nobody asked for updates, so we are not sending it to anyone."
    )


def test_the_wording_for_every_mix_of_ways():
    email, text = Recipient("a@example.com", None, False), Recipient("07700 900123", "Sam", True, "sms")
    letter = Recipient("Lee\n1 Market Street\nLeeds\nLS1 6HD", "Lee", True, "letter")
    ring = Recipient(PHONE, "Pat Caller", True, "phone")
    assert told_message([email, text, letter], None) == (
        "We are sending it to 3 people: 1 by email, 1 by text message and 1 by post."
    )
    assert told_message([email, email], ring) == f"We are emailing it to 2 people. {RING}"
    assert told_message([text], None) == "We are sending it to 1 person by text message."
    assert told_message([], Recipient(PHONE, None, True, "phone")) == (
        f"We are not sending it to anyone. The resident asked for updates by phone: ring them on {PHONE} to tell them."
    )
    assert closing_message([email]) == "We will email 1 person that it is closed."
    assert closing_message([letter]) == "We will tell 1 person by post that it is closed."
    assert (
        closing_message([text, email]) == "We will tell 2 people that it is closed: 1 by email and 1 by text message."
    )
    assert closing_message([]) == "Nobody will be sent a message that it is closed."
    assert duplicate_messages("RP-1111-2222", []) == ["Nobody will be sent the updates of RP-1111-2222."]


# Confirming a close or a duplicate ----------------------------------------------------------------------------------


def test_closing_a_phone_callers_case_says_to_ring_them_before_and_after(worker, app_ctx):
    submission = followed(by_phone(), "neighbour@example.com")
    response = worker.post(case_url(submission, "updates"), {"update-status": "closed"})
    page = worker.get(response.location)
    warning = page.soup.select_one(".govuk-warning-text").get_text(" ", strip=True)
    assert warning.endswith("We will email 1 person that it is closed. Only staff can reopen it.")
    assert page.soup.select_one(".govuk-inset-text").get_text(" ", strip=True) == RING
    worker.post(response.location, {})
    assert flashed(worker, submission).endswith(f"Case closed. We are emailing it to 1 person. {RING}")


def test_closing_a_texters_case_says_it_goes_by_text_too(worker, app_ctx):
    submission = followed(by_text(), "neighbour@example.com")
    response = worker.post(case_url(submission, "updates"), {"update-status": "closed"})
    page = worker.get(response.location)
    assert "We will tell 2 people that it is closed: 1 by email and 1 by text message." in page.text
    assert "We will email" not in page.text and page.soup.select_one(".govuk-inset-text") is None


@pytest.mark.parametrize(
    ("make", "name", "way"), [(by_text, "Sam Caller", "text message"), (by_post, "Lee Caller", "post")]
)
def test_a_duplicate_moves_only_the_people_who_get_emails(worker, app_ctx, make, name, way):
    original = create_submission()
    submission = followed(make(), "neighbour@example.com")
    response = worker.post(case_url(submission, "duplicate"), {"duplicate-original": original.reference})
    page = worker.get(response.location)
    assert f"1 person will get the updates of {original.reference} by email instead." in page.text
    assert (
        f"{name} gets updates by {way}: we will tell them it was already reported, but they will not get the "
        f"updates of {original.reference}."
    ) in page.text
    assert "2 people" not in page.text
    worker.post(response.location, {})
    following = db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all()
    assert following == ["neighbour@example.com"]


def test_a_duplicate_of_a_phone_callers_report_says_to_ring_them(worker, app_ctx):
    original = create_submission()
    submission = by_phone()
    response = worker.post(case_url(submission, "duplicate"), {"duplicate-original": original.reference})
    page = worker.get(response.location)
    assert f"Nobody will be sent the updates of {original.reference}." in page.text
    assert page.soup.select_one(".govuk-inset-text").get_text(" ", strip=True) == RING
    worker.post(response.location, {})
    assert flashed(worker, submission).endswith(f"Marked as a duplicate of {original.reference}. {RING}")
    assert sent() == []


def test_moving_a_case_says_nothing_of_ringing(worker, app_ctx):
    submission = by_phone()
    response = worker.post(case_url(submission, "move"), {"move-queue": "street-lighting", "move-reason": "A light"})
    page = worker.get(response.location)
    assert page.soup.select_one(".govuk-inset-text") is None

"""Letters for people who chose them (``updates_by == "letter"``), often callers with no email address or mobile:
the messages they would have been emailed go by post, through GOV.UK Notify's letter API or, by default, to the
log. People following a report still get emails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import select

from tests import notify_stub
from tests.factories import create_staff, create_submission, pay_for
from tests.notify_stub import LETTER_TEMPLATE_IDS, NotifyStub
from tests.staff_helpers import sign_in
from webapp import cases, lifecycle, notifications
from webapp.extensions import db
from webapp.lifecycle import Actor
from webapp.models import Follower, Notification, Status, Submission, utcnow
from webapp.notifications import describe

ADDRESS = "1 Market Street\nLeeds\nLS1 6HD"
POSTED_TO = f"Pat Caller\n{ADDRESS}"


def messages(**where: str) -> list[Notification]:
    query = select(Notification).filter_by(**where).order_by(Notification.id)
    return list(db.session.scalars(query))


def by_post(**overrides) -> Submission:
    """A report made for a caller who gave their address and no email address, and chose letters."""
    values = {"contact_name": "Pat Caller", "contact_address": ADDRESS, "updates_by": "letter", "channel": "phone"}
    return create_submission(**{**values, **overrides})


def received_letter(address: str = POSTED_TO, submission: Submission | None = None) -> Notification:
    message = notifications.queue_letter(
        address,
        "submission-received",
        submission,
        greeting="Dear Pat Caller,",
        service="Report a road problem",
        received="Thank you. We have received your report.",
        noun="report",  # not in the letter: not kept
        reference="RP-7K3F-9QX2",
        summary="What you told us\nProblem: Pothole\nLocation: Briggate, City Centre",
        what_happens_next="We will inspect it within 5 working days.",
        progress_url="http://localhost/check-progress",
        phone="0300 123 4567",  # not in its template: not kept
    )
    db.session.commit()
    return message


def test_queue_letter_stores_the_address_heading_and_only_the_values_it_uses(app_ctx):
    before = utcnow()
    message = received_letter(" Pat Caller \n1 Market Street\n\nLeeds\nLS1 6HD\n")
    assert (message.channel, message.to, message.template) == ("letter", POSTED_TO, "submission-received")
    assert message.subject == "Report a road problem: your reference is RP-7K3F-9QX2"
    assert message.body == (
        "Dear Pat Caller,\n\n"
        "Thank you. We have received your report.\n\n"
        "Your reference is RP-7K3F-9QX2. Give it if you contact us about this.\n\n"
        "What you told us\nProblem: Pothole\nLocation: Briggate, City Centre\n\n"
        "What happens next\nWe will inspect it within 5 working days.\n\n"
        "You can check its progress at any time: go to http://localhost/check-progress and enter your reference.\n\n"
        "Yours sincerely\n\nExample City Council"
    )
    assert set(message.personalisation) == {
        "service",
        "reference",
        "greeting",
        "received",
        "summary",
        "what_happens_next",
        "progress_url",
        "council",
    }
    assert (message.status, message.attempts) == ("queued", 0)
    assert before <= message.next_attempt_at <= utcnow()


def test_a_long_address_is_kept_whole(app_ctx):
    street = "A very long street name " * 8
    message = received_letter(f"Pat Caller\n{street}\nLeeds\nLS1 6HD")
    db.session.commit()
    db.session.refresh(message)
    assert street.strip() in message.to and message.to.endswith("LS1 6HD")
    assert message.status == "queued"


# The "received" letter and the receipt -----------------------------------------------------------------------------


def test_a_caller_who_chose_letters_gets_the_received_letter_with_their_name_on_it(app_ctx):
    submission = by_post(queue=None, routing_rule=None)
    lifecycle.open_submission(submission, Actor.member_of_staff(create_staff("agent", ())), Status.RECEIVED)
    db.session.commit()
    [letter] = messages()
    assert (letter.channel, letter.to, letter.template) == ("letter", POSTED_TO, "submission-received")
    assert letter.body.startswith("Dear Pat Caller,\n\nThank you. We have received your report.")
    assert f"Your reference is {submission.reference}." in letter.body
    # A letter cannot be clicked: the page's address to type, not a link with a query.
    assert "go to http://localhost/check-progress and enter your reference." in letter.body
    assert "?reference=" not in letter.body and "?reference=" not in str(letter.personalisation)


def test_a_paid_submission_gets_its_receipt_by_post(app_ctx):
    submission = by_post(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    pay_for(submission)
    [letter] = messages()
    assert (letter.channel, letter.to, letter.template) == ("letter", POSTED_TO, "payment-received")
    assert letter.subject.endswith(f"receipt for your payment, reference {submission.reference}")
    assert "Thank you for your payment. This letter is your receipt." in letter.body
    assert "Payment for: Parking fine AB12345678\nAmount paid: £70.00\n" in letter.body


def test_no_address_gets_no_letter_and_an_email_address_still_gets_the_email(app_ctx):
    agent = Actor.member_of_staff(create_staff("agent", ()))
    no_address = by_post(contact_address=None, queue=None, routing_rule=None)
    with_email = by_post(contact_email="pat@example.com", queue=None, routing_rule=None)
    for submission in (no_address, with_email):
        lifecycle.open_submission(submission, agent, Status.RECEIVED)
    db.session.commit()
    [message] = messages()
    assert (message.channel, message.to, message.submission) == ("email", "pat@example.com", with_email)


# Case updates ------------------------------------------------------------------------------------------------------


def test_a_case_update_goes_by_post_and_followers_still_get_emails(app_ctx):
    submission = by_post()
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    told = cases.update_case(
        submission, "Is it deeper than 5 centimetres?", create_staff(), Status.AWAITING_INFORMATION
    )
    assert [(person.channel, person.to) for person in told] == [
        ("letter", POSTED_TO),
        ("email", "neighbour@example.com"),
    ]
    letter, email = messages(template="case-update")
    assert (letter.channel, letter.to) == ("letter", POSTED_TO)
    assert letter.subject == f"Update on your report {submission.reference}"
    assert letter.body == (
        "Dear Pat Caller,\n\n"
        "We need more information from you before we can go on with your report.\n\n"
        '"Is it deeper than 5 centimetres?"\n\n'
        "To give us the information, call us on 0300 123 4567 and give your reference.\n\n"
        f"Reference: {submission.reference}\n"
        "Status: Waiting for more information\n\n"
        "You can check its progress at any time: go to http://localhost/check-progress and enter your reference.\n\n"
        "Yours sincerely\n\nExample City Council"
    )
    assert "email address" not in letter.body
    assert (email.channel, email.to) == ("email", "neighbour@example.com")


def test_a_letter_reporter_is_told_of_a_duplicate_and_not_made_to_follow_the_original(app_ctx):
    original = create_submission()
    submission = by_post()
    cases.mark_duplicate(submission, original.reference, create_staff())
    assert db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all() == []
    [letter] = messages(channel="letter")
    assert f"already been reported, as {original.reference}." in letter.body
    assert "We will send you its updates" not in letter.body
    assert "If you have a question about this, call us on 0300 123 4567" in letter.body


# Senders -----------------------------------------------------------------------------------------------------------


def test_the_log_sender_logs_a_letter(app_ctx, caplog):
    message = received_letter()
    caplog.set_level("INFO", logger="webapp.notifications")
    assert notifications.send_due().sent == 1
    assert (message.status, message.attempts) == ("sent", 1)
    [record] = [r for r in caplog.records if r.name == "webapp.notifications"]
    assert record.getMessage() == (
        f"letter to='Pat Caller, 1 Market Street, Leeds, LS1 6HD' subject={message.subject!r} "
        f"notification={message.id}\n{message.body}"
    )


@pytest.mark.parametrize(
    ("address", "lines"),
    [("Pat Caller\nLS1 6HD", 2), ("\n".join(f"Line {n}" for n in range(1, 8)) + "\nLS1 6HD", 8)],
)
def test_an_address_of_too_few_or_too_many_lines_fails_at_once(app_ctx, address, lines):
    message = received_letter(address)
    outcome = notifications.send_due()
    assert (outcome.sent, outcome.retrying, outcome.failed) == (0, 0, 1)
    assert (message.status, message.attempts, message.next_attempt_at) == ("failed", 1, None)
    assert message.last_error == (
        f"The address has {lines} lines: a letter needs 3 to 7 (the name, the building and street, the town and "
        "the postcode)"
    )


@pytest.fixture
def notify(app_ctx: Flask) -> Iterator[NotifyStub]:
    with NotifyStub() as stub:
        notify_stub.use_notify(app_ctx.config, stub.url)
        yield stub


def test_notify_sends_a_letter_through_its_letter_api_with_the_address_lines(notify):
    message = received_letter()
    assert notifications.send_due().sent == 1
    [received] = notify.received
    assert received.path == "/v2/notifications/letter"
    assert received.body == {
        "template_id": LETTER_TEMPLATE_IDS["submission-received"],
        "personalisation": {
            "address_line_1": "Pat Caller",
            "address_line_2": "1 Market Street",
            "address_line_3": "Leeds",
            "address_line_4": "LS1 6HD",
            **message.personalisation,
        },
        "reference": f"notification-{message.id}",
    }
    assert received.claims()["iss"] == notify_stub.SERVICE_ID and received.status == 201
    assert (message.status, message.provider_reference) == ("sent", received.response["id"])


def test_a_postcode_notify_refuses_fails_at_once_and_a_busy_notify_is_tried_again(notify):
    refused = received_letter("Pat Caller\n1 Market Street\nLeeds")
    busy = received_letter()
    notify.fail_next(429, "Exceeded rate limit")
    outcome = notifications.send_due()
    assert (outcome.sent, outcome.retrying, outcome.failed) == (0, 1, 1)
    assert (refused.status, refused.last_error) == ("failed", "400 ValidationError: Must be a real UK postcode")
    assert (busy.status, busy.last_error) == ("queued", "429 RateLimitError: Exceeded rate limit")


def test_an_address_of_too_few_lines_never_reaches_notify(notify):
    message = received_letter("Pat Caller\nLS1 6HD")
    assert notifications.send_due().failed == 1
    assert notify.received == [] and message.last_error.startswith("The address has 2 lines")


@pytest.mark.parametrize(
    ("personalisation", "error"),
    [
        ({"name": "Pat"}, "personalisation address_line_1 is a required property"),
        ({"address_line_1": "Pat Caller", "address_line_2": "LS1 6HD"}, "Address must be at least 3 lines"),
        (
            {"address_line_1": "Pat Caller", "address_line_2": "1 Market Street", "address_line_3": "Leeds"},
            "Must be a real UK postcode",
        ),
    ],
)
def test_the_stub_checks_a_letters_address_as_notify_does(notify, personalisation, error):
    client = NotificationsAPIClient(notify_stub.API_KEY, base_url=notify.url)
    with pytest.raises(HTTPError) as refused:
        client.send_letter_notification(template_id="x", personalisation=personalisation)
    assert describe(refused.value) == f"400 ValidationError: {error}"
    assert refused.value.response.json() == {
        "status_code": 400,
        "errors": [{"error": "ValidationError", "message": error}],
    }
    with pytest.raises(HTTPError) as missing:
        client.post("/v2/notifications/letter", data={"template_id": "x"})
    assert describe(missing.value) == "400 ValidationError: personalisation is a required property"


# The outbox --------------------------------------------------------------------------------------------------------


def test_the_outbox_shows_a_letter_and_its_address(resident, app_ctx):
    submission = by_post()
    letter = received_letter(submission=submission)
    sign_in(resident, create_staff("admin", ()))
    listing = resident.get("/staff/outbox")
    [row] = listing.soup.select("tbody tr")
    assert row.find(attrs={"data-label": "Type"}).get_text(strip=True) == "Letter"
    assert row.find(attrs={"data-label": "To"}).get_text("|", strip=True) == POSTED_TO.replace("\n", "|")
    assert row.find("a").get_text(strip=True) == letter.subject
    page = resident.get(f"/staff/outbox/{letter.id}")
    assert page.h1 == letter.subject
    summary = {
        row.select_one(".govuk-summary-list__key").get_text(strip=True): row.select_one(
            ".govuk-summary-list__value"
        ).get_text("|", strip=True)
        for row in page.soup.select(".govuk-summary-list__row")
    }
    assert summary["Type"] == "Letter"
    assert summary["To"] == "Pat Caller|1 Market Street|Leeds|LS1 6HD"
    assert "Yours sincerely" in page.text

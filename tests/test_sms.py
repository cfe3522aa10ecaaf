"""Text messages for people who chose them (``updates_by == "sms"``), often callers with no email address: the
messages they would have been emailed go to their mobile number, through GOV.UK Notify's text message API or, by
default, to the log. Everyone else's emails stay as they were."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import select

from tests import notify_stub
from tests.factories import create_staff, create_submission, pay_for
from tests.notify_stub import SMS_TEMPLATE_IDS, TEMPLATE_IDS, NotifyStub
from tests.staff_helpers import sign_in
from webapp import cases, lifecycle, notifications
from webapp.extensions import db
from webapp.lifecycle import Actor
from webapp.models import Follower, Notification, Status, Submission, utcnow
from webapp.notifications import describe

MOBILE = "07700 900123"


def messages(**where: str) -> list[Notification]:
    query = select(Notification).filter_by(**where).order_by(Notification.id)
    return list(db.session.scalars(query))


def by_text(**overrides) -> Submission:
    """A report made for a caller who gave a mobile number and no email address, and chose text messages."""
    values = {"contact_name": "Sam Caller", "contact_phone": MOBILE, "updates_by": "sms", "channel": "phone"}
    return create_submission(**{**values, **overrides})


def test_queue_sms_stores_a_text_message_with_no_subject(app_ctx):
    submission = by_text()
    before = utcnow()
    message = notifications.queue_sms(
        MOBILE,
        "submission-received",
        submission,
        noun="report",
        reference=submission.reference,
        progress_url="http://localhost/check-progress?reference=X",
        greeting="Dear Sam Caller,",  # the email twin's: a text message keeps only what its template uses
    )
    db.session.commit()
    assert (message.channel, message.to, message.template, message.subject) == (
        "sms",
        MOBILE,
        "submission-received",
        "",
    )
    assert message.body == (
        f"Example City Council: we have received your report. Your reference is {submission.reference}\n\n"
        "Check its progress at http://localhost/check-progress?reference=X"
    )
    assert message.personalisation == {
        "council": "Example City Council",
        "noun": "report",
        "reference": submission.reference,
        "progress_url": "http://localhost/check-progress?reference=X",
    }
    assert message.submission is submission and (message.status, message.attempts) == ("queued", 0)
    assert before <= message.next_attempt_at <= utcnow()


def test_a_missing_placeholder_is_an_error_not_a_blank(app_ctx):
    with pytest.raises(KeyError, match="pay_url"):
        notifications.queue_sms(MOBILE, "payment-link", description="Parking fine", amount="£70.00", reference="X")
    db.session.rollback()


# Received: the sms twin of the "received" email ------------------------------------------------------------------


def test_a_caller_who_chose_text_messages_gets_the_received_message_by_text(app_ctx):
    submission = by_text(queue=None, routing_rule=None)
    lifecycle.open_submission(submission, Actor.member_of_staff(create_staff("agent", ())), Status.RECEIVED)
    db.session.commit()
    [message] = messages()
    assert (message.channel, message.to, message.template) == ("sms", MOBILE, "submission-received")
    assert f"Your reference is {submission.reference}" in message.body
    assert message.body.count("http") == 1
    assert f"/check-progress?reference={submission.reference}" in message.body


def test_a_paid_submission_gets_its_receipt_by_text(app_ctx):
    submission = by_text(status=Status.AWAITING_PAYMENT, queue=None, routing_rule=None)
    pay_for(submission)
    [message] = messages()
    assert (message.channel, message.template) == ("sms", "payment-received")
    assert message.body.startswith(
        "Example City Council: thank you for your payment of £70.00 for Parking fine AB12345678 on "
    )
    assert set(message.personalisation) == {"council", "amount", "description", "paid_on", "reference", "progress_url"}


def test_an_email_address_still_gets_the_email_and_no_choice_gets_nothing(app_ctx):
    agent = Actor.member_of_staff(create_staff("agent", ()))
    with_email = by_text(contact_email="sam@example.com", queue=None, routing_rule=None)
    by_phone_call = by_text(updates_by="phone", queue=None, routing_rule=None)
    no_number = by_text(contact_phone=None, queue=None, routing_rule=None)
    for submission in (with_email, by_phone_call, no_number):
        lifecycle.open_submission(submission, agent, Status.RECEIVED)
    db.session.commit()
    [message] = messages()
    assert (message.channel, message.to, message.template) == ("email", "sam@example.com", "submission-received")
    assert message.submission is with_email and message.subject.endswith(f"your reference is {with_email.reference}")


# Case updates -----------------------------------------------------------------------------------------------------


def test_a_case_update_goes_by_text_and_followers_still_get_emails(app_ctx):
    caseworker = create_staff()
    submission = by_text()
    db.session.add(Follower(submission=submission, email="neighbour@example.com"))
    db.session.commit()
    told = cases.update_case(
        submission, "What colour is the car parked over it?", caseworker, Status.AWAITING_INFORMATION
    )
    assert [(person.channel, person.to) for person in told] == [("sms", MOBILE), ("email", "neighbour@example.com")]
    text, email = messages(template="case-update")
    assert (text.channel, text.to, text.subject) == ("sms", MOBILE, "")
    assert text.body == (
        "Example City Council: We need more information from you before we can go on with your report.\n\n"
        '"What colour is the car parked over it?"\n\n'
        "To give us the information, call us on 0300 123 4567 and give your reference.\n\n"
        f"Reference: {submission.reference}\n"
        f"Check its progress at http://localhost/check-progress?reference={submission.reference}"
    )
    assert "email address" not in text.body
    assert (email.channel, email.to) == ("email", "neighbour@example.com")
    assert email.body.startswith(f"Hello,\n\nYou asked for updates on {submission.reference}.")


def test_an_update_with_no_next_step_leaves_no_gap(app_ctx):
    submission = by_text()
    cases.update_case(submission, "An inspector will visit on Friday.", create_staff())
    [text] = messages(channel="sms")
    assert "\n\n\n" not in text.body
    assert '"An inspector will visit on Friday."\n\nReference: ' in text.body


def test_a_text_message_reporter_is_not_made_to_follow_the_original(app_ctx):
    caseworker = create_staff()
    original = create_submission()
    submission = by_text()
    cases.mark_duplicate(submission, original.reference, caseworker)
    assert db.session.scalars(select(Follower.email).where(Follower.submission_id == original.id)).all() == []
    [text] = messages(channel="sms")
    assert f"already been reported, as {original.reference}." in text.body
    assert "We will send you its updates" not in text.body
    assert "If you have a question about this, call us on 0300 123 4567" in text.body


# Senders ----------------------------------------------------------------------------------------------------------


def queue_text(submission: Submission | None = None) -> Notification:
    message = notifications.queue_sms(
        MOBILE,
        "payment-link",
        submission,
        description="Parking fine AB12345678",
        amount="£70.00",
        reference="PF-7K3F-9QX2",
        pay_url="http://localhost/pay/abc",
        expires="3 December 2026 at 5:00pm",
    )
    db.session.commit()
    return message


def test_the_log_sender_logs_a_text_message(app_ctx, caplog):
    message = queue_text()
    caplog.set_level("INFO", logger="webapp.notifications")
    assert notifications.send_due().sent == 1
    assert (message.status, message.attempts) == ("sent", 1)
    [record] = [r for r in caplog.records if r.name == "webapp.notifications"]
    assert record.getMessage() == f"sms to={MOBILE} notification={message.id}\n{message.body}"


@pytest.fixture
def notify(app_ctx: Flask) -> Iterator[NotifyStub]:
    with NotifyStub() as stub:
        notify_stub.use_notify(app_ctx.config, stub.url)
        yield stub


def test_notify_sends_a_text_message_through_its_sms_api(notify):
    message = queue_text()
    assert notifications.send_due().sent == 1
    [received] = notify.received
    assert received.path == "/v2/notifications/sms"
    assert received.body == {
        "phone_number": MOBILE,
        "template_id": SMS_TEMPLATE_IDS["payment-link"],
        "personalisation": message.personalisation,
        "reference": f"notification-{message.id}",
    }
    assert received.claims()["iss"] == notify_stub.SERVICE_ID and received.status == 201
    assert (message.status, message.provider_reference) == ("sent", received.response["id"])


def test_notify_sends_emails_and_text_messages_side_by_side(notify):
    email = notifications.queue_email(
        "sam@example.com",
        "payment-link",
        greeting="Dear Sam,",
        description="Parking fine AB12345678",
        amount="£70.00",
        reference="PF-7K3F-9QX2",
        pay_url="http://localhost/pay/abc",
        expires="3 December 2026 at 5:00pm",
    )
    text = queue_text()
    assert notifications.send_due().sent == 2
    assert [(r.path, r.body["template_id"]) for r in notify.received] == [
        ("/v2/notifications/email", TEMPLATE_IDS["payment-link"]),
        ("/v2/notifications/sms", SMS_TEMPLATE_IDS["payment-link"]),
    ]
    assert email.status == text.status == "sent"


def test_a_text_message_notify_refuses_fails_at_once_and_a_busy_notify_is_tried_again(notify):
    refused, busy = queue_text(), queue_text()
    notify.fail_next(400, "Not a UK mobile number")
    notify.fail_next(429, "Exceeded rate limit")
    outcome = notifications.send_due()
    assert (outcome.sent, outcome.retrying, outcome.failed) == (0, 1, 1)
    assert (refused.status, refused.last_error) == ("failed", "400 BadRequestError: Not a UK mobile number")
    assert (busy.status, busy.last_error) == ("queued", "429 RateLimitError: Exceeded rate limit")


def test_the_stub_checks_what_the_sms_api_needs(notify):
    """So an email's fields sent to the text message API would not pass."""
    client = NotificationsAPIClient(notify_stub.API_KEY, base_url=notify.url)
    with pytest.raises(HTTPError) as refused:
        client.post("/v2/notifications/sms", data={"email_address": "sam@example.com", "template_id": "x"})
    assert describe(refused.value) == "400 ValidationError: phone_number is a required property"


# The outbox -------------------------------------------------------------------------------------------------------


def test_the_outbox_shows_a_text_message_with_no_subject(resident, app_ctx):
    submission = by_text()
    email = notifications.queue_email(
        "sam@example.com",
        "following-report",
        submission,
        reference=submission.reference,
        progress_url="http://localhost/check-progress",
    )
    text = queue_text(submission)
    sign_in(resident, create_staff("admin", ()))
    listing = resident.get("/staff/outbox")
    rows = {row.find("a").get_text(strip=True): row for row in listing.soup.select("tbody tr")}
    assert rows[email.subject].find(attrs={"data-label": "Type"}).get_text(strip=True) == "Email"
    [preview] = [title for title in rows if title.startswith("Example City Council: to pay")]
    assert rows[preview].find(attrs={"data-label": "Type"}).get_text(strip=True) == "Text message"
    page = resident.get(f"/staff/outbox/{text.id}")
    assert page.h1 == f"Text message to {MOBILE}"
    summary = {
        row.select_one(".govuk-summary-list__key").get_text(strip=True): row.select_one(
            ".govuk-summary-list__value"
        ).get_text(strip=True)
        for row in page.soup.select(".govuk-summary-list__row")
    }
    assert summary["Type"] == "Text message" and "Subject" not in summary
    assert "The link works until 3 December 2026 at 5:00pm." in page.text

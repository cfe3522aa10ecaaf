"""The outbox: web requests only queue messages; the worker sends them, retrying with back-off."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests import notify_stub
from tests.factories import create_submission
from tests.journey_helpers import submit, walk
from tests.notify_stub import LETTER_TEMPLATE_IDS, SMS_TEMPLATE_IDS, TEMPLATE_IDS, NotifyStub
from webapp import config, notifications
from webapp.extensions import db
from webapp.models import Notification, utcnow
from webapp.notifications import MAX_ATTEMPTS, RETRY_DELAYS, NotifySender, SendError


def queue_update(to: str = "sam@example.com") -> Notification:
    submission = create_submission()
    notification = notifications.queue_email(
        to,
        "case-update",
        submission,
        subject=f"Update on your report {submission.reference}",
        greeting="Dear Sam Resident,",
        change="We have marked your report as fixed.",
        update='"We have fixed the pothole."',
        next_step="",
        reference=submission.reference,
        status="Fixed or resolved",
        progress_url=f"http://localhost/check-progress?reference={submission.reference}",
    )
    db.session.commit()
    return notification


def make_due(notification: Notification) -> None:
    notification.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


class Recording:
    """A sender that records what it was given and fails as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[int] = []

    def send(self, notification: Notification) -> str | None:
        if self.error is not None:
            raise self.error
        self.sent.append(notification.id)
        return None

    def close(self) -> None:
        pass


def test_queue_email_stores_the_message_and_its_personalisation(app_ctx):
    before = utcnow()
    notification = queue_update()
    assert notification.subject == f"Update on your report {notification.submission.reference}"
    assert '"We have fixed the pothole."' in notification.body
    assert "Status: Fixed or resolved" in notification.body
    assert f"http://localhost/check-progress?reference={notification.submission.reference}" in notification.body
    assert notification.body.startswith("Dear Sam Resident,\n\nWe have marked your report as fixed.")
    assert notification.body.endswith("Example City Council")
    assert notification.personalisation == {
        "council": "Example City Council",
        "subject": f"Update on your report {notification.submission.reference}",
        "greeting": "Dear Sam Resident,",
        "change": "We have marked your report as fixed.",
        "update": '"We have fixed the pothole."',
        "next_step": "",
        "reference": notification.submission.reference,
        "status": "Fixed or resolved",
        "progress_url": f"http://localhost/check-progress?reference={notification.submission.reference}",
    }
    assert (notification.status, notification.attempts) == ("queued", 0)
    assert before <= notification.next_attempt_at <= utcnow()


def test_the_log_sender_sends_queued_messages_and_marks_them_sent(app_ctx, caplog):
    first, second = queue_update("a@example.com"), queue_update("b@example.com")
    caplog.set_level("INFO", logger="webapp.notifications")
    outcome = notifications.send_due()
    assert (outcome.sent, outcome.retrying, outcome.failed) == (2, 0, 0)
    for notification in (first, second):
        assert (notification.status, notification.attempts, notification.last_error) == ("sent", 1, None)
        assert notification.sent_at is not None and notification.next_attempt_at is None
        assert notification.subject in caplog.text
    # Nothing is sent twice.
    assert notifications.send_due().sent == 0


def test_a_message_is_not_sent_before_its_next_attempt(app_ctx):
    notification = queue_update()
    notification.next_attempt_at = utcnow() + timedelta(minutes=1)
    db.session.commit()
    sender = Recording()
    assert notifications.send_due(chosen=sender).sent == 0
    assert sender.sent == [] and notification.status == "queued"
    make_due(notification)
    assert notifications.send_due(chosen=sender).sent == 1
    assert sender.sent == [notification.id]


def test_due_messages_go_oldest_first_in_batches(app_ctx):
    queued = [queue_update(f"{n}@example.com").id for n in range(3)]
    sender = Recording()
    assert notifications.send_due(limit=2, chosen=sender).sent == 2
    assert notifications.send_due(limit=2, chosen=sender).sent == 1
    assert sender.sent == queued


def test_failed_sends_back_off_then_fail(app_ctx):
    notification = queue_update()
    sender = Recording(SendError("503 Request failed"))
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        before = utcnow()
        assert notifications.send_due(chosen=sender).retrying == 1
        assert (notification.status, notification.attempts) == ("queued", attempt)
        assert notification.last_error == "503 Request failed"
        assert before + delay <= notification.next_attempt_at <= utcnow() + delay
        # Not again until it is due.
        assert notifications.send_due(chosen=sender).retrying == 0
        make_due(notification)
    assert notifications.send_due(chosen=sender).failed == 1
    assert (notification.status, notification.attempts) == ("failed", MAX_ATTEMPTS)
    assert notification.next_attempt_at is None and notification.sent_at is None
    make_due(notification)
    assert notifications.send_due(chosen=sender).failed == 0


def test_a_permanent_error_fails_at_once(app_ctx):
    notification = queue_update()
    notifications.send_due(chosen=Recording(SendError("400 BadRequestError: no", permanent=True)))
    assert (notification.status, notification.attempts, notification.last_error) == (
        "failed",
        1,
        "400 BadRequestError: no",
    )


def test_an_unexpected_error_is_tried_again_and_kept_short(app_ctx):
    notification = queue_update()
    notifications.send_due(chosen=Recording(ValueError("x" * 2000)))
    assert notification.status == "queued" and notification.attempts == 1
    assert notification.last_error.startswith("ValueError: xxx") and len(notification.last_error) == 500


def test_two_workers_never_send_the_same_message(app, db_name):
    if db_name != "postgresql":
        pytest.skip("SELECT ... FOR UPDATE SKIP LOCKED needs PostgreSQL")
    with app.app_context():
        first, second = queue_update("a@example.com").id, queue_update("b@example.com").id
    inside, release = threading.Event(), threading.Event()

    class Slow(Recording):
        def send(self, notification: Notification) -> str | None:
            inside.set()
            release.wait(timeout=10)
            return super().send(notification)

    slow, quick = Slow(), Recording()

    def work() -> None:
        with app.app_context():
            notifications.send_due(limit=1, chosen=slow)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        assert inside.wait(timeout=10)
        with app.app_context():
            assert notifications.send_due(chosen=quick).sent == 1
        # ...without waiting for the first worker to finish.
        assert thread.is_alive()
    finally:
        release.set()
        thread.join(timeout=10)
    assert (slow.sent, quick.sent) == ([first], [second])


# GOV.UK Notify, through a local stub of its HTTP API.


@pytest.fixture
def stub() -> Iterator[NotifyStub]:
    with NotifyStub() as running:
        yield running


@pytest.fixture
def notify(app_ctx: Flask, stub: NotifyStub) -> NotifyStub:
    notify_stub.use_notify(app_ctx.config, stub.url)
    return stub


def test_notify_sender_sends_the_template_and_personalisation(notify):
    notification = queue_update()
    assert notifications.send_due().sent == 1
    [received] = notify.received
    assert received.path == "/v2/notifications/email"
    assert received.body == {
        "email_address": "sam@example.com",
        "template_id": TEMPLATE_IDS["case-update"],
        "personalisation": notification.personalisation,
        "reference": f"notification-{notification.id}",
    }
    assert received.headers["Authorization"].startswith("Bearer ")
    assert received.claims()["iss"] == notify_stub.SERVICE_ID
    assert received.status == 201
    assert (notification.status, notification.attempts) == ("sent", 1)
    assert notification.provider_reference == received.response["id"]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, "500 Exception: Internal server error"), (429, "429 RateLimitError: Exceeded rate limit")],
)
def test_notify_server_errors_and_rate_limits_are_tried_again(notify, status, error):
    notification = queue_update()
    notify.fail_next(status, error.split(": ", 1)[1])
    assert notifications.send_due().retrying == 1
    assert (notification.status, notification.attempts, notification.last_error) == ("queued", 1, error)
    assert notification.provider_reference is None
    make_due(notification)
    assert notifications.send_due().sent == 1
    assert notification.status == "sent" and notification.provider_reference == notify.received[-1].response["id"]


def test_notify_bad_request_fails_at_once(notify):
    notification = queue_update()
    notify.fail_next(400, "Can't send to this recipient using a team-only API key")
    assert notifications.send_due().failed == 1
    assert (notification.status, notification.attempts) == ("failed", 1)
    assert notification.last_error == "400 BadRequestError: Can't send to this recipient using a team-only API key"


def test_a_key_notify_does_not_know_is_tried_again_later(notify, app_ctx):
    """A refused key is a configuration mistake: the messages wait for it to be put right."""
    app_ctx.config["NOTIFY_API_KEY"] = (
        f"other-key-{notify_stub.SERVICE_ID}-{'0' * 8}-{'0' * 4}-{'0' * 4}-{'0' * 4}-{'0' * 12}"
    )
    notification = queue_update()
    notifications.send_due()
    assert notify.received[0].status == 403
    assert (notification.status, notification.attempts) == ("queued", 1)
    assert notification.next_attempt_at > notification.created_at
    assert notification.last_error == "403 AuthError: Invalid token: signature, api token not found"


def test_notify_unreachable_is_tried_again(app_ctx):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    app_ctx.config.update(
        EMAIL_SENDER="notify",
        NOTIFY_API_KEY=notify_stub.API_KEY,
        NOTIFY_BASE_URL=f"http://127.0.0.1:{port}",
        NOTIFY_TEMPLATES=dict(TEMPLATE_IDS),
        NOTIFY_SMS_TEMPLATES=dict(SMS_TEMPLATE_IDS),
        NOTIFY_LETTER_TEMPLATES=dict(LETTER_TEMPLATE_IDS),
    )
    notification = queue_update()
    assert notifications.send_due().retrying == 1
    assert notification.status == "queued" and notification.last_error.startswith("503 ")


def test_the_notify_sender_needs_a_key_and_every_template_id():
    ids = (TEMPLATE_IDS, SMS_TEMPLATE_IDS, LETTER_TEMPLATE_IDS)
    with pytest.raises(RuntimeError, match="NOTIFY_API_KEY"):
        NotifySender("not-a-key", *ids, "http://127.0.0.1", 1)
    with pytest.raises(RuntimeError, match=r"for: case-update \(email\)$"):
        NotifySender(notify_stub.API_KEY, {**TEMPLATE_IDS, "case-update": None}, *ids[1:], "http://127.0.0.1", 1)
    with pytest.raises(RuntimeError, match=r"for: payment-link \(text message\)$"):
        NotifySender(
            notify_stub.API_KEY,
            TEMPLATE_IDS,
            {**SMS_TEMPLATE_IDS, "payment-link": ""},
            LETTER_TEMPLATE_IDS,
            "http://127.0.0.1",
            1,
        )
    with pytest.raises(RuntimeError, match=r"for: payment-received \(letter\)$"):
        NotifySender(
            notify_stub.API_KEY, *ids[:2], {**LETTER_TEMPLATE_IDS, "payment-received": None}, "http://127.0.0.1", 1
        )


def test_there_is_a_template_id_setting_for_every_template():
    assert set(config.NOTIFY_TEMPLATE_SETTINGS) == set(notifications.TEMPLATES)
    assert set(config.NOTIFY_SMS_TEMPLATE_SETTINGS) == set(notifications.SMS_TEMPLATES)
    assert set(config.NOTIFY_LETTER_TEMPLATE_SETTINGS) == set(notifications.LETTER_TEMPLATES)


PRODUCTION = {
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgresql+psycopg://council@db/council",
    "PAYMENT_PROVIDER": "sandbox",
    "BASE_URL": "https://services.example.gov.uk",
    "TASK_QUEUE_URL": "redis://redis.internal:6379/0",
    "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/1",
}
TEMPLATE_SETTINGS = {
    "NOTIFY_TEMPLATE_SUBMISSION_RECEIVED": TEMPLATE_IDS["submission-received"],
    "NOTIFY_TEMPLATE_FOLLOWING_REPORT": TEMPLATE_IDS["following-report"],
    "NOTIFY_TEMPLATE_CASE_UPDATE": TEMPLATE_IDS["case-update"],
    "NOTIFY_TEMPLATE_PAYMENT_RECEIVED": TEMPLATE_IDS["payment-received"],
    "NOTIFY_TEMPLATE_REFUND_ISSUED": TEMPLATE_IDS["refund-issued"],
    "NOTIFY_TEMPLATE_PAYMENT_LINK": TEMPLATE_IDS["payment-link"],
    "NOTIFY_TEMPLATE_SUBSCRIPTION_REMINDER": TEMPLATE_IDS["subscription-reminder"],
    "NOTIFY_TEMPLATE_OVERDUE_CASES": TEMPLATE_IDS["overdue-cases"],
}
SMS_TEMPLATE_SETTINGS = {
    "NOTIFY_SMS_TEMPLATE_SUBMISSION_RECEIVED": SMS_TEMPLATE_IDS["submission-received"],
    "NOTIFY_SMS_TEMPLATE_PAYMENT_RECEIVED": SMS_TEMPLATE_IDS["payment-received"],
    "NOTIFY_SMS_TEMPLATE_CASE_UPDATE": SMS_TEMPLATE_IDS["case-update"],
    "NOTIFY_SMS_TEMPLATE_PAYMENT_LINK": SMS_TEMPLATE_IDS["payment-link"],
    "NOTIFY_SMS_TEMPLATE_SUBSCRIPTION_REMINDER": SMS_TEMPLATE_IDS["subscription-reminder"],
}
LETTER_TEMPLATE_SETTINGS = {
    "NOTIFY_LETTER_TEMPLATE_SUBMISSION_RECEIVED": LETTER_TEMPLATE_IDS["submission-received"],
    "NOTIFY_LETTER_TEMPLATE_PAYMENT_RECEIVED": LETTER_TEMPLATE_IDS["payment-received"],
    "NOTIFY_LETTER_TEMPLATE_CASE_UPDATE": LETTER_TEMPLATE_IDS["case-update"],
    "NOTIFY_LETTER_TEMPLATE_SUBSCRIPTION_REMINDER": LETTER_TEMPLATE_IDS["subscription-reminder"],
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "EMAIL_SENDER",
        "NOTIFY_API_KEY",
        *TEMPLATE_SETTINGS,
        *SMS_TEMPLATE_SETTINGS,
        *LETTER_TEMPLATE_SETTINGS,
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_production_with_notify_refuses_to_start_without_its_settings(environment):
    environment.setenv("EMAIL_SENDER", "notify")
    environment.setenv("NOTIFY_TEMPLATE_FOLLOWING_REPORT", TEMPLATE_IDS["following-report"])
    with pytest.raises(
        RuntimeError, match="NOTIFY_API_KEY, NOTIFY_TEMPLATE_SUBMISSION_RECEIVED, NOTIFY_TEMPLATE_CASE_UP"
    ):
        config.load("production")
    for name, value in TEMPLATE_SETTINGS.items():
        environment.setenv(name, value)
    # The text message templates too: people who chose text messages get them.
    with pytest.raises(RuntimeError, match="NOTIFY_API_KEY, NOTIFY_SMS_TEMPLATE_SUBMISSION_RECEIVED, NOTIFY_SMS_T"):
        config.load("production")
    for name, value in SMS_TEMPLATE_SETTINGS.items():
        environment.setenv(name, value)
    # And the letter templates: people who chose letters get them.
    with pytest.raises(RuntimeError, match="NOTIFY_API_KEY, NOTIFY_LETTER_TEMPLATE_SUBMISSION_RECEIVED, NOTIFY_LE"):
        config.load("production")
    environment.setenv("EMAIL_SENDER", "carrier-pigeon")
    with pytest.raises(RuntimeError, match="EMAIL_SENDER"):
        config.load("production")


def test_a_notify_key_chooses_the_notify_sender(environment):
    assert config.load("production").EMAIL_SENDER == "log"
    environment.setenv("NOTIFY_API_KEY", notify_stub.API_KEY)
    for name, value in {**TEMPLATE_SETTINGS, **SMS_TEMPLATE_SETTINGS, **LETTER_TEMPLATE_SETTINGS}.items():
        environment.setenv(name, value)
    settings = config.load("production")
    assert (settings.EMAIL_SENDER, settings.NOTIFY_API_KEY) == ("notify", notify_stub.API_KEY)
    assert settings.NOTIFY_TEMPLATES == TEMPLATE_IDS
    assert settings.NOTIFY_SMS_TEMPLATES == SMS_TEMPLATE_IDS
    assert settings.NOTIFY_LETTER_TEMPLATES == LETTER_TEMPLATE_IDS


# The web request only queues; the worker sends.


def test_submitting_a_report_queues_the_email_and_the_command_sends_it(app, resident, app_ctx):
    walk(resident)
    reference = submit(resident)
    email = db.session.scalar(select(Notification))
    assert (email.status, email.attempts, email.sent_at) == ("queued", 0, None)
    assert email.personalisation["reference"] == reference

    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    assert result.output == "Sent 1 message (0 to try again later, 0 failed).\n"
    db.session.expire_all()
    assert (email.status, email.attempts) == ("sent", 1)

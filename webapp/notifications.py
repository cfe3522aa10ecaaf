"""The outbox, and the only module that sends messages: emails, and text messages (SMS) or letters to people who
chose them.

Web requests only *queue* messages: each is written to the ``notification`` table in the same
transaction as the change it tells of, with its final subject and body (so the outbox shows exactly
what was sent) and the values a template-based sender fills its template with. Once that transaction commits, a
task to send it goes on the task queue (webapp.tasks), and the worker (``flask worker``) hands it to the configured
sender, so a slow or broken email provider never holds up a page. The row stays the record: a task lost on the way
is found again by the outbox sweep, and a message is claimed before it is sent, so it is never sent twice by two
tasks. ``flask send-notifications`` sends what is due by hand.

Senders: ``LogSender`` (the embedded default) writes messages to the application log;
``NotifySender`` sends them through GOV.UK Notify, by its email, text message or letter API as the
message's channel says. A failed send is tried again later, backing off, until ``MAX_ATTEMPTS``; an error that trying
again cannot fix (a 4xx from Notify) fails it at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Template
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from flask import current_app, has_request_context, url_for
from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient
from sqlalchemy import or_, select, update
from werkzeug.routing import MapAdapter

from webapp.extensions import db
from webapp.models import Notification, Submission, utcnow

log = logging.getLogger(__name__)

# How long to wait after each failed attempt, growing fourfold (the task queue's retries: webapp.tasks); the attempt
# after the last of these is the final one.
RETRY_DELAY_SECONDS, RETRY_BACKOFF, RETRIES = 30, 4, 5
RETRY_DELAYS = tuple(timedelta(seconds=RETRY_DELAY_SECONDS * RETRY_BACKOFF**n) for n in range(RETRIES))
MAX_ATTEMPTS = RETRIES + 1
ERROR_LENGTH = 500


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    body: str


@dataclass(frozen=True)
class SmsTemplate:
    """A text message has a body only. Keep it short: Notify charges by the 160 characters."""

    body: str


@dataclass(frozen=True)
class LetterTemplate:
    """A letter has a heading (``subject``, as Notify calls it) and a body. It is sent only the values it uses."""

    subject: str
    body: str


TEMPLATES = {
    "submission-received": EmailTemplate(
        subject="$service: your reference is $reference",
        body=(
            "$greeting\n\n"
            "$received\n\n"
            "Your reference is $reference\n\n"
            "$summary\n\n"
            "What happens next\n"
            "$what_happens_next\n\n"
            "You can check its progress at any time:\n$progress_url\n\n"
            "$council"
        ),
    ),
    "following-report": EmailTemplate(
        subject="You will get updates about $reference",
        body=(
            "Hello,\n\n"
            "You told us a problem you wanted to report has already been reported, as $reference.\n\n"
            "We'll email you when we update it. You can check its progress at any time:\n$progress_url\n\n"
            "$council"
        ),
    ),
    "payment-received": EmailTemplate(
        subject="$service: payment received, reference $reference",
        body=(
            "$greeting\n\n"
            "Thank you for your payment. This email is your receipt.\n\n"
            "Payment for: $description\n"
            "Amount paid: $amount\n"
            "Date: $paid_on\n"
            "Reference: $reference\n\n"
            "What happens next\n"
            "$what_happens_next\n\n"
            "You can check its progress at any time:\n$progress_url\n\n"
            "$council"
        ),
    ),
    "refund-issued": EmailTemplate(
        subject="Refund of $amount for $reference",
        body=(
            "Dear $name,\n\n"
            "We have refunded $amount of your payment for $description (reference $reference).\n\n"
            "Reason: $reason\n\n"
            "The money will be back on the card you paid with within 5 to 10 working days.\n\n"
            "$council"
        ),
    ),
    # Every change a resident hears of after sending: an update, a new status, a request for information, a
    # report fixed, closed or found to repeat another. ``change`` says what changed; ``update`` is the council's
    # own words, if any; ``next_step`` what the resident can do now (add information, say it is not fixed).
    "case-update": EmailTemplate(
        subject="$subject",
        body=(
            "$greeting\n\n"
            "$change\n\n"
            "$update\n\n"
            "$next_step\n\n"
            "Reference: $reference\n"
            "Status: $status\n\n"
            "You can check its progress at any time:\n$progress_url\n\n"
            "$council"
        ),
    ),
    # A subscription ends soon (webapp.subscriptions.send_reminders): how to renew it.
    "subscription-reminder": EmailTemplate(
        subject="$service: your subscription ends on $ends_on",
        body=(
            "$greeting\n\n"
            "Your subscription ends on $ends_on. To keep your collections, renew it before then:\n$renew_url\n\n"
            "You will need your reference, $reference, and the postcode $postcode.\n\n"
            "If you do not want to renew, you do not need to do anything.\n\n"
            "$council"
        ),
    ),
    # A link to pay for something agreed with the council (a contact-centre agent sends it while on the phone).
    "payment-link": EmailTemplate(
        subject="Pay $amount for $description",
        body=(
            "$greeting\n\n"
            "Use this link to pay $amount for $description:\n$pay_url\n\n"
            "The link works until $expires. After that, contact us for a new one.\n\n"
            "Reference: $reference\n\n"
            "$council"
        ),
    ),
    # To a team leader, each working morning: their queues' open cases past their due dates
    # (webapp.service_levels.send_overdue_digests). A list of references and what each is about, never what anyone
    # wrote; for an OFFICIAL-SENSITIVE case, its service alone.
    "overdue-cases": EmailTemplate(
        subject="$count_text overdue in your queues",
        body=(
            "$greeting\n\n"
            "These cases in your queues have passed their due dates, longest overdue first:\n\n"
            "$cases\n\n"
            "See them on the queue pages:\n$queue_links\n\n"
            "$council"
        ),
    ),
}

# Text messages, for people who chose them (``Submission.updates_by == "sms"``): the twins of the emails above,
# by the same names. Each starts with the council's name, and has at most one link.
SMS_TEMPLATES = {
    "submission-received": SmsTemplate(
        body=(
            "$council: we have received your $noun. Your reference is $reference\n\nCheck its progress at $progress_url"
        ),
    ),
    "payment-received": SmsTemplate(
        body=(
            "$council: thank you for your payment of $amount for $description on $paid_on. "
            "Your reference is $reference\n\n"
            "Check its progress at $progress_url"
        ),
    ),
    "case-update": SmsTemplate(
        body=(
            "$council: $change\n\n$update\n\n$next_step\n\nReference: $reference\nCheck its progress at $progress_url"
        ),
    ),
    "subscription-reminder": SmsTemplate(
        body=(
            "$council: your $service subscription ends on $ends_on. To renew it, go to $renew_url with your "
            "reference $reference and postcode $postcode"
        ),
    ),
    "payment-link": SmsTemplate(
        body=(
            "$council: to pay $amount for $description, go to $pay_url\n\n"
            "The link works until $expires. Your reference is $reference"
        ),
    ),
}
# Letters, for people who chose them (``Submission.updates_by == "letter"``), by the same names. Notify prints the
# address, the date and the council's contact details above the heading (``subject``). A letter cannot be clicked:
# ``progress_url`` is the check progress page's address alone, short enough to type, and the reference is given.
_CHECK_PROGRESS = "You can check its progress at any time: go to $progress_url and enter your reference."
LETTER_TEMPLATES = {
    "submission-received": LetterTemplate(
        subject="$service: your reference is $reference",
        body=(
            "$greeting\n\n"
            "$received\n\n"
            "Your reference is $reference. Give it if you contact us about this.\n\n"
            "$summary\n\n"
            "What happens next\n"
            "$what_happens_next\n\n"
            f"{_CHECK_PROGRESS}\n\n"
            "Yours sincerely\n\n"
            "$council"
        ),
    ),
    "payment-received": LetterTemplate(
        subject="$service: receipt for your payment, reference $reference",
        body=(
            "$greeting\n\n"
            "Thank you for your payment. This letter is your receipt.\n\n"
            "Payment for: $description\n"
            "Amount paid: $amount\n"
            "Date: $paid_on\n"
            "Reference: $reference\n\n"
            "What happens next\n"
            "$what_happens_next\n\n"
            f"{_CHECK_PROGRESS}\n\n"
            "Yours sincerely\n\n"
            "$council"
        ),
    ),
    "subscription-reminder": LetterTemplate(
        subject="$service: your subscription ends on $ends_on",
        body=(
            "$greeting\n\n"
            "Your subscription ends on $ends_on. To keep your collections, renew it before then: go to $renew_url, "
            "or call us.\n\n"
            "You will need your reference, $reference, and the postcode $postcode.\n\n"
            "If you do not want to renew, you do not need to do anything.\n\n"
            "Yours sincerely\n\n"
            "$council"
        ),
    ),
    "case-update": LetterTemplate(
        subject="$subject",
        body=(
            "$greeting\n\n"
            "$change\n\n"
            "$update\n\n"
            "$next_step\n\n"
            "Reference: $reference\n"
            "Status: $status\n\n"
            f"{_CHECK_PROGRESS}\n\n"
            "Yours sincerely\n\n"
            "$council"
        ),
    ),
}
CHANNEL_TEMPLATES: dict[str, dict[str, EmailTemplate] | dict[str, SmsTemplate] | dict[str, LetterTemplate]] = {
    "email": TEMPLATES,
    "sms": SMS_TEMPLATES,
    "letter": LETTER_TEMPLATES,
}
# Notify prints 3 to 7 address lines, the last a UK postcode (it checks that one itself).
ADDRESS_LINES = (3, 7)


def placeholders(text: str) -> list[str]:
    """The names a template fills in, in order, each once."""
    found = (match.group("named") or match.group("braced") for match in Template.pattern.finditer(text))
    return list(dict.fromkeys(name for name in found if name))


def told_us(summary: str) -> str:
    """The "What you told us" part of a message, with its heading; empty when nothing can be told (an
    OFFICIAL-SENSITIVE service's messages never carry what was asked)."""
    return f"What you told us\n{summary}" if summary else ""


def greeting(name: str | None) -> str:
    """``Dear Sam Resident,`` when we know the person's name, else ``Hello,``."""
    return f"Dear {name.strip()}," if name and name.strip() else "Hello,"


def progress_url(reference: str | None = None) -> str:
    """The "check progress" page's full address, with the reference filled in when given: from the request when
    there is one, else from BASE_URL (a scheduled job or a provider's webhook handled by a worker). The link
    only fills in the form: the details still need the email address (or, for an anonymous report, nothing
    personal is shown)."""
    query = f"?{urlencode({'reference': reference})}" if reference else ""
    if has_request_context():
        return url_for("public.check_progress", _external=True) + query
    return current_app.config["BASE_URL"].rstrip("/") + "/check-progress" + query


def base_url_adapter() -> MapAdapter:
    """Builds the site's full addresses from BASE_URL, for a message made outside a request (a scheduled job)."""
    base = urlsplit(current_app.config["BASE_URL"])
    return current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https")


def external_url(endpoint: str, **values: Any) -> str:
    """A page's full address: from the request's in a request, else from BASE_URL."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    return base_url_adapter().build(endpoint, values, force_external=True)


def progress_link(channel: str, reference: str) -> str:
    """Where to check progress, as a message by ``channel`` can give it: a link with the reference filled in; in a
    letter, the page's address alone, to type in (the letter gives the reference)."""
    return progress_url(None if channel == "letter" else reference)


def postal_address(name: str | None, address: str) -> str:
    """The address a letter goes to: the person's name, then the address's lines (the last the postcode), one a
    line, blank lines left out."""
    lines = [line.strip() for line in ((name or "") + "\n" + address).splitlines()]
    return "\n".join(line for line in lines if line)


# A part of a message left empty (no update text, no next step) leaves no gap.
_BLANK_LINES = re.compile(r"\n{3,}")


def queue_email(to: str, template: str, submission: Submission | None = None, **personalisation: str) -> Notification:
    """Add an email to the outbox, to go when the worker next runs. The caller commits."""
    return queue_message("email", to, template, submission, **personalisation)


def queue_sms(to: str, template: str, submission: Submission | None = None, **personalisation: str) -> Notification:
    """Add a text message to the outbox, to the mobile number ``to``. The caller commits.

    It keeps only the values its template uses: the caller may pass its email twin's (a greeting, a summary)."""
    return queue_message("sms", to, template, submission, **personalisation)


def queue_letter(
    address: str, template: str, submission: Submission | None = None, **personalisation: str
) -> Notification:
    """Add a letter to the outbox, to ``address`` (its lines, one a line, the last the postcode). The caller commits.

    Like a text message, it keeps only the values its template uses. An address Notify cannot print fails when
    the letter is sent, in the outbox, not here."""
    return queue_message("letter", postal_address(None, address), template, submission, **personalisation)


def queue_message(
    channel: str, to: str, template: str, submission: Submission | None = None, **personalisation: str
) -> Notification:
    """Add a message by ``channel`` ("email", "sms" or "letter") to the outbox. The caller commits."""
    chosen = CHANNEL_TEMPLATES[channel][template]
    values = {"council": current_app.config["COUNCIL_NAME"], **personalisation}
    body = _BLANK_LINES.sub("\n\n", Template(chosen.body).substitute(values)).strip()
    if isinstance(chosen, SmsTemplate):
        subject, text = "", chosen.body
    else:
        subject, text = Template(chosen.subject).substitute(values), f"{chosen.subject}\n{chosen.body}"
    if not isinstance(chosen, EmailTemplate):
        values = {name: values[name] for name in placeholders(text)}
    notification = Notification(
        channel=channel,
        to=to,
        template=template,
        subject=subject,
        body=body,
        personalisation=values,
        submission=submission,
        status="queued",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    db.session.add(notification)
    return notification


class SendError(Exception):
    """A send that did not work. A permanent one is not tried again."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


def address_lines(notification: Notification) -> dict[str, str]:
    """A letter's address as Notify takes it (``address_line_1`` to ``address_line_7``), or a permanent SendError
    when it has too few lines or too many to print."""
    lines = notification.to.splitlines()
    least, most = ADDRESS_LINES
    if not least <= len(lines) <= most:
        raise SendError(
            f"The address has {len(lines)} lines: a letter needs {least} to {most} "
            "(the name, the building and street, the town and the postcode)",
            permanent=True,
        )
    return {f"address_line_{number}": line for number, line in enumerate(lines, start=1)}


class Sender(Protocol):
    def send(self, notification: Notification) -> str | None:
        """Send it, or raise SendError; returns the provider's id for the message, if it has one."""

    def close(self) -> None: ...


class LogSender:
    """The embedded default: messages go to the application log, nowhere else."""

    def send(self, notification: Notification) -> str | None:
        if notification.channel == "sms":
            log.info("sms to=%s notification=%s\n%s", notification.to, notification.id, notification.body)
            return None
        if notification.channel == "letter":
            address_lines(notification)  # an address Notify could not print fails here too
            log.info(
                "letter to=%r subject=%r notification=%s\n%s",
                notification.to.replace("\n", ", "),
                notification.subject,
                notification.id,
                notification.body,
            )
            return None
        log.info(
            "email to=%s subject=%r notification=%s\n%s",
            notification.to,
            notification.subject,
            notification.id,
            notification.body,
        )
        return None

    def close(self) -> None:
        pass


# "{key_name}-{service_id}-{secret}", both ids UUIDs: the format of every GOV.UK Notify API key.
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NOTIFY_API_KEY = re.compile(rf"^.+-{UUID}-{UUID}$")


class NotifySender:
    """GOV.UK Notify, with a Notify template per template key and channel (NOTIFY_TEMPLATES for emails,
    NOTIFY_SMS_TEMPLATES for text messages, NOTIFY_LETTER_TEMPLATES for letters) filled from the personalisation."""

    def __init__(
        self,
        api_key: str | None,
        templates: dict[str, str | None],
        sms_templates: dict[str, str | None],
        letter_templates: dict[str, str | None],
        base_url: str,
        timeout: float,
    ) -> None:
        if not api_key or not NOTIFY_API_KEY.match(api_key):
            raise RuntimeError("EMAIL_SENDER=notify needs NOTIFY_API_KEY, a GOV.UK Notify API key")
        missing = [f"{key} (email)" for key in TEMPLATES if not templates.get(key)]
        missing += [f"{key} (text message)" for key in SMS_TEMPLATES if not sms_templates.get(key)]
        missing += [f"{key} (letter)" for key in LETTER_TEMPLATES if not letter_templates.get(key)]
        if missing:
            raise RuntimeError(f"EMAIL_SENDER=notify needs a Notify template id for: {', '.join(missing)}")
        self.templates = {"email": templates, "sms": sms_templates, "letter": letter_templates}
        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)

    def send(self, notification: Notification) -> str | None:
        if notification.channel not in self.templates:
            raise SendError(f"No way to send a message by {notification.channel!r}", permanent=True)
        fields = {
            "template_id": self.templates[notification.channel][notification.template],
            "personalisation": notification.personalisation,
            "reference": f"notification-{notification.id}",
        }
        if notification.channel == "letter":
            fields["personalisation"] = {**address_lines(notification), **notification.personalisation}
        try:
            if notification.channel == "sms":
                response = self.client.send_sms_notification(phone_number=notification.to, **fields)
            elif notification.channel == "letter":
                response = self.client.send_letter_notification(**fields)
            else:
                response = self.client.send_email_notification(email_address=notification.to, **fields)
        except APIError as error:
            # A bad request (400: a bad address or postcode, a team-only key) will not fix itself. A refused key (403)
            # is the council's own configuration: keep the messages and try again once it is put right. Rate limits
            # (429), Notify's 5xx errors and connection failures (reported as 503) pass too.
            permanent = 400 <= error.status_code < 500 and error.status_code not in (403, 429)
            raise SendError(describe(error), permanent=permanent) from error
        return str(response["id"])

    def close(self) -> None:
        self.client.request_session.close()


def describe(error: APIError) -> str:
    """``400 BadRequestError: Can't send to this recipient ...``, from Notify's error body."""
    message = error.message
    if isinstance(message, list):
        message = "; ".join(f"{item.get('error')}: {item.get('message')}" for item in message)
    return f"{error.status_code} {message}"


def sender() -> Sender:
    config = current_app.config
    if config["EMAIL_SENDER"] == "log":
        return LogSender()
    if config["EMAIL_SENDER"] == "notify":
        return NotifySender(
            config["NOTIFY_API_KEY"],
            config["NOTIFY_TEMPLATES"],
            config["NOTIFY_SMS_TEMPLATES"],
            config["NOTIFY_LETTER_TEMPLATES"],
            config["NOTIFY_BASE_URL"],
            config["NOTIFY_TIMEOUT"],
        )
    raise RuntimeError(f"EMAIL_SENDER must be 'log' or 'notify', not {config['EMAIL_SENDER']!r}")


@dataclass
class Outcome:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        noun = "message" if self.sent == 1 else "messages"
        return f"Sent {self.sent} {noun} ({self.retrying} to try again later, {self.failed} failed)."


def due_ids(now: datetime, limit: int) -> list[int]:
    """The oldest messages due to go."""
    return list(
        db.session.scalars(
            select(Notification.id)
            .where(
                Notification.status == "queued",
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
    )


def claim(notification_id: int) -> Notification | None:
    """The message, if it is still waiting to be sent and nobody else holds it, claimed for this transaction: on
    PostgreSQL by a row lock another transaction skips (SKIP LOCKED); on SQLite, which has no row locks, by the
    conditional UPDATE that counts the attempt, which holds the database's write lock until the commit. So two
    tasks for one message (the first, and the outbox sweep's for a task it took for lost) never both send it."""
    held = db.session.scalar(
        select(Notification.id)
        .where(Notification.id == notification_id, Notification.status == "queued")
        .with_for_update(skip_locked=True)
    )
    if held is None:
        return None
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, Notification.status == "queued")
        .values(attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    return db.session.get(Notification, notification_id, populate_existing=True)


def deliver(notification: Notification, chosen: Sender, outcome: Outcome) -> None:
    """One attempt at one claimed message, and its result on the row."""
    try:
        notification.provider_reference = chosen.send(notification)
    except SendError as error:
        failed(notification, str(error), error.permanent, outcome)
    except Exception as error:
        log.exception("sending notification %s failed", notification.id)
        failed(notification, f"{type(error).__name__}: {error}", False, outcome)
    else:
        notification.status, notification.sent_at = "sent", utcnow()
        notification.next_attempt_at, notification.last_error = None, None
        outcome.sent += 1


def failed(notification: Notification, error: str, permanent: bool, outcome: Outcome) -> None:
    notification.last_error = error[:ERROR_LENGTH]
    if permanent or notification.attempts >= MAX_ATTEMPTS:
        notification.status, notification.next_attempt_at = "failed", None
        outcome.failed += 1
        log.warning("notification %s failed after %s attempts: %s", notification.id, notification.attempts, error)
    else:
        notification.next_attempt_at = utcnow() + RETRY_DELAYS[notification.attempts - 1]
        outcome.retrying += 1
        log.info("notification %s will be tried again at %s: %s", notification.id, notification.next_attempt_at, error)


def send_one(notification_id: int, chosen: Sender | None = None) -> Outcome:
    """Send one message from the outbox, if it is still waiting, in a transaction of its own (committed). The
    outcome says whether it went, is to be tried again (at its ``next_attempt_at``), or failed; all zero when it was
    not waiting (already sent, or gone)."""
    outcome = Outcome()
    own = chosen is None
    chosen = chosen or sender()
    try:
        notification = claim(notification_id)
        if notification is not None:
            deliver(notification, chosen, outcome)
        db.session.commit()
    finally:
        db.session.rollback()
        if own:
            chosen.close()
    return outcome


def send_due(limit: int | None = None, chosen: Sender | None = None) -> Outcome:
    """Send up to ``limit`` due messages, oldest first, each in its own transaction (``flask send-notifications``;
    the task queue sends each message as it is queued)."""
    limit = limit if limit is not None else current_app.config["NOTIFICATION_BATCH_SIZE"]
    own = chosen is None
    chosen = chosen or sender()
    outcome = Outcome()
    try:
        for notification_id in due_ids(utcnow(), limit):
            one = send_one(notification_id, chosen)
            outcome.sent, outcome.retrying, outcome.failed = (
                outcome.sent + one.sent,
                outcome.retrying + one.retrying,
                outcome.failed + one.failed,
            )
    finally:
        if own:
            chosen.close()
    return outcome


def lost(now: datetime, grace: timedelta) -> list[int]:
    """Messages still waiting ``grace`` after they fell due: their task was lost (a worker killed while it held
    it, a queue emptied, a commit whose enqueue failed). Each is given until ``now + grace`` again before it counts
    as lost once more. The caller commits, then enqueues them."""
    ids = list(
        db.session.scalars(
            select(Notification.id)
            .where(Notification.status == "queued", Notification.next_attempt_at <= now - grace)
            .order_by(Notification.id)
            .with_for_update(skip_locked=True)
        )
    )
    if ids:
        db.session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(next_attempt_at=now),
            execution_options={"synchronize_session": False},
        )
    return ids

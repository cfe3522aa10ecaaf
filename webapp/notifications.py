"""The outbox, and the only module that sends messages.

Every message is first written to the ``notification`` table in the same transaction as the
change it tells of, with its final subject and body, so the outbox shows exactly what was sent.
``send_queued()`` then hands queued messages to the configured sender. The embedded default
sender writes them to the application log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from string import Template

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Notification, Submission, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    body: str


TEMPLATES = {
    "submission-received": EmailTemplate(
        subject="$service: your reference is $reference",
        body=(
            "Dear $name,\n\n"
            "Thank you. We have received your $noun.\n\n"
            "Your reference is $reference\n\n"
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
}


def queue_email(to: str, template: str, submission: Submission | None = None, **personalisation: str) -> Notification:
    chosen = TEMPLATES[template]
    values = {"council": current_app.config["COUNCIL_NAME"], **personalisation}
    notification = Notification(
        channel="email",
        to=to,
        template=template,
        subject=Template(chosen.subject).substitute(values),
        body=Template(chosen.body).substitute(values),
        submission=submission,
        status="queued",
    )
    db.session.add(notification)
    return notification


class LogSender:
    """The embedded default: messages go to the application log, nowhere else."""

    def send(self, notification: Notification) -> None:
        log.info(
            "email to=%s subject=%r notification=%s\n%s",
            notification.to,
            notification.subject,
            notification.id,
            notification.body,
        )


SENDERS = {"log": LogSender}


def sender() -> LogSender:
    return SENDERS[current_app.config["EMAIL_SENDER"]]()


def send_queued(limit: int = 100) -> int:
    """Send up to ``limit`` queued messages, oldest first; returns how many went."""
    chosen = sender()
    queued = db.session.scalars(
        select(Notification).where(Notification.status == "queued").order_by(Notification.id).limit(limit)
    ).all()
    for notification in queued:
        notification.attempts += 1
        chosen.send(notification)
        notification.status, notification.sent_at = "sent", utcnow()
    db.session.commit()
    return len(queued)

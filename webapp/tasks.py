"""Background work, on a kept task queue: Huey (https://huey.readthedocs.io), with its retries, back-off and
periodic schedules. One consumer, ``flask worker``, runs the tasks and the schedule beside the site.

Where the queue lives is ``TASK_QUEUE_URL``: Redis (``redis://...``) in production, so that every app server and
worker shares it; a SQLite file under ``instance/`` by default, so ``make run`` needs no other server; memory in
tests (``memory://``), where a test runs what was queued with ``run_queued``.

The tasks:

- ``send_message``: one message of the outbox, queued by ``queue_after_commit`` once the transaction that wrote its
  row has committed (never before: a rolled-back message is never sent). A failure is recorded on the row and tried
  again by Huey's retries, 30 seconds later and four times longer each time, until webapp.notifications gives up.
- ``sweep_outbox``, every minute: a message still waiting well after it fell due lost its task (a worker killed
  while it held it, a queue emptied, Redis down at the moment of the commit), so it is queued again. The row is the
  record, and a message is claimed before it is sent, so a second task for it is harmless: no message is lost or
  sent twice.
- ``settle_payments`` every minute, ``send_reminders`` every hour, ``apply_retention`` every night,
  ``reconcile_payments`` every morning and ``send_overdue_digests`` every weekday morning, each on a schedule of its
  own in cron's five fields (``SCHEDULE_*``, UTC).

Each periodic task is safe to run twice (each does its work with conditional writes), but run the schedule on one
worker only (``flask worker --no-periodic`` on the others), as docs/deploying.md says.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app
from flask_sqlalchemy.session import Session
from huey import Huey, crontab
from huey.storage import BaseStorage, MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event

from webapp import notifications
from webapp.extensions import db
from webapp.models import Notification, utcnow

log = logging.getLogger(__name__)

NAME = "council"
huey = Huey(NAME, results=False, utc=True, storage_class=MemoryStorage)
_app: Flask | None = None
# How long after a message fell due the sweep takes its task for lost.
LOST_AFTER = timedelta(minutes=5)
# The schedules, by setting, and what each does.
SCHEDULES = {
    "SCHEDULE_OUTBOX_SWEEP": "* * * * *",
    "SCHEDULE_SETTLE_PAYMENTS": "* * * * *",
    "SCHEDULE_REMINDERS": "0 * * * *",
    "SCHEDULE_RETENTION": "30 2 * * *",
    "SCHEDULE_RECONCILIATION": "0 6 * * *",
    "SCHEDULE_OVERDUE_DIGEST": "0 7 * * 1-5",
}


def storage_for(url: str) -> BaseStorage:
    """The queue's storage for ``TASK_QUEUE_URL``."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return RedisStorage(NAME, url=url)
    if scheme == "sqlite":
        return SqliteStorage(NAME, filename=url.removeprefix("sqlite:///"))
    if scheme == "memory":
        return MemoryStorage(NAME)
    raise ValueError(f"TASK_QUEUE_URL must start redis://, sqlite:/// or memory://, not {url!r}")


def schedule(setting: str) -> Callable[[datetime], bool]:
    """A periodic task's test of the minute, from the schedule its setting holds (cron's five fields)."""
    fields = current_app.config[setting].split()
    if len(fields) != 5:
        raise ValueError(f"{setting} must be cron's five fields (minute hour day month day-of-week), not {fields}")
    return crontab(*fields)


def init_app(app: Flask) -> None:
    """Point the queue at ``TASK_QUEUE_URL`` and remember the app the tasks run in. A schedule that cannot be read
    stops the app starting."""
    global _app
    _app = app
    huey.storage = storage_for(app.config["TASK_QUEUE_URL"])
    with app.app_context():
        for setting in SCHEDULES:
            schedule(setting)


def in_app(task: Callable[..., Any]) -> Callable[..., Any]:
    """Run a task inside the app (its database session removed afterwards, whatever happened)."""

    @wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        if _app is None:
            raise RuntimeError("webapp.tasks.init_app was not called: start the worker with `flask worker`")
        with _app.app_context():
            try:
                return task(*args, **kwargs)
            finally:
                db.session.remove()

    return run


def on(setting: str) -> Callable[[datetime], bool]:
    """A periodic task's schedule, read from the app's settings when the worker checks it (every minute)."""

    def due(moment: datetime) -> bool:
        if _app is None:
            return False
        with _app.app_context():
            return schedule(setting)(moment)

    return due


# The outbox ------------------------------------------------------------------------------------------------------


class NotSentYet(Exception):
    """A send failed in a way that trying again may fix: Huey tries again, after its delay."""


@huey.task(
    retries=notifications.RETRIES,
    retry_delay=notifications.RETRY_DELAY_SECONDS,
    retry_backoff=notifications.RETRY_BACKOFF,
)
@in_app
def send_message(notification_id: int) -> None:
    outcome = notifications.send_one(notification_id)
    if outcome.retrying:
        # The row says when the next attempt is due (next_attempt_at): Huey's delays are the same.
        raise NotSentYet(f"message {notification_id} was not sent; it will be tried again")


@huey.periodic_task(on("SCHEDULE_OUTBOX_SWEEP"))
@in_app
def sweep_outbox() -> int:
    ids = notifications.lost(utcnow(), LOST_AFTER)
    db.session.commit()
    for notification_id in ids:
        send_message(notification_id)
    if ids:
        log.warning("queued %s messages again whose tasks were lost", len(ids))
    return len(ids)


QUEUED = "webapp.tasks.queued_messages"


@event.listens_for(Session, "after_flush")
def _note_new_messages(session: Session, context: Any) -> None:
    new = [item for item in session.new if isinstance(item, Notification)]
    if new:
        session.info.setdefault(QUEUED, set()).update(item.id for item in new)


@event.listens_for(Session, "after_commit")
def queue_after_commit(session: Session) -> None:
    """Queue a send for each message whose row this transaction wrote, now that it is committed. A queue that does
    not answer loses nothing: the row waits, and the outbox sweep queues it later."""
    for notification_id in sorted(session.info.pop(QUEUED, ())):
        try:
            send_message(notification_id)
        except Exception:  # noqa: BLE001 - the sweep finds the message again; the commit stands
            log.exception("could not queue message %s; the outbox sweep will", notification_id)


@event.listens_for(Session, "after_rollback")
def _forget_new_messages(session: Session) -> None:
    session.info.pop(QUEUED, None)


# Scheduled work --------------------------------------------------------------------------------------------------


@huey.periodic_task(on("SCHEDULE_SETTLE_PAYMENTS"), retries=2, retry_delay=20)
@in_app
def settle_payments() -> dict[str, int]:
    """Payments left open past their window (webapp.payments.settle_overdue commits)."""
    from webapp import payments

    return payments.settle_overdue()


@huey.periodic_task(on("SCHEDULE_REMINDERS"), retries=2, retry_delay=300)
@in_app
def send_reminders() -> int:
    from webapp import subscriptions

    sent = subscriptions.send_reminders()
    db.session.commit()
    return sent


@huey.periodic_task(on("SCHEDULE_RETENTION"), retries=3, retry_delay=600, retry_backoff=2)
@in_app
def apply_retention() -> dict[str, int]:
    from webapp import retention

    return retention.run().counts()


@huey.periodic_task(on("SCHEDULE_RECONCILIATION"), retries=3, retry_delay=600, retry_backoff=2)
@in_app
def reconcile_payments() -> int:
    """Yesterday's payments and refunds against the provider's; mismatches are stored for the Payments page."""
    from webapp import charges
    from webapp.payments.reconcile import reconcile

    run = reconcile(charges.today() - timedelta(days=1))
    db.session.commit()
    return len(run.mismatches)


@huey.periodic_task(on("SCHEDULE_OVERDUE_DIGEST"), retries=3, retry_delay=600, retry_backoff=2)
@in_app
def send_overdue_digests() -> int:
    """Each team leader's overdue cases, by email, once a day (webapp.service_levels.send_overdue_digests commits)."""
    from webapp import service_levels

    return service_levels.send_overdue_digests()


def run_queued() -> int:
    """Run everything waiting on the queue now, in this process (for tests, with ``memory://``). How many ran."""
    ran = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        ran += 1
    return ran

"""Background work on the task queue (Huey): a message is queued only once its row is committed, sent once, tried
again with back-off; a lost task is found again by the outbox sweep; the scheduled jobs run on their schedule, in a
real worker over Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import func, select

from tests.factories import create_submission
from webapp import notifications, tasks
from webapp.extensions import db
from webapp.models import AuditEvent, Notification, Status, Submission, Subscription, utcnow
from webapp.notifications import RETRY_DELAYS, SendError

ROOT = Path(__file__).resolve().parent.parent


def queue_email(to: str = "a@example.com") -> Notification:
    message = notifications.queue_message("email", to, "following-report", None, reference="RP-1", progress_url="x")
    db.session.commit()
    return message


def waiting() -> list[int]:
    """The ids of the messages whose send tasks wait on the queue."""
    return [task.args[0] for task in tasks.huey.pending() if task.name.endswith("send_message")]


class Recording:
    """A sender that records what it sent, or fails as told."""

    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[int] = []
        self.error = error

    def send(self, notification: Notification) -> str | None:
        if self.error is not None:
            raise self.error
        self.sent.append(notification.id)
        return None

    def close(self) -> None:
        pass


@pytest.fixture
def sender(monkeypatch) -> Recording:
    recording = Recording()
    monkeypatch.setattr(notifications, "sender", lambda: recording)
    return recording


def test_a_message_is_queued_once_its_row_is_committed_and_never_if_rolled_back(app_ctx, sender):
    notifications.queue_message("email", "a@example.com", "following-report", None, reference="RP-1", progress_url="x")
    db.session.flush()
    assert waiting() == []  # written, not yet committed: nothing on the queue
    db.session.rollback()
    assert waiting() == [] and db.session.scalar(select(func.count()).select_from(Notification)) == 0

    message = queue_email()
    assert waiting() == [message.id]
    assert tasks.run_queued() == 1
    assert sender.sent == [message.id]
    db.session.expire_all()
    assert (message.status, message.attempts) == ("sent", 1)


def test_two_tasks_for_one_message_send_it_once(app_ctx, sender):
    message = queue_email()
    tasks.send_message(message.id)  # as the outbox sweep would, for a task it took for lost
    assert waiting() == [message.id, message.id]
    assert tasks.run_queued() == 2
    assert sender.sent == [message.id]


def test_a_failed_send_is_tried_again_with_back_off_then_given_up(app_ctx, sender):
    sender.error = SendError("503 Service Unavailable")
    message = queue_email()
    task, when = tasks.huey.dequeue(), None
    for attempt, delay in enumerate(RETRY_DELAYS, start=1):
        before = utcnow()
        tasks.huey.execute(task, timestamp=when)  # at the time Huey scheduled it for
        db.session.expire_all()
        assert (message.status, message.attempts, message.last_error) == ("queued", attempt, "503 Service Unavailable")
        (retry,) = tasks.huey.scheduled()
        # Huey's retry and the row agree on when: 30 seconds, then four times longer each time.
        eta = retry.eta.replace(tzinfo=message.next_attempt_at.tzinfo)
        assert abs(eta - message.next_attempt_at) < timedelta(seconds=2)
        assert before + delay <= message.next_attempt_at <= utcnow() + delay
        tasks.huey.storage.flush_schedule()
        task, when = retry, retry.eta
    tasks.huey.execute(task, timestamp=when)
    db.session.expire_all()
    assert (message.status, message.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    assert tasks.huey.scheduled() == [] and waiting() == []


def test_the_sweep_queues_again_a_message_whose_task_was_lost(app_ctx, sender):
    lost, recent = queue_email("lost@example.com"), queue_email("recent@example.com")
    tasks.huey.storage.flush_queue()  # the queue emptied (a worker killed holding the tasks, Redis restarted)
    lost.next_attempt_at = utcnow() - timedelta(minutes=6)
    recent.next_attempt_at = utcnow() - timedelta(minutes=1)  # its task may still be on its way
    db.session.commit()

    assert tasks.sweep_outbox.call_local() == 1
    assert waiting() == [lost.id]
    assert tasks.sweep_outbox.call_local() == 0  # given time again before it counts as lost once more
    tasks.run_queued()
    assert sender.sent == [lost.id]


def test_a_queue_that_does_not_answer_loses_no_message(app_ctx, sender, monkeypatch):
    def down(task):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as patched:
        patched.setattr(tasks.huey, "enqueue", down)
        message = queue_email()  # the commit stands
    assert db.session.get(Notification, message.id).status == "queued"
    message.next_attempt_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    tasks.sweep_outbox.call_local()
    tasks.run_queued()
    assert sender.sent == [message.id]


def due_at(moment: datetime) -> set[str]:
    return {task.name.rsplit(".", 1)[-1] for task in tasks.huey.read_periodic(moment)}


def test_each_job_runs_on_its_schedule(app_ctx):
    every_minute = {"sweep_outbox", "settle_payments"}
    assert due_at(datetime(2026, 12, 8, 2, 29)) == every_minute
    assert due_at(datetime(2026, 12, 8, 2, 30)) == every_minute | {"apply_retention"}
    assert due_at(datetime(2026, 12, 8, 3, 0)) == every_minute | {"send_reminders"}
    assert due_at(datetime(2026, 12, 8, 6, 0)) == every_minute | {"send_reminders", "reconcile_payments"}


def test_a_schedule_that_cannot_be_read_stops_the_app_starting(tmp_path):
    from tests.conftest import make_config
    from webapp import create_app

    with pytest.raises(ValueError, match="SCHEDULE_RETENTION must be cron's five fields"):
        create_app(make_config("sqlite://", tmp_path, SCHEDULE_RETENTION="daily"))
    with pytest.raises(ValueError):
        create_app(make_config("sqlite://", tmp_path, SCHEDULE_RETENTION="61 2 * * *"))


def test_the_queue_lives_where_its_url_says(tmp_path):
    assert isinstance(tasks.storage_for("memory://"), MemoryStorage)
    assert isinstance(tasks.storage_for(f"sqlite:///{tmp_path / 'tasks.sqlite3'}"), SqliteStorage)
    assert isinstance(tasks.storage_for("redis://127.0.0.1:6379/15"), RedisStorage)
    with pytest.raises(ValueError, match="TASK_QUEUE_URL must start"):
        tasks.storage_for("amqp://guest@localhost//")


def test_the_scheduled_jobs_can_each_be_run(app_ctx):
    """Each job's task runs its job in the app (the worker runs them on their schedules)."""
    create_submission(status=Status.CLOSED, closed_at=utcnow() - timedelta(days=800), contact_email="a@example.com")
    assert tasks.apply_retention.call_local()["anonymised"] == 1
    assert tasks.settle_payments.call_local() == {"checked": 0, "paid": 0, "cancelled": 0, "refunds": 0}
    assert tasks.send_reminders.call_local() == 0
    assert tasks.reconcile_payments.call_local() == 0


# A real worker (`flask worker`), over Redis, running the schedule --------------------------------------------------


def garden_waste_ending_soon() -> Submission:
    subscriber = create_submission(
        service_slug="garden-waste",
        category=None,
        reference="GW-TEST-0001",
        contact_name="Sam Subscriber",
        contact_email="sam@example.com",
        postcode="LS6 3AE",
    )
    db.session.add(
        Subscription(
            service_slug="garden-waste",
            uprn=72001003,
            postcode="LS6 3AE",
            reference=subscriber.reference,
            submission_id=subscriber.id,
            latest_submission_id=subscriber.id,
            quantity=1,
            starts_on=date.today() - timedelta(days=340),
            ends_on=date.today() + timedelta(days=20),
            status="active",
        )
    )
    db.session.commit()
    return subscriber


def stop(worker: subprocess.Popen) -> str:
    """Ctrl-C, as a person would: the worker stops once the tasks in hand are done. Its output."""
    worker.send_signal(signal.SIGINT)
    try:
        output, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
        pytest.fail(f"the worker did not stop within 30 seconds of Ctrl-C:\n{output}")
    return output


def test_a_real_worker_runs_the_retention_and_reminder_jobs_on_their_schedule(app, app_ctx, redis_url, tmp_path):
    expired = create_submission(
        status=Status.RESOLVED, closed_at=utcnow() - timedelta(days=800), contact_email="old@example.com"
    )
    garden_waste_ending_soon()
    environment = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
        "TASK_QUEUE_URL": redis_url,
        "EMAIL_SENDER": "log",
        "BASE_URL": "http://localhost",
        # Both jobs due every minute: the worker checks its schedule as it starts, then each minute.
        "SCHEDULE_RETENTION": "* * * * *",
        "SCHEDULE_REMINDERS": "* * * * *",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "2"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            db.session.expire_all()
            reminder = db.session.scalar(select(Notification).where(Notification.template == "subscription-reminder"))
            if (
                reminder is not None
                and reminder.status == "sent"
                and db.session.get(Submission, expired.id).anonymised_at
            ):
                break
            time.sleep(0.5)
    finally:
        output = stop(worker)
    assert worker.returncode == 0, output
    assert f"Worker: 2 threads, queue {redis_url}, schedule on." in output
    assert db.session.get(Submission, expired.id).contact_email is None
    # The reminder the reminder job queued was sent by the worker, after its row was committed.
    assert (reminder.to, reminder.status, reminder.attempts) == ("sam@example.com", "sent", 1)
    assert db.session.scalar(select(AuditEvent.action)) == "retention.run"


def test_two_tasks_at_once_for_one_message_send_it_once(app, db_name):
    """The first task holds the message while it sends; the second, on its own connection, passes it by."""
    if db_name != "postgresql":
        pytest.skip("two connections at once need PostgreSQL")
    import threading

    with app.app_context():
        message_id = queue_email().id
    inside, release = threading.Event(), threading.Event()

    class Slow(Recording):
        def send(self, notification: Notification) -> str | None:
            inside.set()
            assert release.wait(timeout=10)
            return super().send(notification)

    slow, quick = Slow(), Recording()

    def first() -> None:
        with app.app_context():
            notifications.send_one(message_id, slow)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(timeout=10)
        with app.app_context():
            assert notifications.send_one(message_id, quick).sent == 0
        assert thread.is_alive()  # it did not wait for the first
    finally:
        release.set()
        thread.join(timeout=10)
    assert (slow.sent, quick.sent) == ([message_id], [])
    with app.app_context():
        assert db.session.get(Notification, message_id).attempts == 1

"""Booking a place on a day: a bulky waste collection. A service that books one says how many places it has a day
and which days it works; these functions keep the count.

A submission ``take``s its place when it is sent (webapp.catalogue.Service.hold): one conditional UPDATE adds it to
the day's count only while the count is below the day's capacity, so two residents can never both take the last
place (on PostgreSQL the second waits for the first's row lock, then finds the day full). It gives the place back
(``release``) when it is cancelled unpaid or withdrawn, once. Staff see each day's bookings (``on_day``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from webapp import lifecycle
from webapp.catalogue import Unavailable
from webapp.extensions import db
from webapp.models import Booking, BookingDay, Queue, Status, Submission, utcnow
from webapp.templating import govuk_date

HELD, CANCELLED = "held", "cancelled"
# What a day's list for the crews leaves out: bookings never paid for, or taken back.
NOT_COLLECTED = (Status.AWAITING_PAYMENT, Status.CANCELLED, Status.WITHDRAWN)


def long_date(day: date) -> str:
    """``Tuesday 8 December 2026``: how a collection day reads."""
    return f"{day:%A} {govuk_date(day)}"


def free(service_slug: str, days: Iterable[date], capacity: int) -> dict[date, int]:
    """How many places are free on each of ``days``: ``capacity`` on a day nobody has booked yet, else what its
    counter says (its capacity may have been changed for that day)."""
    days = list(days)
    rows = db.session.execute(
        select(BookingDay.day, BookingDay.capacity - BookingDay.booked).where(
            BookingDay.service_slug == service_slug, BookingDay.day.in_(days)
        )
    )
    counted = {day: places for day, places in rows}
    return {day: counted.get(day, capacity) for day in days}


def available(service_slug: str, first: date, last: date, capacity: int, open_on: Callable[[date], bool]) -> list[date]:
    """The days from ``first`` to ``last`` the service works (``open_on``) that still have a place."""
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    places = free(service_slug, [day for day in days if open_on(day)], capacity)
    return [day for day, left in places.items() if left > 0]


def _day_row(service_slug: str, day: date, capacity: int) -> None:
    """The day's counter, made the first time anyone books that day (two first bookings at once make one)."""
    exists = select(BookingDay.id).where(BookingDay.service_slug == service_slug, BookingDay.day == day)
    if db.session.scalar(exists) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(BookingDay(service_slug=service_slug, day=day, capacity=capacity, booked=0))
    except IntegrityError:
        pass  # another booking made it first


def _take_place(service_slug: str, day: date) -> bool:
    """Add one to the day's count while it is below the day's capacity, in one statement; False when it is full."""
    moved = db.session.execute(
        update(BookingDay)
        .where(
            BookingDay.service_slug == service_slug,
            BookingDay.day == day,
            BookingDay.booked < BookingDay.capacity,
        )
        .values(booked=BookingDay.booked + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    return moved == 1


def take(submission: Submission, day: date, capacity: int) -> Booking:
    """Take a place on ``day`` for the submission just sent, or raise Unavailable when the day is full. In the
    caller's transaction."""
    _day_row(submission.service_slug, day, capacity)
    if not _take_place(submission.service_slug, day):
        raise Unavailable(f"Collections on {long_date(day)} are now full. Choose another day")
    booking = Booking(submission_id=submission.id, service_slug=submission.service_slug, day=day, status=HELD)
    db.session.add(booking)
    return booking


def release(submission: Submission) -> bool:
    """Give back the submission's place, once (a second release finds it already given back). In the caller's
    transaction. True when a place was given back."""
    booking = of_submission(submission)
    if booking is None:
        return False
    moved = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == HELD)
        .values(status=CANCELLED, cancelled_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        return False
    db.session.execute(
        update(BookingDay)
        .where(BookingDay.service_slug == booking.service_slug, BookingDay.day == booking.day, BookingDay.booked > 0)
        .values(booked=BookingDay.booked - 1)
        .execution_options(synchronize_session=False)
    )
    return True


def take_again(submission: Submission) -> None:
    """The submission is received: a place given back because its payment came too late is taken again if the day
    has one; if not, the case says so, for staff to offer another day or refund it."""
    booking = of_submission(submission)
    if booking is None or booking.status == HELD:
        return
    if _take_place(booking.service_slug, booking.day):
        booking.status, booking.cancelled_at = HELD, None
        return
    lifecycle.record(
        submission,
        "note",
        lifecycle.Actor.system("Bookings"),
        f"Paid after it was cancelled, but {long_date(booking.day)} is now full: offer another day, or refund it",
    )


def of_submission(submission: Submission) -> Booking | None:
    return db.session.scalar(select(Booking).where(Booking.submission_id == submission.id))


def on_day(queue: Queue, day: date) -> list[Submission]:
    """The collections for a queue's team on a day, paid for and not cancelled, in the order they were booked."""
    return list(
        db.session.scalars(
            select(Submission)
            .join(Booking, Booking.submission_id == Submission.id)
            .where(
                Booking.day == day,
                Booking.status == HELD,
                Submission.queue_id == queue.id,
                Submission.status.not_in(NOT_COLLECTED),
            )
            .order_by(Submission.postcode, Submission.street, Submission.id)
        )
    )


def any_for(queue: Queue) -> bool:
    """Whether a queue's team has ever had a collection booked: its queue page links to the day lists."""
    booked = select(Booking.id).join(Submission, Booking.submission_id == Submission.id)
    return db.session.scalar(booked.where(Submission.queue_id == queue.id).limit(1)) is not None


def days_with_bookings(queue: Queue, first: date, last: date) -> dict[date, int]:
    """How many collections a queue's team has on each day from ``first`` to ``last`` that has any."""
    rows = db.session.execute(
        select(Booking.day, func.count())
        .join(Submission, Booking.submission_id == Submission.id)
        .where(
            Booking.day >= first,
            Booking.day <= last,
            Booking.status == HELD,
            Submission.queue_id == queue.id,
            Submission.status.not_in(NOT_COLLECTED),
        )
        .group_by(Booking.day)
        .order_by(Booking.day)
    )
    return {day: count for day, count in rows}


CREW_COLUMNS = ("reference", "address", "postcode", "uprn", "what_and_where", "name", "phone")


def crew_rows(collections: list[Submission]) -> list[list[Any]]:
    """A day's collections as the crews' list: where, what, and whom to ring."""
    return [
        [
            submission.reference,
            ", ".join((submission.address or submission.street or "").splitlines()),
            submission.postcode or "",
            submission.uprn or "",
            submission.description,
            submission.contact_name or "",
            submission.contact_phone or "",
        ]
        for submission in collections
    ]


def crew_csv(collections: list[Submission]) -> str:
    """The crews' list as a CSV, with text a spreadsheet would run as a formula made safe."""
    from webapp.exports import spreadsheet_safe

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CREW_COLUMNS)
    writer.writerows([[spreadsheet_safe(value) for value in row] for row in crew_rows(collections)])
    return out.getvalue()

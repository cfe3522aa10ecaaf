"""The council's dashboard: channel shift, service levels, where the work is, and payments, in whole weeks.

Every figure is an aggregate query on indexed columns, grouped by week in the database: a week is a UK week, Monday
to Sunday, and its bounds are worked out here as UTC instants (23 or 25 hours a day when the clocks change), so one
``CASE`` puts each row in its week on PostgreSQL and SQLite alike. The service levels come from what each case kept
when it was closed (webapp.service_levels): its target and the working days it took, so no working-day arithmetic is
done in SQL, and the median is read off the counts of each number of days.

Team leaders see the figures of their own queues; admins see every queue's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, and_, case, func, literal, select, union_all

from webapp import working_days
from webapp.extensions import db
from webapp.models import OPEN_STATUSES, Channel, Payment, Queue, Refund, Status, Submission, as_utc, utcnow
from webapp.payments.ledger import day_bounds

DEFAULT_WEEKS = 12
MAX_WEEKS = 53
# A case counts as resolved when it was fixed or closed; a duplicate, a withdrawal or a cancellation is not work done.
RESOLVED = (Status.RESOLVED, Status.CLOSED)
# Channels made by the resident themselves, on this site or through another over Open311 (FixMyStreet).
SELF_SERVICE = (Channel.ONLINE, Channel.OPEN311)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Week:
    """A UK week: Monday to Sunday, and its bounds as UTC instants."""

    monday: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, monday: date) -> Week:
        start, end = day_bounds(monday)[0], day_bounds(monday + timedelta(days=6))[1]
        return cls(monday, start.astimezone(UTC), end.astimezone(UTC))

    @property
    def label(self) -> str:
        """``2 Nov``: the Monday that starts it."""
        return f"{self.monday.day} {self.monday:%b}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


def weeks_between(first: date, last: date) -> tuple[Week, ...]:
    """The weeks from the one holding ``first`` to the one holding ``last``."""
    monday = monday_of(first)
    weeks = []
    while monday <= last:
        weeks.append(Week.of(monday))
        monday += timedelta(days=7)
    return tuple(weeks)


def weeks_spanned(first: date, last: date) -> int:
    return (monday_of(last) - monday_of(first)).days // 7 + 1


def date_range(first: date | None, last: date | None, today: date | None = None) -> tuple[date, date]:
    """The dates the figures run between: those chosen, else 12 weeks up to today (this week the twelfth), or 12
    weeks from the first date chosen, or up to the last one."""
    today = today or working_days.today()
    if first and not last:
        last = min(today, monday_of(first) + timedelta(weeks=DEFAULT_WEEKS, days=-1))
    last = last or today
    return first or monday_of(last) - timedelta(weeks=DEFAULT_WEEKS - 1), last


@dataclass(frozen=True)
class Filters:
    """What the figures are of: whole weeks, and optionally one service, one channel, and a set of queues (None: every
    queue, for an admin who chose none; a team leader's are always theirs)."""

    weeks: tuple[Week, ...]
    service: str | None = None
    channel: str | None = None
    queue_ids: tuple[int, ...] | None = None

    @property
    def start(self) -> datetime:
        return self.weeks[0].start

    @property
    def end(self) -> datetime:
        return self.weeks[-1].end

    def submission_conditions(self) -> list[Any]:
        conditions = []
        if self.service:
            conditions.append(Submission.service_slug == self.service)
        if self.channel:
            conditions.append(Submission.channel == self.channel)
        if self.queue_ids is not None:
            conditions.append(Submission.queue_id.in_(self.queue_ids))
        return conditions

    def week_of(self, column: Any) -> Any:
        """The index of the week a time falls in (the rows are already within the range): CASEs nested as a binary
        search over the weeks' starts, so a row costs about six comparisons for a year of weeks, not 53."""

        def between(first: int, last: int) -> Any:  # the weeks first to last - 1
            if last - first == 1:
                return literal(first)
            middle = (first + last) // 2
            return case((column < self.weeks[middle].start, between(first, middle)), else_=between(middle, last))

        return between(0, len(self.weeks))

    def within(self, column: Any) -> Any:
        return and_(column >= self.start, column < self.end)


# Channel shift --------------------------------------------------------------------------------------------------


def unit_costs() -> dict[str, int]:
    """The estimated cost of one contact by each channel, in pence (CHANNEL_COST_* settings)."""
    config = current_app.config
    return {
        Channel.ONLINE: config["CHANNEL_COST_ONLINE"],
        Channel.PHONE: config["CHANNEL_COST_PHONE"],
        Channel.FACE_TO_FACE: config["CHANNEL_COST_FACE_TO_FACE"],
        Channel.OPEN311: config["CHANNEL_COST_OPEN311"],
    }


@dataclass(frozen=True)
class ChannelWeek:
    week: Week
    counts: dict[str, int]
    costs: dict[str, int]  # each channel's unit cost, in pence

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def self_service(self) -> int:
        return sum(self.counts.get(channel, 0) for channel in SELF_SERVICE)

    @property
    def assisted(self) -> int:
        return self.total - self.self_service

    @property
    def share_online(self) -> float | None:
        """The share made by residents themselves, online or over Open311, as a percentage (None: nothing)."""
        return 100 * self.self_service / self.total if self.total else None

    @property
    def cost(self) -> int:
        return sum(count * self.costs[channel] for channel, count in self.counts.items())

    @property
    def assisted_cost(self) -> int:
        return sum(count * self.costs[channel] for channel, count in self.counts.items() if channel not in SELF_SERVICE)

    @property
    def assisted_cost_online(self) -> int:
        """What the phone and face-to-face contacts would have cost had they been made online."""
        return self.assisted * self.costs[Channel.ONLINE]


@dataclass(frozen=True)
class ChannelShift:
    weeks: list[ChannelWeek]

    @property
    def total(self) -> ChannelWeek:
        counts: dict[str, int] = defaultdict(int)
        for week in self.weeks:
            for channel, count in week.counts.items():
                counts[channel] += count
        return ChannelWeek(self.weeks[0].week, dict(counts), self.weeks[0].costs)


def channel_shift(filters: Filters) -> ChannelShift:
    """Submissions received each week by channel (those that reached a queue: a payment never made is not a contact
    dealt with). One index-only scan of ix_submission_received_figures."""
    week = filters.week_of(Submission.received_at)
    rows = db.session.execute(
        select(week, Submission.channel, func.count())
        .where(filters.within(Submission.received_at), *filters.submission_conditions())
        .group_by(week, Submission.channel)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for index, channel, count in rows:
        counts[index][channel] = count
    costs = unit_costs()
    return ChannelShift(
        [
            ChannelWeek(week, {channel.value: counts[index].get(channel.value, 0) for channel in Channel}, costs)
            for index, week in enumerate(filters.weeks)
        ]
    )


# Service levels -------------------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """Cases resolved or closed: how many, how many had a target and met it, and how many working days each took."""

    resolved: int = 0
    with_target: int = 0
    within_target: int = 0
    days: dict[int, int] = field(default_factory=dict)  # working days taken: how many cases took that many

    def add(self, count: int, within: bool, taken: int | None) -> None:
        self.resolved += count
        if taken is not None:  # always, for a case received into a queue
            self.with_target += count
            self.within_target += count if within else 0
            self.days[taken] = self.days.get(taken, 0) + count

    @property
    def share_within_target(self) -> float | None:
        return 100 * self.within_target / self.with_target if self.with_target else None

    @property
    def median_days(self) -> float | None:
        return median(self.days)


def median(counts: dict[int, int]) -> float | None:
    """The median of values given as how many times each occurs."""
    total = sum(counts.values())
    if not total:
        return None
    middle = ((total - 1) // 2, total // 2)  # the one or two middle positions, from 0
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while len(found) < 2 and middle[len(found)] < seen:
            found.append(value)
    return (found[0] + found[1]) / 2


@dataclass(frozen=True)
class ServiceLevels:
    by_week: list[tuple[Week, Resolution]]
    by_category: list[tuple[Queue, str, str | None, Resolution]]  # queue, service slug, category
    total: Resolution


def service_levels(filters: Filters) -> ServiceLevels:
    """Cases with a target resolved or closed in each week: the share that met it and the median working days taken,
    by week, and by queue and category over the whole range. A service without targets (a payment) is left out.
    Two aggregates over the index on closed_at, one by week and one by queue and category, each grouping the cases
    by whether they met their target and the working days they took: fewer groups than one query of both."""
    conditions = (
        filters.within(Submission.closed_at),
        Submission.status.in_(RESOLVED),
        Submission.target_days.is_not(None),
        *filters.submission_conditions(),
    )
    met = case((Submission.working_days_taken <= Submission.target_days, True), else_=False)
    taken = Submission.working_days_taken
    week = filters.week_of(Submission.closed_at)
    by_week = [Resolution() for _ in filters.weeks]
    total = Resolution()
    for index, within, days, count in db.session.execute(
        select(week, met, taken, func.count()).where(*conditions).group_by(week, met, taken)
    ):
        for resolution in (by_week[index], total):
            resolution.add(count, bool(within), days)
    by_category: dict[tuple[int, str, str | None], Resolution] = defaultdict(Resolution)
    keys = (Submission.queue_id, Submission.service_slug, Submission.category)
    for queue_id, service_slug, category, within, days, count in db.session.execute(
        select(*keys, met, taken, func.count()).where(*conditions).group_by(*keys, met, taken)
    ):
        by_category[(queue_id, service_slug, category)].add(count, bool(within), days)
    queues = _queues(key[0] for key in by_category)
    return ServiceLevels(
        list(zip(filters.weeks, by_week, strict=True)),
        sorted(
            ((queues[key[0]], key[1], key[2], resolution) for key, resolution in by_category.items()),
            key=lambda item: (item[0].name, item[1], item[2] or ""),
        ),
        total,
    )


def _queues(ids: Iterable[int]) -> dict[int, Queue]:
    wanted = set(ids)
    return {queue.id: queue for queue in db.session.scalars(select(Queue).where(Queue.id.in_(wanted)))}


# Where the work is ----------------------------------------------------------------------------------------------

AGE_BANDS = (
    ("Less than a week", 7),
    ("1 to 2 weeks", 14),
    ("2 to 4 weeks", 28),
    ("More than 4 weeks", None),
)


@dataclass(frozen=True)
class OpenWork:
    queue: Queue
    bands: list[int]  # open cases in each AGE_BANDS band, by how long since they were received
    overdue: int
    oldest_reference: str | None
    oldest_received: datetime | None

    @property
    def total(self) -> int:
        return sum(self.bands)


def open_work(filters: Filters, queues: Sequence[Queue], now: datetime | None = None) -> list[OpenWork]:
    """Each queue's open cases now, by age band, how many are overdue, and its oldest (the service and channel
    filters apply; the weeks do not: this is the work waiting today)."""
    now = now or utcnow()
    today = working_days.today()
    band = case(
        *(
            (Submission.received_at > now - timedelta(days=days), index)
            for index, (_, days) in enumerate(AGE_BANDS)
            if days is not None
        ),
        else_=len(AGE_BANDS) - 1,
    )
    conditions = [Submission.status.in_(OPEN_STATUSES), *_without_queues(filters).submission_conditions()]
    ids = [queue.id for queue in queues]
    rows = db.session.execute(
        select(
            Submission.queue_id,
            band,
            func.count(),
            func.count(case((Submission.due_on < today, 1))),
        )
        .where(Submission.queue_id.in_(ids), *conditions)
        .group_by(Submission.queue_id, band)
    ).all()
    bands: dict[int, list[int]] = {queue_id: [0] * len(AGE_BANDS) for queue_id in ids}
    overdue: dict[int, int] = defaultdict(int)
    for queue_id, index, count, late in rows:
        bands[queue_id][index] = count
        overdue[queue_id] += late
    oldest = _oldest_open(ids, conditions)
    return [
        OpenWork(queue, bands[queue.id], overdue[queue.id], *oldest.get(queue.id, (None, None))) for queue in queues
    ]


def _without_queues(filters: Filters) -> Filters:
    return Filters(filters.weeks, filters.service, filters.channel, None)


def _oldest_open(queue_ids: Sequence[int], conditions: list[Any]) -> dict[int, tuple[str, datetime]]:
    """Each queue's open case received longest ago: one probe per queue and open status, down the index on (queue_id,
    status, received_at), all in one statement."""
    if not queue_ids:
        return {}
    probes = [
        select(literal(queue_id).label("queue_id"), Submission.reference, Submission.received_at)
        .where(Submission.queue_id == queue_id, Submission.status == status, *conditions)
        .order_by(Submission.received_at)
        .limit(1)
        .subquery()
        .select()
        for queue_id in queue_ids
        for status in OPEN_STATUSES
    ]
    found: dict[int, tuple[str, datetime]] = {}
    for queue_id, reference, received_at in db.session.execute(union_all(*probes)).all():
        received_at = as_utc(received_at)
        if queue_id not in found or received_at < found[queue_id][1]:
            found[queue_id] = (reference, received_at)
    return found


# Payments -------------------------------------------------------------------------------------------------------


@dataclass
class Money:
    count: int = 0
    amount: int = 0  # pence


@dataclass(frozen=True)
class Takings:
    services: list[str]  # the slugs that took or refunded money in the range, in the order shown
    paid: list[dict[str, Money]]  # per week, by service
    refunded: list[dict[str, Money]]

    def week_total(self, index: int, which: str = "paid") -> Money:
        rows = (self.paid if which == "paid" else self.refunded)[index]
        return Money(sum(m.count for m in rows.values()), sum(m.amount for m in rows.values()))

    def total(self, which: str = "paid") -> Money:
        weeks = [self.week_total(index, which) for index in range(len(self.paid))]
        return Money(sum(m.count for m in weeks), sum(m.amount for m in weeks))


def takings(filters: Filters) -> Takings:
    """Money taken each week by service (payments that succeeded), and refunds that went through."""
    paid_week = filters.week_of(Payment.succeeded_at)
    paid_rows = db.session.execute(
        _in_queues(select(paid_week, Payment.service_slug, func.count(), func.sum(Payment.amount)), filters)
        .where(Payment.status == "succeeded", filters.within(Payment.succeeded_at), *_payment_conditions(filters))
        .group_by(paid_week, Payment.service_slug)
    ).all()
    refund_week = filters.week_of(Refund.created_at)
    refund_rows = db.session.execute(
        _in_queues(
            select(refund_week, Payment.service_slug, func.count(), func.sum(Refund.amount)).join(
                Payment, Payment.id == Refund.payment_id
            ),
            filters,
        )
        .where(Refund.status == "succeeded", filters.within(Refund.created_at), *_payment_conditions(filters))
        .group_by(refund_week, Payment.service_slug)
    ).all()
    paid: list[dict[str, Money]] = [{} for _ in filters.weeks]
    refunded: list[dict[str, Money]] = [{} for _ in filters.weeks]
    for rows, into in ((paid_rows, paid), (refund_rows, refunded)):
        for index, service_slug, count, amount in rows:
            into[index][service_slug] = Money(count, int(amount or 0))
    services = sorted({slug for week in paid + refunded for slug in week})
    return Takings(services, paid, refunded)


def _payment_conditions(filters: Filters) -> list[Any]:
    conditions = []
    if filters.service:
        conditions.append(Payment.service_slug == filters.service)
    if filters.channel:
        conditions.append(Payment.channel == filters.channel)
    return conditions


def _in_queues(query: Select, filters: Filters) -> Select:
    """Payments for submissions in the chosen queues: a join only when there is a choice (every queue needs none)."""
    if filters.queue_ids is None:
        return query
    return query.join(Submission, Submission.id == Payment.submission_id).where(
        Submission.queue_id.in_(filters.queue_ids)
    )

"""The database tables, as SQLAlchemy 2.0 typed models. Schema changes go through migrations/."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.extensions import db

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A time read around the column type (an aggregate, a UNION) as UTCDateTime reads it: SQLite's naive UTC values
    come back naive, so they are marked UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware datetimes on both databases (SQLite stores them naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value)


class Status(enum.StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    AWAITING_INFORMATION = "awaiting_information"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"  # never paid for: the payment failed, was abandoned or ran out of time
    WITHDRAWN = "withdrawn"  # the resident took it back (made in error), from check progress

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.AWAITING_PAYMENT: "Awaiting payment",
    Status.RECEIVED: "Received",
    Status.IN_PROGRESS: "In progress",
    Status.AWAITING_INFORMATION: "Waiting for more information",
    Status.RESOLVED: "Fixed or resolved",
    Status.CLOSED: "Closed",
    Status.DUPLICATE: "Already reported",
    Status.CANCELLED: "Cancelled",
    Status.WITHDRAWN: "Withdrawn",
}
OPEN_STATUSES = (Status.RECEIVED, Status.IN_PROGRESS, Status.AWAITING_INFORMATION)
# Finished with: a submission's retention period runs from when it entered one of these (Submission.closed_at).
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.DUPLICATE, Status.CANCELLED, Status.WITHDRAWN)
# What a case in a queue can be: one awaiting payment, or cancelled unpaid, never reached a queue.
QUEUE_STATUSES = tuple(status for status in Status if status not in (Status.AWAITING_PAYMENT, Status.CANCELLED))


class Channel(enum.StrEnum):
    """How a submission reached the council: a resident online, or an agent for a caller."""

    ONLINE = "online"
    PHONE = "phone"  # the contact centre, for a caller
    FACE_TO_FACE = "face-to-face"  # a customer service centre, for a visitor
    OPEN311 = "open311"  # another system (FixMyStreet, a back-office system) over Open311, with its API key

    @property
    def label(self) -> str:
        return {"online": "Online", "phone": "Phone", "face-to-face": "Face to face", "open311": "Open311"}[self.value]


ASSISTED_CHANNELS = (Channel.PHONE, Channel.FACE_TO_FACE)


class UpdatesBy(enum.StrEnum):
    """How someone wants to hear about their submission. Callers often have no email address."""

    EMAIL = "email"
    SMS = "sms"  # a text message to a mobile number
    PHONE = "phone"  # a call from the team
    LETTER = "letter"  # a letter to their address
    NONE = "none"  # anonymous: no updates
    SENDER = "sender"  # sent over Open311: the system that sent it tells them (it reads the updates), not us

    @property
    def label(self) -> str:
        return UPDATES_LABELS[self]


UPDATES_LABELS = {
    UpdatesBy.EMAIL: "Email",
    UpdatesBy.SMS: "Text message",
    UpdatesBy.PHONE: "Phone call",
    UpdatesBy.LETTER: "Letter",
    UpdatesBy.NONE: "No updates",
    UpdatesBy.SENDER: "From the system that sent it",
}


class Role(enum.StrEnum):
    AGENT = "agent"  # contact centre: assisted-digital journeys, no queues
    CASEWORKER = "caseworker"  # works the queues they belong to
    TEAM_LEADER = "team_leader"  # a caseworker who can also reassign and see team figures
    ADMIN = "admin"  # staff accounts, queues, routing rules, the outbox
    FINANCE = "finance"  # payments, refunds and reconciliation; no queues
    DPO = "dpo"  # the data protection officer: subject access requests, erasure and the audit trail; no queues

    @property
    def label(self) -> str:
        return "Data protection officer" if self is Role.DPO else self.value.replace("_", " ").capitalize()


staff_queue = db.Table(
    "staff_queue",
    db.Column("staff_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    db.Column("queue_id", ForeignKey("queue.id", ondelete="CASCADE"), primary_key=True),
)


class Queue(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[StaffUser]] = relationship(secondary=staff_queue, back_populates="queues")


class StaffUser(db.Model):
    """A member of council staff who signs in at /staff."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changes at every sign-in and sign-out: a session cookie from before no longer works.
    session_nonce: Mapped[str] = mapped_column(String(32))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-factor sign-in (webapp.two_factor): the authenticator app's TOTP secret (base32), made at the first sign-in
    # and in use once a code from the app has confirmed it (two_factor_at); the last 30-second step whose code was
    # accepted, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    two_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)

    queues: Mapped[list[Queue]] = relationship(secondary=staff_queue, back_populates="members", order_by="Queue.name")

    # Flask-Login's user interface.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def role_label(self) -> str:
        return Role(self.role).label


class BackupCode(db.Model):
    """A one-time backup code for two-factor sign-in, for when the phone is lost: only its SHA-256 hash is kept (the
    code is random, 50 bits), and it is spent once used."""

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("staff_id", "code_hash", name="uq_backup_code_staff_hash"),)


class RoutingRule(db.Model):
    """Sends submissions that match every non-empty criterion to a queue. The most specific rule wins."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    service_slug: Mapped[str | None] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    area: Mapped[str | None] = mapped_column(String(120))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queue.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    queue: Mapped[Queue] = relationship()


class ServiceLevel(db.Model):
    """A target time to resolve, in working days, for a service's submissions, or for one category of them (None:
    any category that has no target of its own). Data beside the routing rules (webapp/data/routing.json), held in
    memory with them (webapp.routing) and under their version; a submission takes its target when it reaches its
    queue (webapp.service_levels), so a target changed later does not move the due dates already given."""

    __tablename__ = "service_level"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    working_days: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("working_days > 0", name="working_days_positive"),)


class OverdueDigest(db.Model):
    """The daily email of a team leader's overdue cases, once it was queued for a day: one a person a day, however
    often the job runs."""

    __tablename__ = "overdue_digest"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QueueCountChange(db.Model):
    """How many submissions each queue holds in each status, and, for its open ones, by due date, kept as the
    database changes them: triggers on submission (migrations 0014 and 0019) add a row of +1 or -1 (on PostgreSQL,
    one row a statement per queue, status and due date) for every submission that enters or leaves a queue or a
    status, or whose due date changes while it is open. Rows only ever go in, so concurrent submissions never wait
    for each other here; webapp.queue_counts reads and folds them."""

    __tablename__ = "queue_count_change"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None] = mapped_column(Date)  # an open submission's due date; none for a closed one
    change: Mapped[int] = mapped_column(BigInteger)
    # Written by a fold (webapp.queue_counts.fold), not by a trigger.
    folded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class RoutingVersion(db.Model):
    """One row: a number the database itself raises whenever a routing rule or a queue changes (triggers, migration
    0012), so that every process can tell cheaply when the rules it holds in memory (webapp.routing) are out of
    date."""

    __tablename__ = "routing_version"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)


class Call(db.Model):
    """A caller on the phone, or a visitor at a customer service centre, whom an agent is helping. An agent may hold
    several at once; each call keeps its own drafts, one per service, so two callers' answers never mix."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # phone or face-to-face
    # Who is calling, when the agent found them first: their journeys start with these filled in.
    caller_name: Mapped[str | None] = mapped_column(String(200))
    caller_email: Mapped[str | None] = mapped_column(String(320))
    caller_phone: Mapped[str | None] = mapped_column(String(40))
    caller_postcode: Mapped[str | None] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agent: Mapped[StaffUser] = relationship()

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label


class Draft(db.Model):
    """Answers in progress. A resident's browser holds only this row's id, signed, in its session cookie; an
    agent's drafts belong to the call they are for."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.ONLINE)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))


class Submission(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # One submission per draft, enforced by the database, so a replayed submit cannot make two.
    draft_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    service_slug: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    # The system that sent it over Open311 (channel open311).
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"))
    # None until the submission is received: one waiting for payment is in no queue yet.
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queue.id"))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rule.id", ondelete="SET NULL"))
    classification: Mapped[str] = mapped_column(String(32))
    # Its service level (webapp.service_levels): when it first reached a queue (routed, or its payment came in); the
    # working days its service gave it then and the day they run out (None: no target); and, once resolved or
    # closed, the working days it took (None again if it is reopened).
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    target_days: Mapped[int | None] = mapped_column(Integer)
    due_on: Mapped[date | None] = mapped_column(Date)
    working_days_taken: Mapped[int | None] = mapped_column(Integer)
    # When it was closed (CLOSED_STATUSES); None while it is open. Its service's retention period runs from here
    # (webapp.retention); reopening it clears this.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the retention run (or an erasure) removed its personal data, keeping what statistics need.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)

    street: Mapped[str | None] = mapped_column(String(200))
    street_key: Mapped[str | None] = mapped_column(String(200), index=True)
    area: Mapped[str | None] = mapped_column(String(120))
    postcode: Mapped[str | None] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float, index=True)
    longitude: Mapped[float | None] = mapped_column(Float)

    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_address: Mapped[str | None] = mapped_column(Text)  # for updates by letter: the lines, one a line
    updates_by: Mapped[str | None] = mapped_column(String(16))  # webapp.models.UpdatesBy; None: by email if given
    # When an agent confirmed they had told the caller how the council uses their information.
    privacy_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The property it is about, its lines one a line (a collection's, a subscription's), where a service asks for one.
    address: Mapped[str | None] = mapped_column(Text)
    # The address's Unique Property Reference Number, when the resident chose it from the council's gazetteer.
    uprn: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Photos the sender of an Open311 request holds, by their links (its media_url), one a line: staff and Open311
    # readers follow the links; the photos are not fetched.
    media_url: Mapped[str | None] = mapped_column(Text)
    # What it is about, in the service's words (webapp.catalogue.Record.description): the queue, the case and the
    # exports show it without reading the answers.
    description: Mapped[str] = mapped_column(Text, default="")
    # A payment link's end: until then a submission awaiting payment is not cancelled for want of it.
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the resident last added information (answering a request, or of their own accord) that staff have not
    # yet acted on: the queue marks the case, and the next staff action on it clears this.
    resident_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    queue: Mapped[Queue | None] = relationship()
    routing_rule: Mapped[RoutingRule | None] = relationship()
    assignee: Mapped[StaffUser | None] = relationship(foreign_keys=[assignee_id])
    agent: Mapped[StaffUser | None] = relationship(foreign_keys=[agent_id])
    api_client: Mapped[ApiClient | None] = relationship()
    duplicate_of: Mapped[Submission | None] = relationship(remote_side="Submission.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="submission", order_by="Attachment.id")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="submission", order_by="CaseEvent.id")

    __table_args__ = (
        # Queue pages: by queue (and status), oldest first, paginated by (created_at, id).
        Index("ix_submission_queue_created", "queue_id", "created_at", "id"),
        Index("ix_submission_queue_status_created", "queue_id", "status", "created_at", "id"),
        Index("ix_submission_queue_category_created", "queue_id", "category", "created_at", "id"),
        # Filtered by status and category: the count reads the index alone, the page comes in order from it.
        Index("ix_submission_queue_status_category_created", "queue_id", "status", "category", "created_at", "id"),
        # Overdue cases: open, due before today.
        Index("ix_submission_queue_status_due", "queue_id", "status", "due_on"),
        # The dashboard's figures, from the indexes alone on PostgreSQL: what was received in a range of weeks, the
        # open cases of each queue by age (and its oldest), and what was closed in a range of weeks (the retention
        # run reads this one too).
        Index("ix_submission_received_figures", "received_at", "queue_id", "service_slug", "channel"),
        Index(
            "ix_submission_open_age",
            "queue_id",
            "status",
            "received_at",
            postgresql_include=["due_on", "service_slug", "channel"],
        ),
        Index(
            "ix_submission_closed_at",
            "closed_at",
            postgresql_include=[
                "status",
                "queue_id",
                "service_slug",
                "category",
                "channel",
                "target_days",
                "working_days_taken",
            ],
        ),
        # Incremental exports: what changed in a queue since a cursor of (updated_at, id).
        Index("ix_submission_queue_updated", "queue_id", "updated_at", "id"),
        # Possible-duplicate look-ups: same service and category, recent.
        Index("ix_submission_service_category_created", "service_slug", "category", "created_at"),
        # Open311 reads: a service's requests, newest first, within a date window.
        Index("ix_submission_service_created", "service_slug", "created_at"),
    )

    @property
    def status_label(self) -> str:
        return Status(self.status).label

    @property
    def is_anonymous(self) -> bool:
        """No email address to check progress with: only what is free of personal data shows online."""
        return not self.contact_email

    @property
    def channel_label(self) -> str:
        return Channel(self.channel).label

    @property
    def updates_label(self) -> str:
        if self.updates_by:
            return UpdatesBy(self.updates_by).label
        return UpdatesBy.EMAIL.label if self.contact_email else UpdatesBy.NONE.label


# The triggers on submission write to queue_count_change: it is made before submission and dropped (and emptied, as
# the tests do between tests, row by row on SQLite) after it.
Submission.__table__.add_is_dependent_on(QueueCountChange.__table__)


class Address(db.Model):
    """The council's gazetteer: every address in its area, by UPRN, loaded by ``flask import-addresses``. The
    find-an-address page looks addresses up here by postcode."""

    uprn: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    line3: Mapped[str | None] = mapped_column(String(200))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10), index=True)  # normalised: "LS6 2AA"
    street: Mapped[str | None] = mapped_column(String(200))  # the street the address is on: "Cardigan Road"
    street_key: Mapped[str | None] = mapped_column(String(200), index=True)  # webapp.geo.street_key
    # Indexed for the nearest address to a map position (a request over Open311 gives only that).
    latitude: Mapped[float | None] = mapped_column(Float, index=True)
    longitude: Mapped[float | None] = mapped_column(Float)

    @property
    def lines(self) -> list[str]:
        return [line for line in (self.line1, self.line2, self.line3, self.town, self.postcode) if line]

    @property
    def one_line(self) -> str:
        return ", ".join(self.lines)


class Subscription(db.Model):
    """A subscription to a service at an address, for a period, paid for in advance (webapp.subscriptions): one
    live one (waiting for payment, or running) per service and UPRN, kept by a partial unique index."""

    id: Mapped[int] = mapped_column(primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    uprn: Mapped[int | None] = mapped_column(BigInteger)  # None: an address typed in, not in the gazetteer
    postcode: Mapped[str | None] = mapped_column(String(10))
    reference: Mapped[str] = mapped_column(String(16))  # of the submission that started it
    last_reference: Mapped[str | None] = mapped_column(String(16))  # of the latest renewal, once renewed
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    # Who paid last, and how to reach them (the reminder goes there).
    latest_submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    # A renewal waiting for its payment: one at a time.
    renewal_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"), unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # pending (waiting for payment), active, ended
    reminded_for: Mapped[date | None] = mapped_column(Date)  # the end date the last reminder was about
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_subscription_reference", "service_slug", "postcode", "reference"),
        Index("ix_subscription_ends_on", "status", "ends_on"),
        Index(
            "uq_subscription_live_uprn",
            "service_slug",
            "uprn",
            unique=True,
            sqlite_where=text("status IN ('pending', 'active')"),
            postgresql_where=text("status IN ('pending', 'active')"),
        ),
    )

    @property
    def status_label(self) -> str:
        return {"pending": "Waiting for payment", "active": "Active", "ended": "Ended"}[self.status]


class BookingDay(db.Model):
    """How many places a service has on a day, and how many are taken (webapp.bookings): a booking takes a place
    with a conditional UPDATE, so two residents can never both take the last one."""

    __tablename__ = "booking_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("service_slug", "day", name="uq_booking_day_service_slug_day"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="places_within_capacity"),
    )


class Booking(db.Model):
    """The place a submission holds on a day: held from when it is sent, given back when it is cancelled."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), unique=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # held, cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship()

    __table_args__ = (Index("ix_booking_service_day", "service_slug", "day", "status"),)


class Attachment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    # Sent later than the submission (information the resident added, a follower's photo): the event it came with.
    case_event_id: Mapped[int | None] = mapped_column(ForeignKey("case_event.id", ondelete="SET NULL"), index=True)
    stored_id: Mapped[str] = mapped_column(String(32), unique=True)
    # What it is, when a page asked for it by name ("Proof of address"); None for a photo of a problem.
    label: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(64))
    extension: Mapped[str] = mapped_column(String(8))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="attachments")
    event: Mapped[CaseEvent | None] = relationship(back_populates="attachments")

    @property
    def is_pdf(self) -> bool:
        return self.extension == "pdf"

    @classmethod
    def of(cls, photo: Any, label: str | None = None) -> Attachment:
        """The row for a photo or document stored by webapp.uploads or webapp.evidence (a StoredPhoto)."""
        return cls(
            stored_id=photo.id,
            label=label,
            filename=photo.filename,
            content_type=photo.content_type,
            extension=photo.extension,
            size=photo.size,
            width=photo.width,
            height=photo.height,
        )


class CaseEvent(db.Model):
    """A submission's history: status changes, notes and public updates."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Who did it: a resident, an agent, staff, the system (a payment, a scheduled job) or an API client.
    actor_kind: Mapped[str] = mapped_column(String(16), default="system")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    # The API client that made it (an update posted over Open311), and that update's id in the client's own system:
    # the same update posted twice is recorded once.
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_client.id", ondelete="SET NULL"))
    client_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="events")
    actor: Mapped[StaffUser | None] = relationship()
    api_client: Mapped[ApiClient | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(back_populates="event", order_by="Attachment.id")

    __table_args__ = (
        Index("uq_case_event_client_reference", "api_client_id", "client_reference", unique=True),
        # Open311's public updates within a date window.
        Index("ix_case_event_public_created", "public", "created_at"),
    )


class Follower(db.Model):
    """Someone who asked for a report's updates without making a report of their own."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()

    __table_args__ = (Index("uq_follower_submission_email", "submission_id", "email", unique=True),)


class Notification(db.Model):
    """The outbox: every message the council sends, what it said, and whether it went."""

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    to: Mapped[str] = mapped_column(Text)  # an email address, a mobile number, or a letter's address (its lines)
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    # What a template-based sender (GOV.UK Notify) fills its template with.
    personalisation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_reference: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission | None] = relationship()


class Feedback(db.Model):
    """What a resident thought of a service: the GOV.UK satisfaction rating and what they wrote. Anonymous."""

    id: Mapped[int] = mapped_column(primary_key=True)
    rating: Mapped[str] = mapped_column(String(32))  # very_satisfied ... very_dissatisfied
    comment: Mapped[str] = mapped_column(Text, default="")
    service_slug: Mapped[str | None] = mapped_column(String(64))  # the service it was about, when we know
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditEvent(db.Model):
    """Who did or looked at what, when, from where. Written for every staff action and every case viewed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64), index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"), index=True)
    classification: Mapped[str | None] = mapped_column(String(32))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    submission: Mapped[Submission | None] = relationship()


class ApiClient(db.Model):
    """A system allowed to pull exports of its queues and, with ``open311``, to send requests and post updates
    over Open311 (FixMyStreet, a highways back-office system). Only a hash of its key is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    open311: Mapped[bool] = mapped_column(Boolean, default=False)
    # Permission for sensitive data: its exports hold its queues' OFFICIAL-SENSITIVE cases too (a social care
    # system's); without it they are left out.
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    queues: Mapped[list[Queue]] = relationship(secondary="api_client_queue", order_by="Queue.name")


api_client_queue = db.Table(
    "api_client_queue",
    db.Column("api_client_id", ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True),
    db.Column("queue_id", ForeignKey("queue.id", ondelete="CASCADE"), primary_key=True),
)


class Charge(db.Model):
    """Something a resident owes the council and can pay online: a penalty charge notice, an invoice.
    Loaded from the parking or debt system's export with ``flask import-charges``."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # the PCN or invoice number, normalised
    kind: Mapped[str] = mapped_column(String(16))  # "pcn" or "invoice"
    # What the payer must also know: the vehicle registration for a PCN, the postcode for an invoice (normalised).
    verifier: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)  # pence: the full charge as issued
    balance: Mapped[int] = mapped_column(Integer)  # pence still owed
    status: Mapped[str] = mapped_column(String(16))  # open, paid, cancelled, challenged
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    certificate_on: Mapped[date | None] = mapped_column(Date)  # a PCN's charge certificate: the amount rises
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)


class Payment(db.Model):
    """One attempt to pay for a submission, through a provider. A submission may have several attempts
    (a declined card, then another card); at most one of them pays for it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # in return URLs and provider metadata
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="RESTRICT"), index=True)
    charge_id: Mapped[int | None] = mapped_column(ForeignKey("charge.id", ondelete="RESTRICT"), index=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(Integer)  # pence
    provider: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(255))
    next_url: Mapped[str | None] = mapped_column(Text)  # the provider's payment page, while it is open
    refund_target: Mapped[str | None] = mapped_column(String(255))  # what refunds go against at the provider
    status: Mapped[str] = mapped_column(String(16))
    failure: Mapped[str | None] = mapped_column(String(32))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    channel: Mapped[str] = mapped_column(String(16), default=Channel.ONLINE)
    # How it was taken: PaymentMethod. By card online (the payer, on the provider's page), by card over the phone
    # (an agent on the provider's MOTO page), through a payment link, or in cash or by cheque at a desk.
    method: Mapped[str] = mapped_column(String(16), default="card")
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship()
    charge: Mapped[Charge | None] = relationship()
    taken_by: Mapped[StaffUser | None] = relationship()
    refunds: Mapped[list[Refund]] = relationship(back_populates="payment", order_by="Refund.id")

    __table_args__ = (
        Index("uq_payment_provider_provider_id", "provider", "provider_id", unique=True),
        # The payments page and the ledger: a day's payments, and the open ones the settling job checks.
        Index("ix_payment_status_created", "status", "created_at"),
        Index("ix_payment_succeeded_at", "succeeded_at"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class PaymentMethod(enum.StrEnum):
    CARD = "card"  # the payer, online, on the provider's page
    MOTO = "moto"  # card over the phone: an agent keys the card into the provider's MOTO page
    LINK = "link"  # the payer, online, through a payment link an agent sent
    CASH = "cash"  # at a customer service centre desk, with a receipt number
    CHEQUE = "cheque"

    @property
    def label(self) -> str:
        return PAYMENT_METHOD_LABELS[self]


PAYMENT_METHOD_LABELS = {
    PaymentMethod.CARD: "Card, online",
    PaymentMethod.MOTO: "Card, over the phone",
    PaymentMethod.LINK: "Card, by payment link",
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHEQUE: "Cheque",
}


class PaymentLink(db.Model):
    """A link an agent sent a caller to pay for a submission themselves, by email or text message. Only a hash of
    its token is kept; it works until it expires or the submission is paid, and can be sent again."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    sent_to: Mapped[str] = mapped_column(String(320))
    sent_via: Mapped[str] = mapped_column(String(8))  # email or sms
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship()
    sent_by: Mapped[StaffUser | None] = relationship()


class Refund(db.Model):
    """Money given back against a payment, in full or in part, with the reason and who did it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # pending, succeeded, failed
    # One refund per request: a form sent twice (or a retried job) finds the refund it already made.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    provider_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    payment: Mapped[Payment] = relationship(back_populates="refunds")
    staff: Mapped[StaffUser | None] = relationship()

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class ReconciliationRun(db.Model):
    """One comparison of a day's payments and refunds with the provider's, and what it found."""

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    provider: Mapped[str] = mapped_column(String(16))
    ours: Mapped[int] = mapped_column(Integer)  # how many movements we hold for the day
    theirs: Mapped[int] = mapped_column(Integer)  # how many the provider holds
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mismatches: Mapped[list[Mismatch]] = relationship(back_populates="run", order_by="Mismatch.id")


class Mismatch(db.Model):
    """A movement of money that we and the provider disagree on."""

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_run.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # payment or refund
    problem: Mapped[str] = mapped_column(String(32))  # missing_at_provider, missing_here, amount_differs
    provider_id: Mapped[str] = mapped_column(String(255))
    ours: Mapped[int | None] = mapped_column(Integer)
    theirs: Mapped[int | None] = mapped_column(Integer)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id", ondelete="SET NULL"))

    run: Mapped[ReconciliationRun] = relationship(back_populates="mismatches")
    payment: Mapped[Payment | None] = relationship()


class SandboxPayment(db.Model):
    """The sandbox provider's own record of a payment page (the embedded default; no real money).
    It keeps what a real provider would keep, and never a card number: only its last four digits."""

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(32))
    payment_id: Mapped[str] = mapped_column(String(32))
    return_url: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(320))
    # Card over the phone: the page an agent keys a caller's card into (GOV.UK Pay's MOTO payments).
    moto: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    failure: Mapped[str | None] = mapped_column(String(32))
    card_brand: Mapped[str | None] = mapped_column(String(32))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class SandboxRefund(db.Model):
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    sandbox_payment_id: Mapped[str] = mapped_column(ForeignKey("sandbox_payment.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

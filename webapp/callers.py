"""Find a caller: a contact-centre agent looks up the submissions of the person on the phone, across every service.

A search needs at least one precise value (a reference, an email address, a phone number, a postcode or a full
name), each matched whole and normalised, never as a part or a pattern; several values narrow the search. Results
are the newest first, at most CALLER_SEARCH_LIMIT.

Sensitivity is decided here, not in templates: an OFFICIAL submission comes back as a ``Shown`` (its summary free
of personal data, its public updates, its team); any other classification comes back as a ``Sealed``, which holds
the reference and the team to transfer the call to, and nothing else, so no page can show more of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from webapp import audit, lifecycle, submissions
from webapp.catalogue import OFFICIAL, SummaryRow
from webapp.extensions import db
from webapp.geo import normalise_postcode
from webapp.journeys import submitted_summary
from webapp.models import CaseEvent, Channel, StaffUser, Submission
from webapp.phones import phone_key

SHOWN_CLASSIFICATION = OFFICIAL  # anything else is sealed: a classification added later is sealed too
NO_TEAM = "the contact centre supervisor"  # for a submission in no queue yet (waiting for payment)
CALLER_RANG = "caller_rang"  # the case event of a note that the caller rang


class NothingToSearch(ValueError):
    """A search with no value: no wildcard browsing."""


# Phone numbers ---------------------------------------------------------------------------------------------------

# What people put between the digits of a phone number (the forms allow spaces, brackets and hyphens; a leading +).
_PHONE_PUNCTUATION = (" ", "-", "(", ")", ".", "/", "+")


def phone_spellings(value: str) -> tuple[str, ...]:
    """The digits a stored phone number has, once its spaces, brackets, hyphens and "+" are gone, when it is this
    number: for 07700 900123, ``07700900123``, ``447700900123`` (+44), ``4407700900123`` (+44 (0)),
    ``00447700900123`` and ``004407700900123``."""
    key = phone_key(value)
    if key.startswith("0"):
        national = key[1:]
        return (key, f"44{national}", f"440{national}", f"0044{national}", f"00440{national}")
    if key.startswith("+"):
        return (key[1:], f"00{key[1:]}")
    return (key,)


def phone_digits_of(column: Any) -> ColumnElement[str]:
    """A stored phone number without its punctuation, in SQL (nested replace: SQLite has no regexp_replace)."""
    digits = column
    for mark in _PHONE_PUNCTUATION:
        digits = func.replace(digits, mark, "")
    return digits


# The search ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerQuery:
    """What the agent searched for, each value normalised as it is matched; None where not given."""

    reference: str | None = None
    email: str | None = None
    phone: str | None = None  # phone_key
    postcode: str | None = None  # "LS1 6HD"
    name: str | None = None  # lower case, single spaces

    @classmethod
    def of(
        cls,
        reference: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        postcode: str | None = None,
        name: str | None = None,
    ) -> CallerQuery:
        """From what was typed: blanks are not given. A phone number without digits, or a postcode that is not one,
        is a ValueError (the search form says so first, in its own words): a value is never dropped, which would
        widen the search."""

        def given(value: str | None) -> str | None:
            value = " ".join((value or "").split())
            return value or None

        reference, email, phone, postcode, name = (given(v) for v in (reference, email, phone, postcode, name))
        if phone and not phone_key(phone).lstrip("+"):
            raise ValueError(f"not a phone number: {phone!r}")
        if postcode and not normalise_postcode(postcode):
            raise ValueError(f"not a postcode: {postcode!r}")
        return cls(
            reference=submissions.normalise_reference(reference) if reference else None,
            email=email.lower() if email else None,
            phone=phone_key(phone) if phone else None,
            postcode=normalise_postcode(postcode) if postcode else None,
            name=name.lower() if name else None,
        )

    def given(self) -> dict[str, str]:
        """The values searched for, by field, for the audit trail: who was looked up."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def email_is(self, column: Any) -> ColumnElement[bool]:
        return func.lower(func.trim(column)) == self.email

    def phone_is(self, column: Any) -> ColumnElement[bool]:
        return phone_digits_of(column).in_(phone_spellings(self.phone))

    def conditions(self, columns: PersonColumns | None = None) -> list[ColumnElement[bool]]:
        """One equality a value, on a submission's columns (or another table's that says who someone is: a call's).
        Names and email addresses are compared in lower case (SQLite lowers ASCII letters only, so on SQLite a name
        with a capital accented letter matches only as it was stored). A table without a reference (a call) is
        matched on the other values alone."""
        columns = columns or SUBMISSION_COLUMNS
        conditions = []
        if self.reference and columns.reference is not None:
            conditions.append(columns.reference == self.reference)
        if self.email:
            conditions.append(self.email_is(columns.email))
        if self.phone:
            conditions.append(self.phone_is(columns.phone))
        if self.postcode:
            compact = self.postcode.replace(" ", "")
            conditions.append(func.upper(func.replace(columns.postcode, " ", "")) == compact)
        if self.name:
            conditions.append(func.lower(func.trim(columns.name)) == self.name)
        return conditions


@dataclass(frozen=True)
class PersonColumns:
    """The columns of a table that say who someone is, for CallerQuery.conditions."""

    email: Any
    phone: Any
    postcode: Any
    name: Any
    reference: Any = None


SUBMISSION_COLUMNS = PersonColumns(
    Submission.contact_email,
    Submission.contact_phone,
    Submission.postcode,
    Submission.contact_name,
    Submission.reference,
)


@dataclass(frozen=True)
class Shown:
    """An OFFICIAL submission, as an agent may see it: nothing from its pages that hold personal data."""

    submission: Submission
    service_title: str
    noun: str
    team: str | None  # its queue's name; None before it reaches one (waiting for payment, or never paid for)
    summary: list[SummaryRow]
    sensitive = False

    @property
    def reference(self) -> str:
        return self.submission.reference


@dataclass(frozen=True)
class Sealed:
    """An OFFICIAL-SENSITIVE submission: only that it exists, its reference (the caller may quote it) and the team
    to transfer the call to. It holds nothing else, so nothing else can be shown."""

    reference: str
    team: str
    sensitive = True


@dataclass(frozen=True)
class CallerSearch:
    query: CallerQuery
    items: list[Shown | Sealed]  # newest first, at most ``limit``
    more: bool  # more matched than are shown
    limit: int
    searched: dict[str, str] = field(default_factory=dict)

    @property
    def references(self) -> str:
        return ", ".join(item.reference for item in self.items)


def as_seen_by_agent(submission: Submission) -> Shown | Sealed:
    """The one place that decides what an agent may see of a submission."""
    if submission.classification != SHOWN_CLASSIFICATION:
        return Sealed(submission.reference, submission.queue.name if submission.queue else NO_TEAM)
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    return Shown(
        submission=submission,
        service_title=service.title if service else submission.service_slug,
        noun=service.noun if service else "request",
        team=submission.queue.name if submission.queue else None,
        summary=submitted_summary(service, submission, personal=False) if service else [],
    )


def find_callers(query: CallerQuery, limit: int | None = None) -> CallerSearch:
    """The submissions matching every value of ``query``, of every service and status, newest first."""
    conditions = query.conditions()
    if not conditions:
        raise NothingToSearch("Enter at least one of: reference, email address, phone number, postcode or full name")
    limit = limit or current_app.config["CALLER_SEARCH_LIMIT"]
    found = list(
        db.session.scalars(
            select(Submission)
            .where(*conditions)
            .options(selectinload(Submission.queue))
            .order_by(Submission.created_at.desc(), Submission.id.desc())
            .limit(limit + 1)
        )
    )
    items = [as_seen_by_agent(submission) for submission in found[:limit]]
    return CallerSearch(query, items, len(found) > limit, limit, query.given())


# One submission --------------------------------------------------------------------------------------------------


def public_updates(submission: Submission) -> list[CaseEvent]:
    """What the caller would see on check progress: the updates shown to residents, newest first."""
    return list(reversed(submissions.public_updates(submission)))


def caller_rang(submission: Submission, text: str, agent: StaffUser) -> CaseEvent:
    """A note on the case that the caller rang, by the agent, on the phone: staff see it in the case's history,
    the resident never does. Only for a submission the agent may see. Commits."""
    if submission.classification != SHOWN_CLASSIFICATION:
        raise PermissionError("a note on a sealed case")
    event = lifecycle.record(
        submission, CALLER_RANG, lifecycle.Actor.member_of_staff(agent), text.strip(), channel=Channel.PHONE.value
    )
    audit.record("caller.rang", submission, actor=agent)
    db.session.commit()
    return event

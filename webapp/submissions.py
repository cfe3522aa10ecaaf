"""Queries about submissions, in one place: references, similar open reports, progress look-ups."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.geo import box_around, distance_metres, same_area
from webapp.models import OPEN_STATUSES, CaseEvent, Follower, Submission, utcnow

# No 0/O, 1/I/L or U/V/W, which are misread or misheard: safe to say on the phone and type from a letter.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTXYZ"
SIMILAR_RADIUS_METRES = 50
SIMILAR_WITHIN = timedelta(days=30)
SIMILAR_LIMIT = 5
SIMILAR_BATCH = 20  # reports on the same street read at a time, until SIMILAR_LIMIT are in the same area


def new_reference(prefix: str) -> str:
    """``RP-7K3F-9QX2``: 8 random characters (about 38 bits), so references cannot be guessed."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def normalise_reference(value: str) -> str:
    """What people type, in any case, with spaces or without the dashes, read as the reference."""
    compact = "".join(ch for ch in value.upper() if ch.isalnum())
    if len(compact) != 10:
        return value.strip().upper()
    return f"{compact[:2]}-{compact[2:6]}-{compact[6:]}"


def get_by_reference(reference: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.reference == normalise_reference(reference)))


def get_by_draft(draft_id: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.draft_id == draft_id))


@dataclass(frozen=True)
class Similar:
    submission: Submission
    distance: float | None  # metres, when both have a map position

    def __getattr__(self, name: str):
        return getattr(self.submission, name)


def similar_open(
    *,
    service_slug: str,
    category: str | None,
    street_key: str | None,
    area: str | None = None,
    latitude: float | None,
    longitude: float | None,
) -> list[tuple[int, float | None]]:
    """Open reports of the same kind from the last 30 days: within 50 metres when we have a map position, else on
    the same street. Nearest (or newest) first, as (id, distance in metres when both have a map position).

    The same street means the same street in the same area, when both reports name one ("Park Lane, Headingley"
    is not "Park Lane, Little Woodhouse"). With a map position, reports on the same street that were given
    without one come after the nearby ones: they may be the same problem, and nothing else would find them.

    Only the columns that decide are read: the journey asks whether there are any on most of its pages, and shows
    them (find_similar_open) on one."""
    if not category:
        return []
    criteria = (
        Submission.service_slug == service_slug,
        Submission.category == category,
        Submission.status.in_([status.value for status in OPEN_STATUSES]),
        Submission.created_at >= utcnow() - SIMILAR_WITHIN,
    )
    found: list[tuple[int, float | None]] = []
    if latitude is not None and longitude is not None:
        south, west, north, east = box_around(latitude, longitude, SIMILAR_RADIUS_METRES)
        nearby = select(Submission.id, Submission.latitude, Submission.longitude).where(
            *criteria, Submission.latitude.between(south, north), Submission.longitude.between(west, east)
        )
        measured = [
            (id_, distance_metres(latitude, longitude, lat, lon)) for id_, lat, lon in db.session.execute(nearby)
        ]
        found = sorted(((id_, d) for id_, d in measured if d <= SIMILAR_RADIUS_METRES), key=lambda pair: pair[1])
        criteria = (*criteria, Submission.latitude.is_(None))
    if street_key:
        # Newest first, a few at a time until there are enough: a busy street (a snow day's potholes) has hundreds.
        same_street = (
            select(Submission.id, Submission.area)
            .where(*criteria, Submission.street_key == street_key)
            .order_by(Submission.created_at.desc(), Submission.id.desc())
        )
        for offset in itertools.count(0, SIMILAR_BATCH):
            batch = db.session.execute(same_street.limit(SIMILAR_BATCH).offset(offset)).all()
            found += [(id_, None) for id_, other in batch if same_area(area, other)]
            if len(found) >= SIMILAR_LIMIT or len(batch) < SIMILAR_BATCH:
                break
    return found[:SIMILAR_LIMIT]


def find_similar_open(**where: Any) -> list[Similar]:
    """The reports similar_open finds (given the same arguments), loaded, in its order."""
    chosen = similar_open(**where)
    if not chosen:
        return []
    # With their photos (the cards show the one sent with each report) in one more query, not one a report.
    query = select(Submission).options(selectinload(Submission.attachments))
    loaded = {s.id: s for s in db.session.scalars(query.where(Submission.id.in_([i for i, _ in chosen])))}
    return [Similar(loaded[id_], distance) for id_, distance in chosen if id_ in loaded]


def public_updates(submission: Submission) -> list[CaseEvent]:
    return [event for event in submission.events if event.public]


def follow(submission: Submission, email: str) -> bool:
    """Add a follower for a report's updates. False when that email already follows it."""
    email = email.strip().lower()
    exists = db.session.scalar(
        select(func.count())
        .select_from(Follower)
        .where(Follower.submission_id == submission.id, Follower.email == email)
    )
    if exists:
        return False
    db.session.add(Follower(submission=submission, email=email))
    return True


@dataclass(frozen=True)
class ProgressLookup:
    submission: Submission | None = None
    # The person showed it is theirs (the email they gave matched): their own details may be shown, and they can
    # add information, withdraw it or say it is not fixed. Someone following it, or anyone with the reference of
    # an anonymous report, sees only what is not personal.
    personal: bool = False
    error: str | None = None


NOT_FOUND = "No report matches that reference and email address. Check them and try again"


def same_email(one: str | None, other: str | None) -> bool:
    """Email addresses as people type them: spaces around them and capital letters do not matter."""
    return bool(one and other) and one.strip().casefold() == other.strip().casefold()


def find_for_progress(reference: str, email: str | None) -> ProgressLookup:
    """Reference and the email given with it show everything; a follower's email shows the progress; a reference
    alone works only for an anonymous report, and shows nothing personal."""
    submission = get_by_reference(reference)
    if submission is None:
        return ProgressLookup(error=NOT_FOUND)
    if submission.anonymised_at is not None:  # nothing personal is left: its status, as for an anonymous report
        return ProgressLookup(submission, personal=False)
    if same_email(email, submission.contact_email):
        return ProgressLookup(submission, personal=True)
    if email and email.strip():
        following = db.session.scalars(select(Follower.email).where(Follower.submission_id == submission.id))
        if any(same_email(email, follower) for follower in following):
            return ProgressLookup(submission, personal=False)
        return ProgressLookup(error=NOT_FOUND)
    if submission.contact_email is None:
        return ProgressLookup(submission, personal=False)
    return ProgressLookup(error="Enter the email address you gave when you made this report")

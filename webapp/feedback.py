"""What residents think of the services: the GOV.UK satisfaction question and what they would improve. Anonymous:
nothing ties a response to a submission or a person."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from webapp.extensions import db
from webapp.models import Feedback

# The GOV.UK satisfaction survey's five answers, best first.
RATINGS = (
    ("very_satisfied", "Very satisfied"),
    ("satisfied", "Satisfied"),
    ("neither", "Neither satisfied or dissatisfied"),
    ("dissatisfied", "Dissatisfied"),
    ("very_dissatisfied", "Very dissatisfied"),
)
RATING_LABELS = dict(RATINGS)
COMMENT_MAX = 1200
PAGE_SIZE = 20


def give(rating: str, comment: str, service_slug: str | None) -> Feedback:
    """Keep one response. The caller has checked the rating and the service."""
    if rating not in RATING_LABELS:
        raise ValueError(f"not a rating: {rating}")
    feedback = Feedback(rating=rating, comment=comment.strip()[:COMMENT_MAX], service_slug=service_slug)
    db.session.add(feedback)
    db.session.commit()
    return feedback


@dataclass(frozen=True)
class RatingCount:
    value: str
    label: str
    count: int
    share: float  # of all responses, 0 to 1


def _about(query: Select, service_slug: str | None) -> Select:
    return query.where(Feedback.service_slug == service_slug) if service_slug else query


def counts(service_slug: str | None = None) -> list[RatingCount]:
    """How many gave each rating, best first, with each one's share: for one service, or every response."""
    found = dict(
        db.session.execute(_about(select(Feedback.rating, func.count()).group_by(Feedback.rating), service_slug)).all()
    )
    total = sum(found.values())
    return [
        RatingCount(value, label, found.get(value, 0), found.get(value, 0) / total if total else 0.0)
        for value, label in RATINGS
    ]


@dataclass(frozen=True)
class CommentPage:
    items: list[Feedback]
    older: int | None  # the id to read older comments from, when there are more
    newer: int | None  # the id to read newer comments from, when this is not the first page


def comments(
    service_slug: str | None = None,
    older_than: int | None = None,
    newer_than: int | None = None,
    size: int = PAGE_SIZE,
) -> CommentPage:
    """Responses with a comment, newest first, ``size`` at a time, by keyset on id (ids grow with time)."""
    base = _about(select(Feedback).where(Feedback.comment != ""), service_slug)
    if newer_than is not None:
        rows = list(db.session.scalars(base.where(Feedback.id > newer_than).order_by(Feedback.id).limit(size + 1)))
        items = list(reversed(rows[:size]))
        has_newer, has_older = len(rows) > size, True
    else:
        query = base.where(Feedback.id < older_than) if older_than is not None else base
        rows = list(db.session.scalars(query.order_by(Feedback.id.desc()).limit(size + 1)))
        items = rows[:size]
        has_newer, has_older = older_than is not None, len(rows) > size
    return CommentPage(
        items,
        older=items[-1].id if items and has_older else None,
        newer=items[0].id if items and has_newer else None,
    )

"""Who may call which staff route. Every staff view declares its rule with ``@staff_only(...)``; a test
walks the URL map to make sure none is left undeclared, and a matrix test checks who gets what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import abort, redirect, request, session, url_for
from flask_login import current_user

from webapp import audit, cases, submissions
from webapp.extensions import db, login_manager
from webapp.models import Queue, Role, Submission, utcnow

# An admin who gave a reason to open a sealed case may look at it (and its files) for this long.
SEALED_GRANTS = "sealed_grants"
SEALED_GRANT_LIFETIME = timedelta(minutes=30)

ALL_STAFF = (Role.AGENT, Role.CASEWORKER, Role.TEAM_LEADER, Role.ADMIN, Role.FINANCE, Role.DPO)
QUEUE_WORKERS = (Role.CASEWORKER, Role.TEAM_LEADER, Role.ADMIN)
LEADERS = (Role.TEAM_LEADER, Role.ADMIN)
ADMINS = (Role.ADMIN,)
FINANCE = (Role.FINANCE, Role.ADMIN)
# Who completes journeys for callers, takes their payments and finds their earlier contacts.
CALL_HANDLERS = (Role.AGENT, Role.ADMIN)
# Subject access requests and erasure: the data protection officer alone. The audit trail: them and admins.
DPO = (Role.DPO,)
AUDITORS = (Role.DPO, Role.ADMIN)


def staff_only(*roles: Role) -> Callable:
    """Signed in, with one of these roles; anyone else is sent to sign in (or refused with 403)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = "roles:" + ",".join(roles)
        return wrapped

    return decorate


def public(view: Callable) -> Callable:
    """Declares a staff-side route that needs no sign-in (the sign-in page itself)."""
    view.access = "public"
    return view


def queue_or_abort(slug: str) -> Queue:
    queue = db.session.scalar(db.select(Queue).where(Queue.slug == slug)) or abort(404)
    if not cases.can_work_queue(current_user, queue):
        abort(403)
    return queue


def case_or_abort(reference: str, action: str = "case.view") -> Submission:
    """The case, if this member of staff works its queue. Looking at a case is audited."""
    submission = submissions.get_by_reference(reference) or abort(404)
    if not cases.can_work_queue(current_user, submission.queue):
        audit.record("case.refused", submission, actor=current_user)
        db.session.commit()
        abort(403)
    if cases.is_sealed_from(current_user, submission) and not has_sealed_grant(submission.reference):
        # OFFICIAL-SENSITIVE, and this admin is not in its team: first a reason, which the audit trail keeps.
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        abort(redirect(url_for("staff.open_sealed", reference=submission.reference, next=back)))
    if action:
        audit.record(action, submission, actor=current_user)
        db.session.commit()
    return submission


def has_sealed_grant(reference: str) -> bool:
    until = session.get(SEALED_GRANTS, {}).get(reference)
    return until is not None and datetime.fromisoformat(until) > utcnow()


def grant_sealed(reference: str) -> None:
    """This admin gave a reason to open a sealed case: they may look at it for a while, in this session only."""
    now = utcnow()
    kept = {ref: until for ref, until in session.get(SEALED_GRANTS, {}).items() if datetime.fromisoformat(until) > now}
    session[SEALED_GRANTS] = kept | {reference: (now + SEALED_GRANT_LIFETIME).isoformat()}

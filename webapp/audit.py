"""The audit trail: who did or looked at what, when, from which address."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from webapp.extensions import db
from webapp.models import AuditEvent, StaffUser, Submission


def record(action: str, submission: Submission | None = None, actor: StaffUser | None = None, **detail: Any) -> None:
    """Add an audit event to the current unit of work (the caller commits)."""
    db.session.add(
        AuditEvent(
            action=action,
            actor_id=actor.id if actor else None,
            actor_email=actor.email if actor else None,
            submission_id=submission.id if submission else None,
            classification=submission.classification if submission else None,
            ip_address=request.remote_addr if has_request_context() else None,
            detail={key: str(value) if value is not None else None for key, value in detail.items()},
        )
    )

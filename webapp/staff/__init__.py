"""The staff face: sign-in, queues, cases and their actions, exports, the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from webapp import service_levels
from webapp.models import utcnow

bp = Blueprint("staff", __name__, url_prefix="/staff")
LAST_SEEN = "staff_last_seen"
# How a case stands against its service level, on the queue and case pages.
bp.add_app_template_global(service_levels.standing, "due_standing")
bp.add_app_template_global(service_levels.summary, "service_level_summary")


@bp.before_request
def end_idle_sessions():
    """Staff sessions end after a spell of inactivity (STAFF_IDLE_MINUTES)."""
    if not current_user.is_authenticated:
        return None
    now = utcnow()
    last_seen = session.get(LAST_SEEN)
    idle = timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    if last_seen and now - datetime.fromisoformat(last_seen) > idle:
        logout_user()
        session.clear()
        flash(f"You were signed out because you had not used the service for {idle.seconds // 60} minutes.")
        return redirect(url_for("staff.sign_in", next=request.full_path if request.method == "GET" else None))
    session[LAST_SEEN] = now.isoformat()
    return None


from webapp.staff import (  # noqa: E402,F401  (registers the routes)
    accounts,
    audit_trail,
    callers,
    collections,
    dashboard,
    feedback,
    payments,
    sealed,
    search,
    sign_in,
    subject_access,
    views,
)

"""The agents' face: contact-centre staff complete the journeys for a caller, under /staff/calls.

An agent starts a call (phone, or face to face at a customer service centre), then any service of the catalogue.
The journey's pages are the residents' own (webapp.journey_views), in the staff layout with a banner; the call
(``g.call``) holds their drafts, one per service, so an agent can hold several calls at once. Only the agent who
started a call can work in it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, g, render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from webapp.extensions import db
from webapp.models import Call
from webapp.staff import end_idle_sessions

bp = Blueprint("assisted", __name__, url_prefix="/staff/calls")
bp.before_request(end_idle_sessions)  # the staff face's idle sign-out holds here too


@bp.url_value_preprocessor
def find_call(endpoint: str | None, values: dict | None) -> None:
    if values and "call_id" in values:
        g.call_id = values.pop("call_id")


@bp.url_defaults
def keep_call(endpoint: str, values: dict) -> None:
    """Links between a call's pages stay in the call."""
    if "call_id" not in values and g.get("call_id") is not None:
        if current_app.url_map.is_endpoint_expecting(endpoint, "call_id"):
            values["call_id"] = g.call_id


def own_call() -> Call | None:
    """The call in the URL, if the signed-in agent started it (ended or not: they may come back to resend a payment
    link); it becomes ``g.call``, which the journey's pages work in."""
    call = db.session.get(Call, g.get("call_id") or 0)
    if call is None or not current_user.is_authenticated or call.agent_id != current_user.id:
        return None
    g.call = call
    return call


def call_or_404() -> Call:
    """The call in the URL, for its own agent only (checked after the access rule, so after sign-in)."""
    return own_call() or abort(404)


@bp.errorhandler(CSRFError)
def csrf_expired(error: CSRFError):
    """An expired form token on a call's question page: the page again, with what was typed (as for residents)."""
    from webapp import journey_views

    if own_call() is None:
        return render_template("errors/session-expired.html"), 400
    return journey_views.csrf_expired(error)


from webapp.assisted import views  # noqa: E402,F401  (registers the routes)

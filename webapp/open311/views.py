"""The Open311 endpoints. Every answer, errors included, is in the format the URL names (``.xml`` or ``.json``):
403 for a missing or wrong api_key, 404 for an unknown service or request, 400 for anything else wrong, 429 beyond
the rate limit; never a stack trace."""

from __future__ import annotations

import logging

from flask import current_app, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp import journeys
from webapp.api import find_client
from webapp.extensions import db, limiter
from webapp.models import ApiClient, Submission, utcnow
from webapp.open311 import bp, formats, intake, reads, services, updates
from webapp.open311.problems import Problem

log = logging.getLogger(__name__)
FORMAT = "<any(xml, json):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-03T00:00:00Z"  # when the endpoints last changed, as the discovery answer says


def _format() -> str:
    return (request.view_args or {}).get("fmt") or formats.format_of(request.path)


@bp.errorhandler(Problem)
def problem(error: Problem) -> ResponseReturnValue:
    return formats.errors(_format(), error.status, *error.problems)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> ResponseReturnValue:
    return formats.errors(_format(), error.code or 500, (error.code or 500, error.description or error.name))


@bp.errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> ResponseReturnValue:
    log.exception("unhandled error in Open311", exc_info=getattr(error, "original_exception", error))
    return formats.errors(_format(), 500, (500, "Something went wrong. Try again later"))


@bp.before_request
def check_jurisdiction() -> None:
    """A council's endpoint serves one jurisdiction: a request for another is for a place we do not serve."""
    ours = current_app.config["OPEN311_JURISDICTION_ID"]
    asked = (request.values.get("jurisdiction_id") or "").strip()
    if ours and asked and asked != ours:
        raise Problem(404, f"jurisdiction_id: {asked[:40]} is not served here; this endpoint serves {ours}")


def _key_client() -> ApiClient | None:
    """The client whose api_key the request carries, looked up once a request; None without a key of ours."""
    if "open311.client" not in request.environ:
        key = (request.values.get("api_key") or "").strip()
        request.environ["open311.client"] = find_client(key) if key else None
    return request.environ["open311.client"]


def rate_limit_key() -> str:
    """Rate limits count each API client by its key, and anyone else by their address."""
    client = _key_client()
    return f"api_client:{client.id}" if client is not None else f"address:{request.remote_addr}"


def _sender() -> ApiClient:
    """The client allowed to write over Open311 that the request's api_key belongs to."""
    if not (request.values.get("api_key") or "").strip():
        raise Problem(403, "api_key: send your API key to do this")
    client = _key_client()
    if client is None:
        raise Problem(403, "api_key: this key is not valid")
    if not client.active:
        raise Problem(403, "api_key: this key has been revoked")
    if not client.open311:
        raise Problem(403, "api_key: this key may not send Open311 requests or updates")
    client.last_used_at = utcnow()
    return client


def _reads() -> str:
    return current_app.config["RATELIMIT_OPEN311_READ"]


def _writes() -> str:
    return current_app.config["RATELIMIT_OPEN311_WRITE"]


@bp.get(f"/discovery.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def discovery(fmt: str) -> ResponseReturnValue:
    config = current_app.config
    return formats.respond(
        fmt,
        "discovery",
        {
            "changeset": CHANGESET,
            "contact": f"{config['COUNCIL_NAME']}: {config['OPEN311_CONTACT']}",
            "key_service": "Ask the council's digital team for an API key: docs/open311.md says how they make one",
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": url_for("open311.discovery", fmt=fmt, _external=True).rsplit("/", 1)[0],
                    "changeset": CHANGESET,
                    "type": config["OPEN311_ENDPOINT_TYPE"],
                    "formats": ["text/xml", "application/json"],
                }
            ],
            "max_requests": reads.LIMIT,
        },
    )


@bp.get(f"/services.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def service_list(fmt: str) -> ResponseReturnValue:
    return formats.respond(fmt, "services", services.listed(services.offered().values()))


@bp.get(f"/services/<code>.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def service_definition(code: str, fmt: str) -> ResponseReturnValue:
    item = services.offered().get(code)
    if item is None:
        raise Problem(404, f"service_code: {code[:100]} is not one of the services in services.xml")
    return formats.respond(fmt, "service_definition", services.definition(item))


@bp.get(f"/requests.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def request_list(fmt: str) -> ResponseReturnValue:
    return formats.respond(fmt, "service_requests", reads.find_requests(request.args))


@bp.post(f"/requests.{FORMAT}")
@limiter.limit(_writes, key_func=rate_limit_key)
def send_request(fmt: str) -> ResponseReturnValue:
    client = _sender()
    submission = intake.send(client, request.form)
    log.info("Open311 request %s from %s", submission.reference, client.name)
    answer = {"service_request_id": submission.reference, "service_notice": _notice(submission)}
    return formats.respond(fmt, "service_requests", [answer])


def _notice(submission: Submission) -> str:
    """What happens next, as the service says it to a resident, and the team it went to."""
    service = current_app.extensions["catalogue"].get(submission.service_slug)
    queue = submission.queue.name if submission.queue else "the council"
    return f"Sent to {queue}. {service.next_steps(journeys.submitted_answers(submission))}".strip()


@bp.get(f"/requests/<service_request_id>.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def one_request(service_request_id: str, fmt: str) -> ResponseReturnValue:
    return formats.respond(fmt, "service_requests", [reads.find_request(service_request_id)])


@bp.get(f"/tokens/<token>.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def token(token: str, fmt: str) -> ResponseReturnValue:
    """Requests are made at once, so ``POST requests`` answers with the service_request_id and no token. A client
    written to poll may still ask: a request's id is its own token."""
    found = reads.find_request(token)
    return formats.respond(
        fmt, "service_requests", [{"service_request_id": found["service_request_id"], "token": token}]
    )


@bp.get(f"/servicerequestupdates.{FORMAT}")
@limiter.limit(_reads, key_func=rate_limit_key)
def update_list(fmt: str) -> ResponseReturnValue:
    return formats.respond(fmt, "service_request_updates", reads.find_updates(request.args))


@bp.post(f"/servicerequestupdates.{FORMAT}")
@limiter.limit(_writes, key_func=rate_limit_key)
def post_update(fmt: str) -> ResponseReturnValue:
    client = _sender()
    event = updates.post(client, request.form)
    db.session.commit()  # the client's last use
    return formats.respond(fmt, "service_request_updates", [{"update_id": str(event.id)}])


# Who may use each view, for the meta-test that checks every view declares one.
for view in (discovery, service_list, service_definition, request_list, one_request, token, update_list):
    view.access = "public"  # type: ignore[attr-defined]
for view in (send_request, post_update):
    view.access = "api_key:open311"  # type: ignore[attr-defined]

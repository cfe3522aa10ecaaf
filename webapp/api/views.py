"""GET /api/queues/<slug>/export.csv and .jsonl, for a client with an API key. Errors answer in JSON."""

from __future__ import annotations

import logging
from dataclasses import replace

from flask import Response, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp import audit, exports, payments
from webapp.api import bp, find_client
from webapp.cases import QueueFilter
from webapp.extensions import db
from webapp.models import ApiClient, Queue, utcnow

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, code: int, description: str, authenticate: str | None = None):
        super().__init__(description)
        self.code, self.description, self.authenticate = code, description, authenticate


def _errors(code: int, description: str) -> Response:
    response = jsonify(errors=[{"code": code, "description": description}])
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError) -> Response:
    response = _errors(error.code, error.description)
    if error.authenticate:
        response.headers["WWW-Authenticate"] = error.authenticate
    return response


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return _errors(error.code or 500, error.description or error.name)


@bp.errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> Response:
    log.exception("unhandled error in the API", exc_info=getattr(error, "original_exception", error))
    return _errors(500, "Something went wrong. Try again later")


def _client() -> ApiClient:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise ApiError(401, "Send your API key in the header Authorization: Bearer <key>", "Bearer")
    client = find_client(key.strip())
    if client is None:
        raise ApiError(401, "The API key is not valid", 'Bearer error="invalid_token"')
    if not client.active:
        raise ApiError(401, "The API key has been revoked", 'Bearer error="invalid_token"')
    return client


def _queue_for(client: ApiClient, slug: str) -> Queue:
    queue = db.session.scalar(select(Queue).where(Queue.slug == slug))
    if queue is None:
        raise ApiError(404, f"There is no queue called {slug}")
    if all(allowed.id != queue.id for allowed in client.queues):
        raise ApiError(403, f"This API key may not export the {slug} queue")
    return queue


def _filters() -> tuple[QueueFilter, exports.ExportCursor | None]:
    try:
        return exports.parse_filters(request.args)
    except exports.ExportError as error:
        raise ApiError(400, str(error)) from None


def _export(slug: str, extension: str) -> Response:
    client = _client()
    queue = _queue_for(client, slug)
    filters, since = _filters()
    filters = replace(filters, official_only=not client.sensitive)  # sealed cases need the permission
    # Fixed before streaming, so it can go in a header; rows changed after it go in the next export.
    until = exports.end_cursor(queue, filters, since=since)
    client.last_used_at = utcnow()
    audit.record(
        f"export.{extension}",
        actor=None,
        client=client.name,
        queue=queue.slug,
        since=since.encode() if since else None,
        until=until.encode(),
        **exports.describe(filters),
    )
    db.session.commit()
    return exports.download(queue, filters, extension, until, since=since)


@bp.get("/queues/<slug>/export.csv")
def export_csv(slug: str) -> Response:
    return _export(slug, "csv")


@bp.get("/queues/<slug>/export.jsonl")
def export_jsonl(slug: str) -> Response:
    return _export(slug, "jsonl")


@bp.post("/payments/<provider_name>/webhook")
def payment_webhook(provider_name: str) -> Response:
    """A payment provider's signed notice of a payment or refund. Acted on only when its signature checks out."""
    try:
        result = payments.handle_webhook(provider_name, request.get_data(), request.headers)
    except payments.WebhookError as error:
        log.warning("payment webhook refused: %s", error)
        raise ApiError(400, "The webhook's signature or body is not valid") from None
    except payments.ProviderError as error:
        # The provider is asked for what the notice left out, and did not answer: it will send the notice again.
        log.warning("payment webhook not handled yet: %s", error)
        raise ApiError(503, "The payment provider did not answer. Send the notice again later") from None
    return jsonify(result=result)


# Who may use each view, for the meta-test that checks every view declares one.
export_csv.access = "api_key"  # type: ignore[attr-defined]
export_jsonl.access = "api_key"  # type: ignore[attr-defined]
payment_webhook.access = "provider_signature"  # type: ignore[attr-defined]

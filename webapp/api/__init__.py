"""The machine API for back-office systems, under /api: exports of queues, with API keys. The same keys work for
Open311 (webapp/open311), for a client given that permission.

A key looks like ``ctw_<prefix>_<secret>``. Only the prefix (to find the client) and a SHA-256 hash of the
whole key are stored; the key itself is shown once, when the client is created."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

from flask import Blueprint
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ApiClient, Queue

bp = Blueprint("api", __name__, url_prefix="/api")

KEY_START = "ctw_"
PREFIX_LENGTH = 8


class ApiKeyError(ValueError):
    """Creating or revoking a client failed; the message says why."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_prefix() -> str:
    while True:
        prefix = secrets.token_urlsafe(6)  # 6 bytes: exactly 8 url-safe characters
        if db.session.scalar(select(ApiClient.id).where(ApiClient.key_prefix == prefix)) is None:
            return prefix


def create_client(
    name: str, queue_slugs: Sequence[str], open311: bool = False, sensitive: bool = False
) -> tuple[ApiClient, str]:
    """A new client allowed to export the given queues (their OFFICIAL-SENSITIVE cases too only with ``sensitive``)
    and, with ``open311``, to send requests over Open311 and post updates on the requests of those queues (and on
    its own); and its key, which is not kept. Commits."""
    name = name.strip()
    if not name:
        raise ApiKeyError("Give the client a name")
    if db.session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise ApiKeyError(f"There is already an API client called {name}")
    if not queue_slugs and not open311:
        raise ApiKeyError("Give at least one queue the client may export, with --queue SLUG, or --open311")
    queues = list(db.session.scalars(select(Queue).where(Queue.slug.in_(queue_slugs))))
    missing = sorted(set(queue_slugs) - {queue.slug for queue in queues})
    if missing:
        known = ", ".join(db.session.scalars(select(Queue.slug).order_by(Queue.slug)))
        raise ApiKeyError(f"No queue called {', '.join(missing)}. The queues are: {known}")
    prefix = _new_prefix()
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    client = ApiClient(
        name=name, key_prefix=prefix, key_hash=hash_key(key), queues=queues, open311=open311, sensitive=sensitive
    )
    db.session.add(client)
    db.session.commit()
    return client, key


def revoke_client(name: str) -> ApiClient:
    """Stop a client's key working. Commits."""
    client = db.session.scalar(select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ApiKeyError(f"No API client called {name}")
    client.active = False
    db.session.commit()
    return client


def find_client(key: str) -> ApiClient | None:
    """The client a key belongs to, active or not; None for a key that is not one of ours."""
    prefix_end = len(KEY_START) + PREFIX_LENGTH
    if not key.startswith(KEY_START) or key[prefix_end : prefix_end + 1] != "_":
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.key_prefix == key[len(KEY_START) : prefix_end]))
    if client is None or not hmac.compare_digest(hash_key(key), client.key_hash):
        return None
    return client


from webapp.api import views  # noqa: E402, F401  (registers the routes on bp)

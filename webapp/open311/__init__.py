"""Open311 GeoReport v2, at /open311/v2/: the council's street-problem services, in XML and JSON, for FixMyStreet
and back-office systems (Confirm, Symology, Alloy). docs/open311.md says how a council connects one.

Reads are public. Sending a request, or posting an update, needs an ``api_key`` of an API client with the Open311
permission (``flask create-api-client NAME --open311``): the keys of webapp.api, kept hashed. The shape of each
answer is FixMyStreet's client's (perllib/Open311.pm), including FixMyStreet's updates extension
(``servicerequestupdates``) and its extended statuses."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

from webapp.open311 import views  # noqa: E402, F401  (registers the routes on bp)

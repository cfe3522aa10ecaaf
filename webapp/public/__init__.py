"""The residents' face: the service list, journeys, check progress and the site's own pages."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from webapp.public import feedback, progress, views  # noqa: E402,F401  (registers the routes)

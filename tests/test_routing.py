"""Routing rules are data; the most specific match wins; no match goes to Triage."""

from __future__ import annotations

import json

import pytest

from webapp import routing
from webapp.extensions import db
from webapp.models import Queue, RoutingRule

SEED = json.loads(routing.SEED_FILE.read_text())


@pytest.mark.parametrize("rule", SEED["rules"], ids=[rule["name"] for rule in SEED["rules"]])
def test_every_seeded_rule_routes_to_its_queue(app_ctx, rule):
    decision = routing.route(rule["service"], rule.get("category"), "Anywhere")
    assert decision.queue.slug == rule["queue"]
    assert decision.rule.name == rule["name"]


def test_seeded_pothole_categories():
    expected = {
        "pothole": "highways",
        "damaged-pavement": "highways",
        "blocked-drain": "highways",
        "street-light": "street-lighting",
        "fly-tipping": "environmental-services",
    }
    road = [rule for rule in SEED["rules"] if rule["service"] == "report-a-road-problem"]
    assert {rule["category"]: rule["queue"] for rule in road} == expected


def test_services_without_categories_go_to_their_teams():
    services = {rule["service"]: rule["queue"] for rule in SEED["rules"] if "category" not in rule}
    assert services == {
        "pay-a-parking-fine": "parking",
        "pay-an-invoice": "revenues",
        "ask-for-a-care-assessment": "adult-social-care",
        "garden-waste": "waste",
        "renew-garden-waste": "waste",
        "bulky-waste": "waste",
        "parking-permit": "parking",
    }


def test_no_match_goes_to_triage_with_no_rule(app_ctx):
    decision = routing.route("report-a-road-problem", "graffiti", None)
    assert decision.queue.slug == "triage"
    assert decision.rule is None
    assert decision.reason == "No routing rule matched: sent to Triage"


def test_triage_is_created_if_missing(app_ctx):
    db.session.query(RoutingRule).delete()
    db.session.query(Queue).delete()
    db.session.commit()
    assert routing.route("some-service", None, None).queue.slug == "triage"


def add_rule(name, queue_slug, **criteria) -> RoutingRule:
    queue = db.session.query(Queue).filter_by(slug=queue_slug).one()
    rule = RoutingRule(name=name, queue=queue, **criteria)
    db.session.add(rule)
    db.session.commit()
    return rule


def test_the_most_specific_rule_wins(app_ctx):
    add_rule("Anything of this service", "waste", service_slug="report-a-road-problem")
    add_rule(
        "City centre potholes", "parking", service_slug="report-a-road-problem", category="pothole", area="city centre"
    )
    assert routing.route("report-a-road-problem", "pothole", " City  Centre ").rule.name == "City centre potholes"
    assert routing.route("report-a-road-problem", "pothole", "Headingley").rule.name == "Potholes to Highways"
    assert routing.route("report-a-road-problem", "graffiti", "Headingley").rule.name == "Anything of this service"


def test_ties_go_to_the_older_rule(app_ctx):
    first = add_rule("Catch-all one", "waste")
    add_rule("Catch-all two", "parking")
    assert routing.route("another-service", None, None).rule == first


def test_inactive_rules_are_ignored(app_ctx):
    rule = db.session.query(RoutingRule).filter_by(name="Potholes to Highways").one()
    rule.active = False
    db.session.commit()
    assert routing.route("report-a-road-problem", "pothole", None).queue.slug == "triage"


def test_loading_the_seed_twice_changes_nothing(app_ctx):
    before = db.session.query(RoutingRule).count(), db.session.query(Queue).count()
    routing.load_seed()
    db.session.commit()
    assert (db.session.query(RoutingRule).count(), db.session.query(Queue).count()) == before

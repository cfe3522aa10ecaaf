"""Routing rules are data; the most specific match wins; no match goes to Triage."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from webapp import routing
from webapp.extensions import db
from webapp.models import Queue, RoutingRule, RoutingVersion

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


# The rules held in memory -------------------------------------------------------------------------------


def version() -> int:
    return db.session.scalar(select(RoutingVersion.version))


def test_the_database_raises_the_version_whenever_a_rule_or_a_queue_changes(app_ctx):
    start = version()
    rule = add_rule("Graffiti to Environmental Services", "environmental-services", category="graffiti")
    assert version() > start
    after_insert = version()
    rule.area = "headingley"
    db.session.commit()
    assert version() > after_insert
    after_update = version()
    db.session.query(Queue).filter_by(slug="waste").update({"name": "Waste and Recycling"})
    db.session.commit()
    assert version() > after_update
    after_queue = version()
    db.session.delete(rule)
    db.session.commit()
    assert version() > after_queue


def test_a_batch_of_decisions_reads_the_version_once_and_the_rules_not_at_all(app_ctx, statements):
    routing.route("report-a-road-problem", "pothole", None)  # compiled
    db.session.commit()
    statements.clear()
    for _ in range(100):
        assert routing.route("report-a-road-problem", "street-light", "Headingley").queue_slug == "street-lighting"
    assert len(statements) == 1 and "routing_version" in statements[0][0]


def test_a_change_made_by_another_process_is_seen_at_the_next_transaction(app_ctx):
    """Another connection (another web worker, an admin's change) changes the rules: this process, holding them in
    memory, routes by the new ones from its next transaction."""
    assert routing.route("report-a-road-problem", "pothole", None).queue_slug == "highways"
    db.session.commit()
    with db.engine.connect() as other:
        parking = other.scalar(select(Queue.id).where(Queue.slug == "parking"))
        other.execute(
            RoutingRule.__table__.update().where(RoutingRule.name == "Potholes to Highways").values(queue_id=parking)
        )
        other.execute(
            RoutingRule.__table__.insert().values(
                name="Graffiti to Parking", category="graffiti", queue_id=parking, active=True
            )
        )
        other.commit()
    decision = routing.route("report-a-road-problem", "pothole", None)
    assert (decision.queue_slug, decision.queue.slug) == ("parking", "parking")
    assert routing.route("report-a-road-problem", "graffiti", None).rule_name == "Graffiti to Parking"


def test_without_the_version_row_every_transaction_reads_the_rules_afresh(app_ctx):
    db.session.query(RoutingVersion).delete()
    db.session.commit()
    assert routing.route("report-a-road-problem", "pothole", None).queue_slug == "highways"
    add_rule("Potholes to Waste", "waste", service_slug="report-a-road-problem", category="pothole", area="x")
    assert routing.route("report-a-road-problem", "pothole", "X").queue_slug == "waste"

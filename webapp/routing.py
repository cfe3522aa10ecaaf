"""Which queue a submission goes to. Rules are data (the routing_rule table, seeded from
webapp/data/routing.json); the most specific matching rule wins; no match goes to Triage."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from webapp.extensions import db
from webapp.geo import area_key
from webapp.models import Queue, RoutingRule

SEED_FILE = Path(__file__).parent / "data" / "routing.json"
TRIAGE = "triage"


@dataclass(frozen=True)
class Decision:
    queue: Queue
    rule: RoutingRule | None  # None: no rule matched, so Triage

    @property
    def reason(self) -> str:
        return f"Matched rule '{self.rule.name}'" if self.rule else "No routing rule matched: sent to Triage"


def specificity(rule: RoutingRule) -> int:
    return sum(value is not None for value in (rule.service_slug, rule.category, rule.area))


def route(service_slug: str, category: str | None, area: str | None) -> Decision:
    area = area_key(area)
    candidates = db.session.scalars(
        select(RoutingRule).where(
            RoutingRule.active.is_(True),
            or_(RoutingRule.service_slug.is_(None), RoutingRule.service_slug == service_slug),
            or_(RoutingRule.category.is_(None), RoutingRule.category == category),
            or_(RoutingRule.area.is_(None), RoutingRule.area == area),
        )
    ).all()
    if candidates:
        best = min(candidates, key=lambda rule: (-specificity(rule), rule.id))
        return Decision(best.queue, best)
    return Decision(triage_queue(), None)


def triage_queue() -> Queue:
    queue = db.session.scalar(select(Queue).where(Queue.slug == TRIAGE))
    if queue is None:
        queue = Queue(slug=TRIAGE, name="Triage", description="Submissions that no routing rule matched")
        db.session.add(queue)
        db.session.flush()
    return queue


def load_seed(path: Path = SEED_FILE) -> tuple[int, int]:
    """Create or update the queues and rules in the seed file (by slug and by name). Returns the counts."""
    data = json.loads(path.read_text())
    queues = {queue.slug: queue for queue in db.session.scalars(select(Queue))}
    for item in data["queues"]:
        queue = queues.get(item["slug"]) or Queue(slug=item["slug"])
        queue.name, queue.description = item["name"], item.get("description", "")
        db.session.add(queue)
        queues[queue.slug] = queue
    db.session.flush()
    rules = {rule.name: rule for rule in db.session.scalars(select(RoutingRule))}
    for item in data["rules"]:
        rule = rules.get(item["name"]) or RoutingRule(name=item["name"])
        rule.service_slug = item.get("service")
        rule.category = item.get("category")
        rule.area = area_key(item.get("area"))
        rule.queue = queues[item["queue"]]
        rule.active = item.get("active", True)
        db.session.add(rule)
    db.session.flush()
    return len(data["queues"]), len(data["rules"])

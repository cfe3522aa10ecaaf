"""Which queue a submission goes to. Rules are data (the routing_rule table, seeded from
webapp/data/routing.json); the most specific matching rule wins; no match goes to Triage. The service levels (each
service's and category's target time to resolve, the service_level table) are data beside them, seeded from the same
file and held with them.

Each process holds the active rules in memory, by the exact (service, category, area) each names, and compiles
them again when the database's routing version moves: triggers raise it whenever a rule, a queue or a service level
changes, from whichever process (migrations 0012 and 0018). A decision is eight dictionary look-ups."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.geo import area_key
from webapp.models import Queue, RoutingRule, RoutingVersion, ServiceLevel

SEED_FILE = Path(__file__).parent / "data" / "routing.json"
TRIAGE = "triage"


@dataclass(frozen=True)
class Decision:
    """Where a submission goes: its queue, and the rule that chose it (None: no rule matched, so Triage). The ids and
    names are the rules' own, held in memory; ``queue`` and ``rule`` are the rows, from the session."""

    queue_id: int
    queue_slug: str
    rule_id: int | None = None
    rule_name: str | None = None

    @property
    def queue(self) -> Queue:
        return db.session.get(Queue, self.queue_id)

    @property
    def rule(self) -> RoutingRule | None:
        return db.session.get(RoutingRule, self.rule_id) if self.rule_id is not None else None

    @property
    def reason(self) -> str:
        return (
            f"Matched rule '{self.rule_name}'"
            if self.rule_id is not None
            else "No routing rule matched: sent to Triage"
        )


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    queue_id: int
    queue_slug: str
    specificity: int  # how many of service, category and area it names: the most specific match wins


@dataclass(frozen=True)
class Rules:
    """The active rules at one version, by the exact (service, category, area) each names (None: any): a decision
    looks up the eight keys a submission can match, in memory."""

    version: int | None
    by_key: dict[tuple[str | None, str | None, str | None], CompiledRule]
    triage: tuple[int, str] | None  # the Triage queue's id and slug, if it exists
    # Target times to resolve, in working days, by (service, category); (service, None) is the service's own.
    targets: dict[tuple[str, str | None], int]

    def target_days(self, service_slug: str, category: str | None) -> int | None:
        """The working days a submission of this service and category has to be resolved in, if it has a target."""
        days = self.targets.get((service_slug, category)) if category is not None else None
        return days if days is not None else self.targets.get((service_slug, None))

    def decide(self, service_slug: str, category: str | None, area: str | None) -> CompiledRule | None:
        keys = itertools.product((service_slug, None), (category, None), (area, None))
        matching = [rule for key in keys if (rule := self.by_key.get(key)) is not None]
        return max(matching, key=lambda rule: (rule.specificity, -rule.id), default=None)


def specificity(rule: RoutingRule) -> int:
    return sum(value is not None for value in (rule.service_slug, rule.category, rule.area))


def _compile(version: int | None) -> Rules:
    by_key: dict[tuple[str | None, str | None, str | None], CompiledRule] = {}
    rows = db.session.execute(
        select(RoutingRule, Queue.slug)
        .join(Queue, Queue.id == RoutingRule.queue_id)
        .where(RoutingRule.active.is_(True))
        .order_by(RoutingRule.id)
    )
    for rule, queue_slug in rows:
        # The oldest rule for a key wins a tie: rows come oldest first, so a later one for the same key is ignored.
        key = (rule.service_slug, rule.category, rule.area)
        by_key.setdefault(key, CompiledRule(rule.id, rule.name, rule.queue_id, queue_slug, specificity(rule)))
    triage = db.session.execute(select(Queue.id, Queue.slug).where(Queue.slug == TRIAGE)).first()
    targets: dict[tuple[str, str | None], int] = {}
    for level in db.session.scalars(select(ServiceLevel).order_by(ServiceLevel.id)):
        targets.setdefault((level.service_slug, level.category), level.working_days)
    return Rules(version, by_key, tuple(triage) if triage else None, targets)


def rules() -> Rules:
    """The rules, held in memory by the app and compiled again when their version in the database has moved (any
    process may change them: triggers raise the version). The version is read once a transaction, so a batch of
    decisions costs one small query, and a decision sees the rules as its transaction does."""
    session = db.session()
    held: Rules | None = current_app.extensions.get("routing_rules")
    if (
        held is not None
        and held.version is not None
        and session.info.get("routing_checked_in") is session.get_transaction()
    ):
        return held
    version = session.scalar(select(RoutingVersion.version).where(RoutingVersion.id == 1))
    if held is None or version is None or held.version != version:
        held = _compile(version)
        current_app.extensions["routing_rules"] = held
    session.info["routing_checked_in"] = session.get_transaction()
    return held


def route(service_slug: str, category: str | None, area: str | None) -> Decision:
    held = rules()
    best = held.decide(service_slug, category, area_key(area))
    if best is not None:
        return Decision(best.queue_id, best.queue_slug, best.id, best.name)
    if held.triage is not None:
        return Decision(*held.triage)
    queue = triage_queue()
    return Decision(queue.id, queue.slug)


def triage_queue() -> Queue:
    queue = db.session.scalar(select(Queue).where(Queue.slug == TRIAGE))
    if queue is None:
        queue = Queue(slug=TRIAGE, name="Triage", description="Submissions that no routing rule matched")
        db.session.add(queue)
        db.session.flush()
    return queue


def load_seed(path: Path = SEED_FILE) -> tuple[int, int, int]:
    """Create or update the queues, rules and service levels in the seed file (by slug, by name, and by service and
    category). Returns the counts."""
    data = json.loads(path.read_text())
    if db.session.get(RoutingVersion, 1) is None:  # a database emptied table by table (the tests) has lost it
        db.session.add(RoutingVersion(id=1, version=1))
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
    levels = {(level.service_slug, level.category): level for level in db.session.scalars(select(ServiceLevel))}
    for item in data.get("service_levels", []):
        key = (item["service"], item.get("category"))
        level = levels.get(key) or ServiceLevel(service_slug=key[0], category=key[1])
        level.working_days = item["working_days"]
        db.session.add(level)
        levels[key] = level
    db.session.flush()
    return len(data["queues"]), len(data["rules"]), len(data.get("service_levels", []))

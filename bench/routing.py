"""Benchmark (not a test): one routing decision with 1,000 rules, held in memory, against the SQL query each decision
used to run (the reference, run in the same process on the same rules).

    .venv/bin/python bench/routing.py                                    # SQLite in a temporary directory
    .venv/bin/python bench/routing.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_routing

A decision in a batch (one transaction) costs the in-memory look-up; the first of a transaction also reads the
routing version (one small query); after a change to the rules, the next transaction compiles them again."""
# ruff: noqa: E402  (the repository root goes on sys.path before the app's imports)

from __future__ import annotations

import argparse
import itertools
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import or_, select, text

from bench import _million
from webapp import create_app, routing
from webapp.config import TestingConfig
from webapp.extensions import db
from webapp.geo import area_key
from webapp.models import Queue, RoutingRule

AREAS = [f"Ward {number}" for number in range(1, 34)]
CATEGORIES = [f"category-{number}" for number in range(1, 31)]


def sql_route(service_slug: str, category: str | None, area: str | None) -> RoutingRule | None:
    """The reference: what each decision cost before, a query for the matching rules, then the most specific."""
    area = area_key(area)
    candidates = db.session.scalars(
        select(RoutingRule).where(
            RoutingRule.active.is_(True),
            or_(RoutingRule.service_slug.is_(None), RoutingRule.service_slug == service_slug),
            or_(RoutingRule.category.is_(None), RoutingRule.category == category),
            or_(RoutingRule.area.is_(None), RoutingRule.area == area),
        )
    ).all()
    return min(candidates, key=lambda rule: (-routing.specificity(rule), rule.id)) if candidates else None


def add_rules(count: int) -> None:
    """``count`` rules over the seeded ones: by service and category, and by area for some, as a council with
    wards would have."""
    queues = list(db.session.scalars(select(Queue.id)))
    have = db.session.scalar(select(db.func.count()).select_from(RoutingRule))
    rng = random.Random(42)
    for number in range(have, count):
        area = area_key(rng.choice(AREAS)) if number % 3 == 0 else None
        db.session.add(
            RoutingRule(
                name=f"Bench rule {number}",
                service_slug=f"service-{number % 40}",
                category=rng.choice(CATEGORIES),
                area=area,
                queue_id=rng.choice(queues),
                active=True,
            )
        )
    db.session.commit()


def timed(samples: int, decide) -> tuple[float, float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        decide()
        times.append((time.perf_counter_ns() - start) / 1000)
    times.sort()
    return statistics.median(times), times[int(0.9 * len(times))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL database of its own (default: SQLite in a temp dir)")
    parser.add_argument("--rules", type=int, default=1000, help="how many routing rules (default 1,000)")
    parser.add_argument("--samples", type=int, default=2000, help="decisions timed per measure (default 2,000)")
    args = parser.parse_args()
    url = args.database_url
    if url:
        _million.ensure_database(_million.check_url(url), fresh=True)
    else:
        url = f"sqlite:///{tempfile.mkdtemp()}/routing.sqlite3"
    config = TestingConfig()
    config.SQLALCHEMY_DATABASE_URI, config.RATELIMIT_ENABLED = url, False
    app = create_app(config)
    rng = random.Random(7)
    asks = [(f"service-{rng.randrange(45)}", rng.choice(CATEGORIES), rng.choice(AREAS)) for _ in range(args.samples)]
    with app.app_context():
        _million.set_up("caseworker@bench.example", "bench-caseworker-pw")
        add_rules(args.rules)
        rules = db.session.scalar(select(db.func.count()).select_from(RoutingRule))
        # The two agree, decision by decision.
        for ask in asks[:300]:
            held, queried = routing.route(*ask), sql_route(*ask)
            assert held.rule_id == (queried.id if queried else None), ask
        db.session.commit()
        each = itertools.cycle(asks)
        reference = timed(args.samples, lambda: sql_route(*next(each)))
        db.session.commit()
        routing.route(*asks[0])  # in this transaction: the version is read, the rules are held
        batch = timed(args.samples, lambda: routing.route(*next(each)))
        db.session.commit()

        firsts = []
        for _ in range(args.samples // 10):
            db.session.commit()  # a new transaction: its first decision reads the version
            firsts.append(timed(1, lambda: routing.route(*next(each)))[0])
        firsts.sort()
        first = statistics.median(firsts), firsts[int(0.9 * len(firsts))]
        version = db.session.scalar(text("SELECT version FROM routing_version"))
        db.session.execute(text("UPDATE routing_version SET version = version + 1"))
        db.session.commit()
        start = time.perf_counter()
        routing.route(*asks[0])
        recompile = (time.perf_counter() - start) * 1e6
        engine = db.engine.dialect.name
    print(f"command: {shlex.join([os.path.relpath(sys.executable, ROOT), *sys.argv])}")
    print(f"{engine}, {rules:,} routing rules (version {version}), {args.samples:,} decisions a measure")
    print(f"\n{'measure':<52}{'median us':>10}{'p90 us':>10}{'vs SQL':>10}")
    rows = [
        ("SQL query a decision (the reference, as before)", reference),
        ("held in memory, a decision in a transaction's batch", batch),
        ("held in memory, first of a transaction (+ version)", first),
    ]
    for name, (median, p90) in rows:
        print(f"{name:<52}{median:>10.1f}{p90:>10.1f}{reference[0] / median:>9.1f}x")
    print(
        f"\nafter a change: compiling the {rules:,} rules again took {recompile:,.0f} us, once, in the next transaction"
    )


if __name__ == "__main__":
    main()

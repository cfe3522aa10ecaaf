"""For benchmarks: a PostgreSQL database of its own, and N realistic submissions made by server-side SQL
(INSERT ... SELECT FROM generate_series) in one transaction. A table that holds exactly N rows already is kept."""

from __future__ import annotations

import argparse
import re
import time

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

PROTECTED = {"test", "postgres", "template0", "template1"}
CHUNK = 100_000
# Per row i: randoms drawn once (setseed first, so every run makes the same data); created_at rises with i over
# two years, as ids do; ~70% to Highways, the rest over the other queues; street_key = lower(street) for these;
# channels 75% online, 15% phone, 5% face to face, 5% Open311. Every row is in a queue, so its clock
# (webapp.service_levels) starts when it was made: received_at = created_at, target_days by category as routing.json's
# demo targets, and working days approximated in SQL as Monday to Friday without bank holidays: due_on = the UK day
# received + target * 7 / 5 calendar days (exact from a weekday), working_days_taken (rows with closed_at) = the UK
# days between * 5 / 7, rounded down. closed_at is up to 60 days after created_at, so most take longer than their
# target (0 to 42 working days).
INSERT = """
WITH ids AS (SELECT (SELECT id FROM queue WHERE slug = 'highways') AS hw, (SELECT id FROM staff_user
    WHERE email = :email) AS cw, ARRAY(SELECT id FROM queue WHERE slug <> 'highways' ORDER BY slug) AS others)
INSERT INTO submission (reference, draft_id, service_slug, category, status, channel, queue_id, routing_rule_id,
    classification, closed_at, answers, description, street, street_key, area, postcode, latitude, longitude,
    contact_name, contact_email, contact_phone, assignee_id, created_at, updated_at, received_at, target_days, due_on,
    working_days_taken)
SELECT 'RP-' || upper(substr(h, 1, 4)) || '-' || upper(substr(h, 5, 4)), NULL, 'report-a-road-problem', cat, st,
    CASE WHEN ch < 0.75 THEN 'online' WHEN ch < 0.90 THEN 'phone' WHEN ch < 0.95 THEN 'face-to-face' ELSE 'open311'
    END, q, CASE WHEN q = hw THEN (SELECT id FROM routing_rule WHERE category = cat) END, 'OFFICIAL', closed,
    jsonb_build_object('what-is-the-problem', jsonb_build_object('category', cat), 'describe-it', jsonb_build_object(
        'description', 'A ' || replace(cat, '-', ' ') || ' near number ' || (i % 200 + 1) || ', ' || (i % 90 + 10)
        || ' cm across.')), 'A ' || replace(cat, '-', ' ') || ' near number ' || (i % 200 + 1) || ', ' || (i % 90 + 10)
        || ' cm across.', street, lower(street), (ARRAY['City Centre', 'City Centre', 'Burley', 'Harehills',
        'Headingley', 'Killingbeck', 'Beeston', 'Chapel Allerton', 'Chapeltown', 'Halton'])[s],
    (ARRAY['LS1 6HD', 'LS1 5DA', 'LS4 2AZ', 'LS8 5AJ', 'LS6 3AA', 'LS14 6UH', 'LS11 5SZ', 'LS7 4NZ', 'LS7 3JD',
        'LS15 0AA'])[s], 53.69 + la * 0.26, -1.80 + lo * 0.51,
    CASE WHEN ct < 0.6 THEN 'Resident ' || i END, CASE WHEN ct < 0.6 THEN 'resident' || i || '@example.com' END,
    CASE WHEN ct < 0.3 THEN '01632 ' || lpad(i::text, 7, '0') END,
    CASE WHEN q = hw AND st <> 'received' AND asg < 0.3 THEN cw END,
    created, CASE WHEN st = 'received' THEN created ELSE least(now(), created + up * interval '60 days') END,
    created, target, (created AT TIME ZONE 'Europe/London')::date + target * 7 / 5,
    ((closed AT TIME ZONE 'Europe/London')::date - (created AT TIME ZONE 'Europe/London')::date) * 5 / 7
FROM ids, (SELECT i, lpad(to_hex(i), 8, '0') AS h, random() AS q_r, random() AS st_r, random() AS cat_r,
    random() AS ch, random() AS la, random() AS lo, random() AS ct, random() AS asg, random() AS up,
    1 + floor(random() * 10)::int AS s, now() - interval '730 days' * (1 - i::float8 / CAST(:n AS int))
    - random() * interval '10 minutes' AS created FROM generate_series(CAST(:first AS int), CAST(:last AS int)) i) r
CROSS JOIN LATERAL (SELECT CASE WHEN q_r < 0.7 THEN hw ELSE others[1 + floor((q_r - 0.7) / 0.3
        * cardinality(others))::int] END AS q,
    CASE WHEN st_r < 0.18 THEN 'received' WHEN st_r < 0.40 THEN 'in_progress' WHEN st_r < 0.44
        THEN 'awaiting_information' WHEN st_r < 0.92 THEN 'resolved' WHEN st_r < 0.97 THEN 'closed' ELSE 'duplicate'
        END AS st, CASE WHEN cat_r < 0.6 THEN 'pothole' WHEN cat_r < 0.85 THEN 'damaged-pavement' ELSE 'blocked-drain'
        END AS cat, (ARRAY['Briggate', 'Boar Lane', 'Kirkstall Road', 'Roundhay Road', 'Otley Road', 'York Road',
        'Dewsbury Road', 'Harrogate Road', 'Scott Hall Road', 'Selby Road'])[s] AS street) AS pick
CROSS JOIN LATERAL (SELECT CASE WHEN st IN ('resolved', 'closed', 'duplicate', 'cancelled', 'withdrawn')
        THEN least(now(), created + up * interval '60 days') END AS closed,
    CASE cat WHEN 'damaged-pavement' THEN 10 ELSE 5 END AS target) AS clock
"""
# Payments (the dashboard's takings), from the submissions once made: every 5th one paid, by card online (by card
# over the phone for a phone submission, in cash at a desk for face to face), a few minutes after it was made. The
# bench's submissions are all road reports, which are free: the payments name the paid services (their prices from
# forms/data) in their own service_slug, which the takings group by; the submission gives the queue.
PAYMENTS = """
INSERT INTO payment (public_id, submission_id, service_slug, description, amount, provider, provider_id, status,
    channel, method, created_at, updated_at, expires_at, succeeded_at)
SELECT md5('bench-payment-' || s.id), s.id, (ARRAY['garden-waste', 'garden-waste', 'renew-garden-waste',
        'parking-permit', 'bulky-waste'])[k], (ARRAY['Garden waste collection, 1 bin',
        'Garden waste collection, 2 bins', 'Garden waste renewal, 1 bin', 'Resident parking permit, 3 months',
        'Bulky waste collection, up to 3 items'])[k],
    (ARRAY[5200, 9200, 5200, 3000, 3500])[k], 'sandbox', 'sb_' || md5('bench-payment-' || s.id), 'succeeded',
    CASE WHEN s.channel = 'open311' THEN 'online' ELSE s.channel END,
    CASE s.channel WHEN 'phone' THEN 'moto' WHEN 'face-to-face' THEN 'cash' ELSE 'card' END,
    s.created_at, s.created_at + paid, s.created_at + interval '90 minutes', s.created_at + paid
FROM submission s CROSS JOIN LATERAL (SELECT 1 + s.id / 5 % 5 AS k, (30 + s.id % 300) * interval '1 second' AS paid) x
WHERE s.id % 5 = 0
"""
# Refunds: every 25th payment, in full or half, 1 to 14 days after it was taken.
REFUNDS = """
INSERT INTO refund (payment_id, amount, reason, status, request_key, provider_refund_id, created_at, updated_at)
SELECT p.id, CASE WHEN p.id % 2 = 0 THEN p.amount ELSE p.amount / 2 END, 'Bench: the service could not be provided',
    'succeeded', 'bench-refund-' || p.id, 'sb_re_' || p.id, r.at, r.at
FROM payment p CROSS JOIN LATERAL (SELECT least(now(), p.succeeded_at + (1 + p.id % 14) * interval '1 day') AS at) r
WHERE p.id % 25 = 0
"""


def check_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("--database-url must be a PostgreSQL URL, like postgresql+psycopg://postgres@127.0.0.1/bench")
    if parsed.database in PROTECTED or not parsed.database:
        raise SystemExit(f"refusing to use the database {parsed.database!r}: name a database of its own for benchmarks")
    return parsed


def ensure_database(url: URL, fresh: bool) -> None:
    """Create the database (dropping it first if ``fresh``) from the ``postgres`` maintenance database."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if fresh:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}):
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
            print(f"created database {url.database}")
    admin.dispose()


def set_up(caseworker_email: str, password: str) -> None:
    """In an app context: the schema, the queues and routing rules, and the Highways caseworker the rows assign."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from webapp import routing, staff_accounts
    from webapp.extensions import db
    from webapp.models import Role, StaffUser

    upgrade()
    routing.load_seed()
    if not db.session.scalar(select(StaffUser).where(StaffUser.email == caseworker_email)):
        staff_accounts.create_staff(caseworker_email, "Bench Caseworker", password, Role.CASEWORKER, ["highways"])
    db.session.commit()


def fill(session, n: int, caseworker_email: str) -> float | None:
    """N submissions, unless the table holds exactly N. Returns the seconds taken, or None if the rows were kept."""
    have = session.scalar(text("SELECT count(*) FROM submission"))
    # Made before the rows had their clocks and payments (an earlier bench database): made again.
    current = session.scalar(
        text("SELECT NOT EXISTS (SELECT FROM submission WHERE received_at IS NULL) AND EXISTS (SELECT FROM payment)")
    )
    if have == n and current:
        print(f"submission already holds {n:,} rows: kept (--fresh makes them again)")
        return None
    started = time.perf_counter()
    if have:
        why = f"not {n:,}" if have != n else "made without received_at or payments"
        print(f"submission holds {have:,} rows, {why}: emptying it")
        session.execute(text("TRUNCATE submission RESTART IDENTITY CASCADE"))
    session.execute(text("SELECT setseed(0.42)"))
    for first in range(1, n + 1, CHUNK):
        last = min(n, first + CHUNK - 1)
        session.execute(text(INSERT), {"email": caseworker_email, "n": n, "first": first, "last": last})
        print(f"  inserted rows {first:,}-{last:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    paid = session.execute(text(PAYMENTS)).rowcount
    refunded = session.execute(text(REFUNDS)).rowcount
    session.commit()
    # VACUUM too, as autovacuum soon would: the visibility map (for index-only scans) as well as the statistics.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) submission, payment, refund")
    seconds = time.perf_counter() - started
    print(f"created {n:,} submissions, {paid:,} payments and {refunded:,} refunds in {seconds:.1f} s (and VACUUM)")
    return seconds


def arguments(description: str, repeat: int) -> argparse.ArgumentParser:
    """The options every bench over a million submissions takes; a bench adds its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database of its own; created if missing")
    parser.add_argument("--rows", type=int, default=1_000_000, help="submissions to create (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=repeat, help=f"timed runs per measure (default {repeat})")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database and its rows")
    return parser


def signed_in_client(app, email: str, password: str):
    """A test client of ``app`` signed in at /staff (the bench's TestingConfig has two-factor sign-in off)."""
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/staff").get_data(as_text=True))
    response = client.post("/staff", data={"email": email, "password": password, "csrf_token": token and token[1]})
    if response.status_code != 302:
        raise SystemExit(f"signing in as {email} failed: {response.status_code}")
    return client

"""flask commands: seed, create-staff, reset-two-factor, create-api-client, revoke-api-client, worker,
send-notifications, purge-expired, import-charges, import-addresses, settle-payments, reconcile-payments."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp import (
    api,
    audit,
    demo_history,
    journeys,
    notifications,
    retention,
    routing,
    service_levels,
    staff_accounts,
    submissions,
    tasks,
    two_factor,
)
from webapp.catalogue import Answers
from webapp.extensions import db
from webapp.models import CLOSED_STATUSES, CaseEvent, Role, StaffUser, Status, Submission, utcnow
from webapp.money import format_pence
from webapp.templating import plural

DEMO_SUBMISSIONS = Path(__file__).parent / "data" / "demo-submissions.json"


def seed_demo_submissions() -> int:
    """A few open submissions, so the queues and the 'already reported' check have something to show: each filed
    through its service's own record, routed as the routing rules say."""
    if db.session.scalar(select(func.count()).select_from(Submission)):
        return 0
    catalogue = current_app.extensions["catalogue"]
    demo = json.loads(DEMO_SUBMISSIONS.read_text())["submissions"]
    for item in demo:
        service = catalogue.get(item["service"])
        record = service.record(Answers(item["answers"]))
        decision = routing.route(service.slug, record.category, record.area)
        created = utcnow() - timedelta(days=item["days_ago"])
        status = Status(item.get("status", Status.RECEIVED))
        closed = utcnow() - timedelta(days=item["closed_days_ago"]) if status in CLOSED_STATUSES else None
        submission = Submission(
            reference=submissions.new_reference(service.reference_prefix),
            service_slug=service.slug,
            status=status,
            channel="online",
            queue=decision.queue,
            routing_rule=decision.rule,
            classification=service.classification,
            answers=item["answers"],
            **journeys.record_columns(record),
            created_at=created,
            received_at=created,
            updated_at=closed or created,
            closed_at=closed,
        )
        submission.events.append(CaseEvent(kind="submitted", body=decision.reason, created_at=created))
        if closed:
            change = f"{Status.RECEIVED.label} to {status.label}"
            submission.events.append(
                CaseEvent(kind="status", body=change, created_at=closed, data={"old": Status.RECEIVED, "new": status})
            )
        db.session.add(submission)
        click.echo(f"  demo {service.noun} {submission.reference}: {record.description}")
    return len(demo)


DEMO_STAFF = [
    # email, name, role, queues
    ("agent@example.gov.uk", "Alex Agent", Role.AGENT, []),
    ("highways@example.gov.uk", "Casey Caseworker", Role.CASEWORKER, ["highways"]),
    ("lead@example.gov.uk", "Taylor Lead", Role.TEAM_LEADER, ["highways", "street-lighting"]),
    ("waste@example.gov.uk", "Wren Waste", Role.CASEWORKER, ["waste"]),
    ("care@example.gov.uk", "Cam Care", Role.CASEWORKER, ["adult-social-care"]),
    ("admin@example.gov.uk", "Ari Admin", Role.ADMIN, []),
    ("finance@example.gov.uk", "Frankie Finance", Role.FINANCE, []),
    ("dpo@example.gov.uk", "Dana Protection", Role.DPO, []),
]
DEMO_PASSWORD = "demo-password-change-me"


def seed_demo_staff() -> None:
    """One account per role, for trying the staff side on a development machine."""
    for email, name, role, queues in DEMO_STAFF:
        if db.session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.email == email)):
            continue
        staff_accounts.create_staff(email, name, DEMO_PASSWORD, role, queues)
    db.session.flush()
    click.echo("Demo staff accounts (sign in at /staff):")
    width = max(len(role.label) for _, _, role, _ in DEMO_STAFF)
    for email, _, role, queues in DEMO_STAFF:
        queues_text = ", ".join(queues) or "-"
        click.echo(f"  {role.label:<{width}} {email:<28} password: {DEMO_PASSWORD}  queues: {queues_text}")


def report_retention(run: retention.Run) -> None:
    """What a retention run did, or with --dry-run would do, for whoever ran it."""
    catalogue = current_app.extensions["catalogue"]
    for verb, counts in (("anonymise", run.anonymised), ("delete", run.deleted)):
        for slug, count in sorted(counts.items()):
            done = f"Would {verb}" if run.dry_run else f"{verb.capitalize()}d"
            click.echo(f"{done} {plural(count, 'submission')} of {catalogue.get(slug).title} ({slug})")
            for reference in run.references.get(slug, []):
                click.echo(f"  {reference}")
    if run.kept_for_payments:
        kept = plural(run.kept_for_payments, "submission")
        click.echo(f"Anonymised {kept} of services that delete their records instead: they have payments")
    if not run.dry_run:
        click.echo(f"Deleted {plural(run.files, 'photo or evidence file', 'photos and evidence files')}.")
    drafts, messages = plural(run.drafts, "expired draft"), plural(run.notifications, "old message")
    click.echo(f"{'Would delete' if run.dry_run else 'Deleted'} {drafts} and {messages}.")
    calls, days = plural(run.calls, "call"), current_app.config["CALL_RETENTION_DAYS"]
    click.echo(
        f"{'Would remove' if run.dry_run else 'Removed'} the caller's details from {calls} over {days} days old."
    )


# Demo parking fines and invoices; dates in {braces} are filled in relative to today.
DEMO_CHARGES = Path(__file__).parent / "data" / "demo-charges.csv"


def seed_demo_charges() -> None:
    """A few parking fines and invoices to pay, each in a different state, printed for trying the services."""
    from webapp import charges

    if db.session.scalar(select(func.count()).select_from(charges.Charge)):
        return
    today = charges.today()
    days = {"recent": 3, "older": 30, "certificate": 60, "paid": 31, "challenged": 32}
    values = {name: f"{20_000_000 + number * 1_111_111:08d}" for number, name in enumerate(days, start=1)}
    values |= {f"{name}_day": (today - timedelta(days=ago)).isoformat() for name, ago in days.items()}
    values |= {
        "certificate_issued": (today - timedelta(days=5)).isoformat(),
        "due_day": (today + timedelta(days=14)).isoformat(),
        "invoice_a": "40012345",
        "invoice_b": "40067890",
    }
    charges.import_csv(DEMO_CHARGES.read_text().format(**values))
    click.echo("Demo charges to pay (PCN number and vehicle registration, or invoice number and postcode):")
    for charge in db.session.scalars(select(charges.Charge).order_by(charges.Charge.kind.desc(), charges.Charge.id)):
        balance = format_pence(charge.balance)
        click.echo(f"  {charge.kind:<8} {charge.reference:<11} {charge.verifier:<9} {charge.status:<11} {balance}")


@click.command("import-charges")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_charges(file) -> None:
    """Load parking fines and invoices from a CSV exported by the parking or debt system. All or nothing: a bad
    line stops the import and is named. A charge already here (by its reference) is updated, not duplicated."""
    from webapp import charges

    try:
        result = charges.import_csv(file.read())
    except charges.ChargeFileError as error:
        db.session.rollback()
        raise click.ClickException("Nothing was imported:\n" + "\n".join(error.problems)) from None
    db.session.commit()
    click.echo(f"Imported {result.created} new charges and updated {result.updated}.")


DEMO_ADDRESSES = Path(__file__).parent / "data" / "demo-addresses.csv"


def seed_demo_addresses() -> None:
    """A few streets of the council's gazetteer, for the find-an-address page."""
    from webapp import addresses

    if db.session.scalar(select(func.count()).select_from(addresses.Address)):
        return
    text = DEMO_ADDRESSES.read_text()
    result = addresses.import_csv(text)
    postcodes = sorted({row["postcode"] for row in addresses.read(io.StringIO(text))})
    click.echo(f"Demo addresses: {result.created}, at the postcodes {', '.join(postcodes)}")


@click.command("import-addresses")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_addresses(file) -> None:
    """Load the council's gazetteer from a CSV (columns uprn, line1, line2, line3, town, postcode, latitude,
    longitude and, if known, street). All or nothing: a bad line stops the import and is named. An address
    already here (by its UPRN) is updated, not duplicated."""
    from webapp import addresses

    try:
        result = addresses.import_csv(file.read())
    except addresses.AddressFileError as error:
        db.session.rollback()
        raise click.ClickException("Nothing was imported:\n" + "\n".join(error.problems)) from None
    db.session.commit()
    click.echo(f"Imported {result.created} new addresses and updated {result.updated}.")


@click.command("settle-payments")
@with_appcontext
def settle_payments() -> None:
    """Close payments still open after their window (asking the provider: one paid whose webhook was lost is
    settled as paid), cancel submissions that were never paid, and resend refunds the provider did not confirm."""
    from webapp import payments

    counts = payments.settle_overdue()
    click.echo(
        f"Closed {counts['checked']} unfinished payments, settled {counts['paid']} paid ones, cancelled "
        f"{counts['cancelled']} unpaid submissions, sent {counts['refunds']} waiting refunds."
    )


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """Remind each subscriber whose subscription ends within 30 days how to renew it, once (the worker does this on
    the SCHEDULE_REMINDERS schedule; this runs it now, by hand)."""
    from webapp import subscriptions

    sent = subscriptions.send_reminders()
    db.session.commit()
    click.echo(f"Queued {sent} subscription reminders.")


@click.command("reconcile-payments")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The day (UK time); yesterday if not given.")
@with_appcontext
def reconcile_payments(day) -> None:
    """Compare a day's payments and refunds with the payment provider's and report every mismatch (stored, so
    the Payments page shows them). Exits with status 1 when there is any."""
    from webapp import charges
    from webapp.payments import ProviderError
    from webapp.payments.reconcile import reconcile

    chosen = day.date() if day else charges.today() - timedelta(days=1)
    try:
        run = reconcile(chosen)
    except ProviderError as error:
        raise click.ClickException(f"The payment provider did not answer: {error}") from None
    db.session.commit()
    click.echo(f"{chosen:%d %B %Y}, {run.provider}: {run.ours} movements here, {run.theirs} at the provider.")
    for mismatch in run.mismatches:
        ours = format_pence(mismatch.ours) if mismatch.ours is not None else "none"
        theirs = format_pence(mismatch.theirs) if mismatch.theirs is not None else "none"
        click.echo(f"  {mismatch.problem}: {mismatch.kind} {mismatch.provider_id} (here {ours}, provider {theirs})")
    if run.mismatches:
        raise SystemExit(1)
    click.echo("Everything matches.")


@click.command("create-api-client")
@click.argument("name")
@click.option("--queue", "queues", multiple=True, metavar="SLUG", help="A queue it may export (and update); repeat.")
@click.option("--open311", is_flag=True, help="It may send requests and post updates over Open311 (docs/open311.md).")
@click.option("--sensitive", is_flag=True, help="Its exports hold OFFICIAL-SENSITIVE cases too (a social care system).")
@with_appcontext
def create_api_client(name: str, queues: tuple[str, ...], open311: bool, sensitive: bool) -> None:
    """Give a system an API key: for exports of the given queues and, with --open311, for Open311. The key is shown
    once."""
    try:
        client, key = api.create_client(name, queues, open311=open311, sensitive=sensitive)
    except api.ApiKeyError as error:
        raise click.ClickException(str(error)) from None
    sealed = " (OFFICIAL-SENSITIVE cases too)" if client.sensitive else " (OFFICIAL cases only)"
    allowed = [f"exports of {', '.join(queue.slug for queue in client.queues)}{sealed}"] if client.queues else []
    allowed += ["Open311 requests and updates"] if client.open311 else []
    click.echo(f"Created API client {client.name} for: {'; '.join(allowed)}")
    click.echo("Its key, shown only this once (only a hash of it is kept):")
    click.echo(key)


@click.command("revoke-api-client")
@click.argument("name")
@with_appcontext
def revoke_api_client(name: str) -> None:
    """Stop an API client's key working."""
    try:
        api.revoke_client(name)
    except api.ApiKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Revoked the API key of {name}.")


def seed_everything(demo: bool) -> None:
    queues, rules, levels = routing.load_seed()
    click.echo(f"Loaded {queues} queues, {rules} routing rules and {levels} service levels.")
    if demo:
        fresh = seed_demo_submissions()
        seed_demo_staff()
        seed_demo_charges()
        seed_demo_addresses()
        if fresh:  # after the demo charges, which are made only where there are none
            made = demo_history.seed()
            click.echo(f"Demo history for the dashboard: {made} made-up submissions over the last 12 weeks.")
    db.session.flush()
    if clocks := service_levels.fill_clocks():
        click.echo(f"Gave service levels to {plural(clocks, 'submission')}.")
    db.session.commit()


def init_app(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo/--no-demo", default=True, help="Also add a few demo reports.")
    def seed(demo: bool) -> None:
        """Load the queues, routing rules and service levels (webapp/data/routing.json), and demo data; give the
        submissions already received that have no service level yet the one their service has now."""
        seed_everything(demo)

    @app.cli.command("create-staff")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
    @click.option("--queue", "queues", multiple=True, help="A queue's slug; repeat for several.")
    @click.password_option(help="At least 12 characters; asked for if not given.")
    def create_staff(email: str, name: str, role: str, queues: tuple[str, ...], password: str) -> None:
        """Create a staff account."""
        try:
            user = staff_accounts.create_staff(email, name, password, role, list(queues))
        except staff_accounts.AccountError as error:
            raise click.ClickException(str(error)) from None
        db.session.commit()
        click.echo(f"Created {user.role_label.lower()} {user.email}.")

    @app.cli.command("reset-two-factor")
    @click.argument("email")
    @with_appcontext
    def reset_two_factor(email: str) -> None:
        """Reset a member of staff's two-factor sign-in (a lost phone, when no other administrator can): they set it
        up again at their next sign-in. Audited."""
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == staff_accounts.normalise_email(email)))
        if user is None:
            raise click.ClickException(f"There is no staff account for {email}")
        two_factor.reset(user)
        audit.record("staff.two_factor_reset", staff_id=user.id, staff_email=user.email, by="flask reset-two-factor")
        db.session.commit()
        click.echo(f"Reset two-factor sign-in for {user.email}: they set it up again the next time they sign in.")

    @app.cli.command("send-notifications")
    def send_notifications() -> None:
        """Send the messages in the outbox that are due, now (the worker sends each one as it is queued)."""
        click.echo(str(notifications.send_due()))

    @app.cli.command("worker")
    @click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Threads running tasks.")
    @click.option(
        "--periodic/--no-periodic",
        default=True,
        show_default=True,
        help="Also run the schedule (SCHEDULE_*). Run it on one worker only.",
    )
    def worker(workers: int, periodic: bool) -> None:
        """Run background work from the task queue (TASK_QUEUE_URL): messages from the outbox, and the scheduled
        jobs (settling payments, reminders, retention, reconciliation). Ctrl-C stops it once the tasks in hand are
        done; a task stopped half way leaves its message in the outbox, to be sent again."""
        where = re.sub(r"//[^/@]*@", "//", app.config["TASK_QUEUE_URL"])  # no password in the output
        click.echo(f"Worker: {workers} threads, queue {where}, schedule {'on' if periodic else 'off'}.")
        tasks.huey.create_consumer(workers=workers, periodic=periodic, worker_type="thread").run()

    @app.cli.command("purge-expired")
    @click.option("--dry-run", is_flag=True, help="Change nothing: say what would be anonymised or deleted.")
    def purge_expired(dry_run: bool) -> None:
        """Enforce retention (run it daily; the worker does): anonymise or delete submissions closed longer ago than
        their service's retention period, as each service declares, and delete drafts past their lifetime and sent
        messages older than NOTIFICATION_RETENTION_DAYS. Open cases are never touched."""
        report_retention(retention.run(dry_run=dry_run))

    app.cli.add_command(create_api_client)
    app.cli.add_command(import_charges)
    app.cli.add_command(import_addresses)
    app.cli.add_command(send_reminders)
    app.cli.add_command(settle_payments)
    app.cli.add_command(reconcile_payments)
    app.cli.add_command(revoke_api_client)

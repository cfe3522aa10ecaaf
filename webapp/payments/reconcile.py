"""Reconciliation: a day's payments and refunds as we hold them, against the provider's, and every mismatch.

Each run is stored, with what it found, so the Payments page shows it. A payment is matched on the id of its
attempt at the provider (the Checkout Session, the sandbox page), a refund on the provider's refund id.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Mismatch, Payment, ReconciliationRun, Refund
from webapp.payments.ledger import day_bounds
from webapp.payments.providers import PaymentState, Transaction


def _ours(day: date, provider_name: str) -> tuple[dict[str, Payment], dict[str, Refund]]:
    start, end = day_bounds(day)
    payments = db.session.scalars(
        select(Payment).where(
            Payment.provider == provider_name,
            Payment.status == PaymentState.SUCCEEDED,
            Payment.created_at >= start,
            Payment.created_at < end,
        )
    )
    refunds = db.session.scalars(
        select(Refund)
        .join(Payment)
        .where(
            Payment.provider == provider_name,
            Refund.provider_refund_id.is_not(None),
            Refund.status != "failed",
            Refund.created_at >= start,
            Refund.created_at < end,
        )
    )
    return {p.provider_id: p for p in payments}, {r.provider_refund_id: r for r in refunds}


def _compare(kind: str, ours: dict, theirs: dict[str, Transaction], run: ReconciliationRun) -> None:
    for provider_id in sorted(set(ours) | set(theirs)):
        mine, seen = ours.get(provider_id), theirs.get(provider_id)
        payment = (mine if kind == "payment" else mine.payment) if mine is not None else None
        if seen is None:
            problem = "missing_at_provider"
        elif mine is None:
            problem = "missing_here"
        elif mine.amount != seen.amount:
            problem = "amount_differs"
        else:
            continue
        run.mismatches.append(
            Mismatch(
                kind=kind,
                problem=problem,
                provider_id=provider_id,
                ours=mine.amount if mine is not None else None,
                theirs=seen.amount if seen is not None else None,
                payment=payment,
            )
        )


def reconcile(day: date) -> ReconciliationRun:
    """Compare the day with the provider's records and store what was found. The caller commits."""
    from webapp.payments import provider

    chosen = provider()
    start, end = day_bounds(day)
    movements = chosen.transactions(start, end)
    theirs_payments = {t.provider_id: t for t in movements if t.kind == "payment"}
    theirs_refunds = {t.provider_id: t for t in movements if t.kind == "refund"}
    our_payments, our_refunds = _ours(day, chosen.name)
    run = ReconciliationRun(
        day=day, provider=chosen.name, ours=len(our_payments) + len(our_refunds), theirs=len(movements)
    )
    _compare("payment", our_payments, theirs_payments, run)
    _compare("refund", our_refunds, theirs_refunds, run)
    db.session.add(run)
    db.session.flush()
    return run

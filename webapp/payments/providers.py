"""What the payments module asks of a payment provider, and what a provider answers.

Only code under webapp/payments/ talks to a provider. A provider is chosen by ``PAYMENT_PROVIDER``:
``sandbox`` (the embedded default, a test payment page served by the site itself) or ``stripe``
(Stripe Checkout). Both answer in the shapes below, so the same state machine, return URL and
webhook handling serve both. Money is always integer pence.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol


class PaymentState(enum.StrEnum):
    CREATED = "created"  # our row exists; the provider has not been asked yet, or did not answer
    STARTED = "started"  # the provider has a payment page for it: the resident may be paying now
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # declined, expired card, processing error: the resident can try again
    CANCELLED = "cancelled"  # the resident chose to cancel on the payment page
    EXPIRED = "expired"  # not completed in time

    @property
    def label(self) -> str:
        return self.value.capitalize()


OPEN_STATES = (PaymentState.CREATED, PaymentState.STARTED)
ENDED_STATES = (PaymentState.SUCCEEDED, PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.EXPIRED)


class ProviderError(Exception):
    """The provider could not be reached, or refused the request. The message is for logs and staff."""


class WebhookError(ValueError):
    """A webhook whose signature or body we cannot trust: answered with 400, never acted on."""


@dataclass(frozen=True)
class PaymentRequest:
    """What we ask a provider to take."""

    payment_id: str  # our payment's public id: in the provider's metadata, and how its webhooks find us
    amount: int  # pence
    description: str  # shown on the payment page and the card statement, e.g. "Parking fine PN12345678"
    reference: str  # the submission's reference, e.g. PF-7K3F-9QX2
    return_url: str  # where the provider sends the payer back, whatever happened
    email: str | None
    expires_at: datetime  # the provider should stop taking the payment after this
    idempotency_key: str  # the same key for a retried create, so a retry cannot make a second payment
    # Card over the phone (mail order / telephone order): a contact-centre agent keys the caller's card into the
    # provider's MOTO page. The provider flags the payment as MOTO (out of scope of Strong Customer Authentication).
    moto: bool = False


@dataclass(frozen=True)
class Started:
    provider_id: str  # the provider's id for this payment attempt (a Checkout Session id for Stripe)
    next_url: str  # the provider's payment page


@dataclass(frozen=True)
class Outcome:
    """What the provider says of one payment attempt now."""

    state: PaymentState
    provider_id: str
    amount: int | None = None  # what the provider took, when it succeeded
    card_brand: str | None = None
    card_last4: str | None = None
    failure: str | None = None  # "declined", "expired_card", "processing_error", "cancelled", "expired"
    # What refunds are made against (a PaymentIntent id for Stripe); the provider_id when that serves.
    refund_target: str | None = None


@dataclass(frozen=True)
class ProviderRefund:
    provider_refund_id: str
    amount: int
    state: Literal["pending", "succeeded", "failed"]


@dataclass(frozen=True)
class Event:
    """A verified webhook. ``payment`` carries an attempt's new outcome; ``refunds`` what the provider holds
    of the refunds against a payment (``refund_target``), so refunds made outside the site are seen too."""

    kind: Literal["payment", "refunds"]
    provider_event_id: str
    payment: Outcome | None = None
    refund_target: str | None = None
    refunds: tuple[ProviderRefund, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Transaction:
    """One movement of money on the provider's side, for reconciliation."""

    kind: Literal["payment", "refund"]
    provider_id: str  # for a payment: the id our payment row holds (provider_id); for a refund: its refund id
    amount: int  # pence, always positive
    created_at: datetime


class Provider(Protocol):
    name: str
    # Origins the browser is sent to after a form is posted (Content-Security-Policy form-action).
    form_action_origins: tuple[str, ...]

    def create(self, request: PaymentRequest) -> Started:
        """A payment page for this request. Raises ProviderError."""

    def outcome(self, provider_id: str) -> Outcome:
        """Where the attempt stands now, asked of the provider (never trusted from the browser)."""

    def cancel(self, provider_id: str) -> Outcome:
        """Stop an open attempt from being paid (it has run out of time, or a new attempt replaces it).
        Returns the outcome after: an attempt paid just before is SUCCEEDED, not cancelled."""

    def refund(
        self, refund_target: str, amount: int, idempotency_key: str, metadata: Mapping[str, str]
    ) -> ProviderRefund:
        """Refund ``amount`` pence of a succeeded payment. The same key never refunds twice."""

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> Event | None:
        """A verified event, or None for an event we do not act on. Raises WebhookError when it cannot be trusted."""

    def transactions(self, start: datetime, end: datetime) -> list[Transaction]:
        """For reconciliation: every payment taken whose attempt (payment page) was made in [start, end), and every
        refund made in it. A payment counts on the day its attempt started, here and in the ledger."""

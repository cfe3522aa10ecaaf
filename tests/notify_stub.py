"""A local stand-in for GOV.UK Notify's HTTP API: POST /v2/notifications/email, /v2/notifications/sms and
/v2/notifications/letter, nothing else.

It records every request, checks the bearer token as Notify does (a JWT signed with the key's secret,
issued by the service id), the fields each endpoint requires and a letter's address (as Notify's API checks it),
and answers with Notify's documented JSON, or with an error it was told to give."""

from __future__ import annotations

import json
import re
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import jwt

SERVICE_ID = "3b0c4a34-5b0e-4a7e-8a35-8c5d3f7e2a10"
SECRET = "a7c1e0d2-6f4b-4c8e-9d3a-2b5f8e1c7d90"
# Notify's format: "{key_name}-{service_id}-{secret}".
API_KEY = f"council-test-key-{SERVICE_ID}-{SECRET}"

# The council's templates in the stub's Notify service, by channel: what NOTIFY_TEMPLATES, NOTIFY_SMS_TEMPLATES and
# NOTIFY_LETTER_TEMPLATES say.
TEMPLATE_IDS = {
    "submission-received": "f33517ff-2a88-4f6e-b855-c550268ce08a",
    "following-report": "0c3f4d1a-8b2e-4f7a-9d6c-5e1b2a3c4d5e",
    "case-update": "9d1e4c2b-7a6f-4e3d-8c2b-1a0f9e8d7c6b",
    "payment-received": "3b6f0e2a-1c4d-4e5f-8a9b-0c1d2e3f4a5b",
    "refund-issued": "6e7f8a9b-0c1d-4e2f-9a3b-4c5d6e7f8a9b",
    "payment-link": "2a4c6e8f-1b3d-4f5a-8c7e-9d0b2f4a6c8e",
    "subscription-reminder": "5e7a9c1e-3b5d-4f7a-9c1e-3b5d7f9a1c3e",
    "overdue-cases": "c2e4a6c8-0e2a-4c6e-8a0c-2e4a6c8e0a2c",
}
SMS_TEMPLATE_IDS = {
    "submission-received": "5c7e9a1b-3d5f-4a7c-9e1b-3d5f7a9c1e3b",
    "payment-received": "7e9a1c3e-5f7b-4c9e-8a3c-5e7a9c1e3a5c",
    "case-update": "8f0b2d4f-6a8c-4e0a-9c2e-4f6a8c0e2a4c",
    "payment-link": "4d6f8b0d-2e4a-4c6e-8b0d-2f4a6c8e0b2d",
    "subscription-reminder": "9b1d3f5a-7c9e-4b1d-8f3a-5c7e9b1d3f5a",
}
LETTER_TEMPLATE_IDS = {
    "submission-received": "1a3c5e7a-9b1d-4f3a-8c5e-7a9b1d3f5a7c",
    "payment-received": "6b8d0f2b-4c6e-4a8c-9d0f-2b4c6e8a0c2e",
    "case-update": "0e2a4c6e-8f0b-4d2f-8a4c-6e8f0b2d4f6a",
    "subscription-reminder": "3f5a7c9e-1b3d-4a5c-9e7a-1c3e5a7c9e1b",
}


def use_notify(config: dict[str, Any], url: str) -> None:
    """Point an app's settings at a stub at ``url``, with the test key and every template's id."""
    config.update(
        EMAIL_SENDER="notify",
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_BASE_URL=url,
        NOTIFY_TEMPLATES=dict(TEMPLATE_IDS),
        NOTIFY_SMS_TEMPLATES=dict(SMS_TEMPLATE_IDS),
        NOTIFY_LETTER_TEMPLATES=dict(LETTER_TEMPLATE_IDS),
    )


ERROR_NAMES = {400: "BadRequestError", 403: "AuthError", 429: "RateLimitError", 500: "Exception"}
# What each endpoint must be sent, besides the template id: where the message goes (a letter's is in its
# personalisation).
RECIPIENT_FIELDS = {
    "/v2/notifications/email": "email_address",
    "/v2/notifications/sms": "phone_number",
    "/v2/notifications/letter": "personalisation",
}
LETTER = "/v2/notifications/letter"
# A UK postcode, spaces left out, as Notify's "real UK postcode" check takes it (it also knows BFPO and GIR 0AA).
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    status: int = 0
    response: dict[str, Any] | None = None

    def claims(self) -> dict[str, Any]:
        """The bearer token's claims, checked against the key's secret."""
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        assert scheme == "Bearer", self.headers
        return jwt.decode(token, SECRET, algorithms=["HS256"])


class NotifyStub:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.errors: list[tuple[int, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, status: int, message: str = "Something went wrong") -> None:
        """Answer the next request with Notify's error body for this status."""
        self.errors.append((status, message))

    def __enter__(self) -> NotifyStub:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        received = Received(path, headers, body)
        received.status, received.response = self.reply(received)
        self.received.append(received)
        return received.status, received.response

    def reply(self, received: Received) -> tuple[int, dict[str, Any]]:
        if received.path not in RECIPIENT_FIELDS:
            return self.error(404, "Not found")
        try:
            received.claims()
        except (AssertionError, jwt.InvalidTokenError):
            return self.error(403, "Invalid token: signature, api token not found")
        for field in (RECIPIENT_FIELDS[received.path], "template_id"):
            if field not in received.body:
                return self.error(400, f"{field} is a required property", "ValidationError")
        if received.path == LETTER and (problem := self.address_problem(received.body["personalisation"])):
            return self.error(400, problem, "ValidationError")
        if self.errors:
            return self.error(*self.errors.pop(0))
        return 201, self.created(received.path, received.body)

    @staticmethod
    def address_problem(personalisation: dict[str, Any]) -> str | None:
        """What Notify's API says of a letter's address (``address_line_1`` to ``address_line_7``), if anything."""
        if "address_line_1" not in personalisation:
            return "personalisation address_line_1 is a required property"
        lines = [str(personalisation.get(f"address_line_{n}") or "").strip() for n in range(1, 8)]
        lines = [line for line in lines if line]
        if len(lines) < 3:
            return "Address must be at least 3 lines"
        if not POSTCODE.match(re.sub(r"\s+", "", lines[-1]).upper()):
            return "Must be a real UK postcode"
        return None

    def error(self, status: int, message: str, name: str | None = None) -> tuple[int, dict[str, Any]]:
        name = name or ERROR_NAMES.get(status, "Error")
        return status, {"status_code": status, "errors": [{"error": name, "message": message}]}

    def created(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Notify's documented 201 response to a sent email, text message or letter."""
        notification_id = str(uuid.uuid4())
        template_id = body["template_id"]
        fields = body.get("personalisation", {})
        text = "\n".join(f"{key}: {value}" for key, value in fields.items())
        if path == "/v2/notifications/sms":
            content = {"body": text, "from_number": "CITYCOUNCL"}
        elif path == LETTER:
            content = {"subject": f"Template {template_id}", "body": text}
        else:
            content = {
                "subject": f"Template {template_id}",
                "body": text,
                "from_email": "example.city.council@notifications.service.gov.uk",
                "one_click_unsubscribe_url": None,
            }
        answer = {
            "id": notification_id,
            "reference": body.get("reference"),
            "content": content,
            "uri": f"{self.url}/v2/notifications/{notification_id}",
            "template": {"id": template_id, "version": 1, "uri": f"{self.url}/v2/template/{template_id}"},
        }
        if path == LETTER:
            answer |= {"scheduled_for": None, "postage": "second"}
        return answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                status, answer = stub.answer(self.path, dict(self.headers.items()), body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

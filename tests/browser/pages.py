"""What a resident sees in the browser, shared by the journeys' browser tests: the page's heading and title, a
summary list's answers, the GOV.UK error pattern, and the Continue button."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.factories import PASSWORD

COUNCIL = "Example City Council"


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def page_title(title: str, service: str | None = None) -> str:
    """What the browser tab says: "<page> - <service> - <council>" on a journey's pages (GOV.UK's pattern), and
    "<service> - <council>" on its start page."""
    return f"{title} - {service} - {COUNCIL}" if service and service != title else f"{title} - {COUNCIL}"


def expect_page(page: Page, title: str, service: str | None = None) -> None:
    """The resident is on the page with this title, in ``service``'s journey when given: in the browser tab and as
    the main heading."""
    expect(page).to_have_title(page_title(title, service))
    expect(heading(page)).to_have_text(title)


def answer(page: Page, key: str) -> Locator:
    """The value of one row of a GOV.UK summary list."""
    key_cell = page.locator(f".govuk-summary-list__key:text-is({key!r})")
    return page.locator(".govuk-summary-list__row").filter(has=key_cell).locator(".govuk-summary-list__value")


def expect_error(page: Page, message: str) -> None:
    """The GOV.UK error pattern: "Error: " in the title, the summary at the top, the message by the field."""
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name=message)).to_be_visible()
    expect(page.locator(".govuk-error-message", has_text=message)).to_be_visible()


def press_continue(page: Page) -> None:
    page.get_by_role("button", name="Continue", exact=True).click()


def sign_in_as(page: Page, email: str) -> None:
    """A member of staff signs in (with the test accounts' password) and lands on their queues."""
    page.goto("/staff")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_page(page, "Your queues")


def pay_by_card(page: Page, card_number: str = "4444333322221111") -> None:
    """The sandbox's card page: a card that is accepted, and Confirm payment."""
    page.get_by_label("Card number").fill(card_number)
    page.get_by_label("Expiry date").fill("10/39")
    page.get_by_label("Name on card").fill("Sam Resident")
    page.get_by_label("Card security code").fill("123")
    page.get_by_role("button", name="Confirm payment").click()

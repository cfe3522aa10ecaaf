"""Report a pothole or other road problem."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from forms._common import (
    UKPostcode,
    coordinate_field,
    email_field,
    required,
    within_council_area,
)
from forms._contact import NameForm, UpdatesPage, contact_record
from forms._pages import PhotoPage, ReportCard, SimilarReportsPage
from webapp import addresses, phones, submissions
from webapp.catalogue import Answers, Open311, Open311Fill, Page, Record, Service, SummaryRow, assisted, online
from webapp.exports import ExportColumn, answer, label_of, labels_of, latest_update, latest_update_at, photo_links
from webapp.geo import normalise_postcode, street_key
from webapp.templating import govuk_date
from webapp.widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovTextInput,
)

SLUG = "report-a-road-problem"

CATEGORIES = [
    SelectChoice("pothole", "Pothole"),
    SelectChoice("damaged-pavement", "Damaged pavement"),
    SelectChoice("street-light", "Street light not working"),
    SelectChoice("blocked-drain", "Blocked drain"),
    SelectChoice("fly-tipping", "Fly-tipping"),
]
POTHOLE_SIZES = [
    SelectChoice("small", "Smaller than a dinner plate"),
    SelectChoice("medium", "Between a dinner plate and a car tyre"),
    SelectChoice("large", "Larger than a car tyre"),
]
POTHOLE_POSITIONS = [
    SelectChoice("road", "In the road"),
    SelectChoice("pavement", "On the pavement"),
    SelectChoice("cycle-lane", "In a cycle lane"),
]
DESCRIPTION_MAX = 1000


class CategoryForm(FlaskForm):
    summary_keys = {"category": "Problem"}
    category = RadioField(
        "What is the problem?",
        choices=CATEGORIES,
        widget=GovRadioInput(),
        validators=[required("Select what the problem is")],
    )


def text(
    label: str,
    message: str | None,
    max_length: int,
    description: str = "",
    **render_kw: Any,
) -> StringField:
    presence = required(message) if message else Optional()
    return StringField(
        label,
        widget=GovTextInput(),
        description=description,
        validators=[
            presence,
            Length(
                max=max_length,
                message=f"{label} must be {max_length} characters or fewer",
            ),
        ],
        render_kw=render_kw or None,
    )


class LocationForm(FlaskForm):
    street = text("Street name", "Enter the street name", 200, autocomplete="address-line1")
    area = text("Town or area", "Enter the town or area", 120, autocomplete="address-level2")
    landmark = text(
        "Nearest house number or landmark (optional)",
        None,
        200,
        description="For example, outside number 24, or by the bus stop",
    )
    postcode = StringField(
        "Postcode (optional)",
        widget=GovTextInput(),
        validators=[UKPostcode()],
        render_kw={
            "autocomplete": "postal-code",
            "params": {"classes": "govuk-input--width-10"},
        },
    )
    latitude = coordinate_field("latitude", partner="longitude")
    longitude = coordinate_field("longitude", partner="latitude")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        check = within_council_area(
            "latitude",
            "longitude",
            "The map coordinates must be inside the {council} area",
        )
        return check(self) and valid


class DescriptionForm(FlaskForm):
    summary_keys = {"description": "Description"}
    description = TextAreaField(
        "Tell us about the problem",
        widget=GovCharacterCount(),
        description=(
            "Include anything that helps us find and fix it, like how big it is or if it is a danger. "
            "Do not include personal information: we publish what you write, so others can see the problem is "
            "reported."
        ),
        validators=[
            required("Enter a description of the problem"),
            Length(
                max=DESCRIPTION_MAX,
                message=f"Description must be {DESCRIPTION_MAX} characters or fewer",
            ),
        ],
        render_kw={"params": {"maxlength": DESCRIPTION_MAX}, "rows": 6},
    )


class PotholeForm(FlaskForm):
    summary_keys = {"size": "Pothole size", "position": "Pothole position"}
    size = RadioField(
        "About how big is the pothole?",
        choices=POTHOLE_SIZES,
        widget=GovRadioInput(),
        validators=[required("Select about how big the pothole is")],
    )
    position = RadioField(
        "Where is the pothole?",
        choices=POTHOLE_POSITIONS,
        widget=GovRadioInput(),
        validators=[required("Select where the pothole is")],
    )


class ContactChoiceForm(FlaskForm):
    contact = RadioField(
        "Do you want to get updates about this report?",
        choices=[
            SelectChoice("named", "Yes, I'll give my name and email address"),
            SelectChoice("anonymous", "No, report it anonymously"),
        ],
        description="If you report anonymously, we cannot tell you when it's fixed or ask you about it.",
        widget=GovRadioInput(),
        validators=[required("Select if you want to get updates about this report")],
    )


class DetailsForm(FlaskForm):
    summary_keys = {"name": "Name"}
    name = text(
        "Full name",
        "Enter your full name",
        200,
        autocomplete="name",
        spellcheck="false",
    )
    email = email_field(
        "Email address",
        description="We'll send your reference and updates to this address",
    )
    phone = TelField(
        "Phone number (optional)",
        widget=GovTextInput(),
        description="For international numbers include the country code",
        validators=[Optional()],
        render_kw={
            "autocomplete": "tel",
            "params": {"classes": "govuk-input--width-20"},
        },
    )

    def validate_phone(self, field: TelField) -> None:
        if not phones.is_phone_number(field.data):
            raise ValidationError("Enter a phone number, like 01632 960 001 or +44 808 157 0192")


def is_pothole(answers: Answers) -> bool:
    return answers.value("category") == "pothole"


def wants_updates(answers: Answers) -> bool:
    return answers.value("contact") == "named"


def resident_wants_updates(answers: Answers) -> bool:
    return wants_updates(answers) and online(answers)


def caller_wants_updates(answers: Answers) -> bool:
    """A caller, through an agent: they may have no email address, so they say how they want updates."""
    return wants_updates(answers) and assisted(answers)


def _coordinates(answers: Answers) -> tuple[float | None, float | None]:
    lat, lon = answers.value("latitude"), answers.value("longitude")
    return (float(lat), float(lon)) if lat and lon else (None, None)


def _like_this(answers: Answers) -> dict[str, Any]:
    """What makes another open report like this one: its kind and its place."""
    lat, lon = _coordinates(answers)
    return {
        "service_slug": SLUG,
        "category": answers.value("category"),
        "street_key": street_key(answers.value("street")),
        "area": answers.value("area"),
        "latitude": lat,
        "longitude": lon,
    }


def find_similar(answers: Answers) -> list[Any]:
    return submissions.find_similar_open(**_like_this(answers))


def any_similar(answers: Answers) -> bool:
    return bool(submissions.similar_open(**_like_this(answers)))


DESCRIPTION_PREVIEW = 100  # characters of a report's description shown to someone who may be reporting it again


def category_label(category: str | None) -> str:
    return next((str(choice.label) for choice in CATEGORIES if choice.value == category), "Problem")


def distance_text(metres: float | None) -> str:
    """How far an open report is from this one: found by its map position, or else on the same street."""
    if metres is None:
        return "On the same street"
    if metres < 10:
        return "Less than 10 metres away"
    return f"About {round(metres, -1):.0f} metres away"


def first_line(text: str, limit: int = DESCRIPTION_PREVIEW) -> str:
    """The first line of a description, cut at a word near ``limit`` characters, with an ellipsis when cut."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[:limit]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return cut.rstrip(" ,.;:-") + "…"


def describe(similar: Any) -> ReportCard:
    """An open report as someone reporting it again sees it: what, where, when, how far, how it stands, the
    start of its description and its photo (the one sent with the report, not one added later)."""
    report = similar.submission
    what = category_label(report.category)
    where = ", ".join(part for part in (report.street, report.area) if part)
    reported = govuk_date(report.created_at)
    answers = report.answers or {}
    landmark = (answers.get("where-is-it") or {}).get("landmark")
    description = first_line((answers.get("describe-it") or {}).get("description") or "")
    rows = (
        SummaryRow("Where", "\n".join(line for line in (landmark, where) if line), None),
        SummaryRow("Reported", reported, None),
        SummaryRow("Distance", distance_text(similar.distance), None),
        SummaryRow("Status", report.status_label, None),
        SummaryRow("Description", description or "Not given", None),
        SummaryRow("Reference", report.reference, None),
    )
    return ReportCard(
        reference=report.reference,
        title=f"{what} on {where}",
        rows=rows,
        choice=f"Yes, it is the {what.lower()} on {where}, reported on {reported}",
        photo=next((photo for photo in report.attachments if photo.case_event_id is None), None),
    )


def place(answers: Answers) -> str:
    return "|".join(str(answers.value(name) or "") for name in ("category", "street", "area", "latitude", "longitude"))


def location_summary(stored: dict[str, Any]) -> list[SummaryRow]:
    lines = [
        stored.get("landmark"),
        stored.get("street"),
        stored.get("area"),
        stored.get("postcode"),
    ]
    rows = [SummaryRow("Location", "\n".join(line for line in lines if line), "where-is-it")]
    if stored.get("latitude"):
        rows.append(
            SummaryRow(
                "Map position",
                f"{stored['latitude']}, {stored['longitude']}",
                "where-is-it",
            )
        )
    return rows


def contact_summary(stored: dict[str, Any]) -> list[SummaryRow]:
    value = "Yes" if stored.get("contact") == "named" else "No, reported anonymously"
    return [SummaryRow("Get updates", value, "get-updates")]


def record(answers: Answers) -> Record:
    lat, lon = _coordinates(answers)
    named = wants_updates(answers)
    contact = contact_record(answers, "how-to-update", named)
    if named and online(answers):
        contact["contact_phone"] = answers.value("phone") or None
    return Record(
        category=answers.value("category"),
        area=answers.value("area"),
        street=answers.value("street"),
        postcode=answers.value("postcode") or None,
        latitude=lat,
        longitude=lon,
        contact_name=answers.value("name") if named else None,
        description=answers.value("description", ""),
        **contact,
    )


# What a queue export carries beyond the columns every submission has (street, description, contact, ...).
EXPORT_COLUMNS = (
    ExportColumn("category_label", label_of(answer("category", "what-is-the-problem"), CATEGORIES)),
    ExportColumn("landmark", answer("landmark", "where-is-it")),
    ExportColumn("pothole_size", answer("size", "pothole-details"), labels_of(POTHOLE_SIZES)),
    ExportColumn("pothole_position", answer("position", "pothole-details"), labels_of(POTHOLE_POSITIONS)),
    ExportColumn("photo_url", photo_links),
    ExportColumn("updates_wanted", answer("contact", "get-updates"), {"named": "Yes", "anonymous": "No, anonymous"}),
    ExportColumn("latest_update", latest_update),
    ExportColumn("latest_update_at", latest_update_at),
)


# Over Open311 (webapp/open311): each category is a service; the pothole details are its attributes.
_POSTCODE_AT_END = re.compile(r"[,\s]*([A-Za-z]{1,2}[0-9][0-9A-Za-z]?\s*[0-9][A-Za-z]{2})\s*$")


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def open311_location(request: Any) -> dict[str, str]:
    """Where the problem is, from a request's map position or its ``address_string``: the street and area in the
    address's own words ("12 Cardigan Road, Headingley"), else from the council's gazetteer, by the address nearest
    the position (FixMyStreet sends only that) or at the postcode."""
    found = dict(street="", area="", landmark="", postcode="", latitude=request.lat, longitude=request.long)
    lat, lon = _number(request.lat), _number(request.long)
    near = addresses.nearest(lat, lon) if lat is not None and lon is not None else None
    text = request.address_string
    found["landmark"] = text[:200]
    match = _POSTCODE_AT_END.search(text)
    postcode = normalise_postcode(match.group(1)) if match else None
    if postcode:
        found["postcode"] = postcode
        text = text[: match.start()]
        if near is None:
            near = next((address for address in addresses.at_postcode(postcode) if address.street), None)
            if near is not None and lat is None and lon is None:
                found["latitude"], found["longitude"] = str(near.latitude or ""), str(near.longitude or "")
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if parts:
        street = addresses.street_of([parts[0]]) or parts[0]
        known = addresses.on_street(street) or near
        area = parts[1] if len(parts) > 1 else (addresses.locality(known) if known else "")
        found["street"], found["area"] = street[:200], area[:120]
    elif near is not None:
        found["street"], found["area"] = near.street or "", addresses.locality(near)
    return found


def open311_details(request: Any) -> dict[str, str]:
    return {"name": request.name, "email": request.email, "phone": request.phone}


WHERE = "address_string (or lat and long near a street in the council's gazetteer)"
OPEN311 = Open311(
    category="what-is-the-problem",
    fill={
        "where-is-it": Open311Fill(
            open311_location,
            {"street": WHERE, "area": WHERE, "landmark": "address_string", "postcode": "address_string"}
            | {"latitude": "lat", "longitude": "long"},
        ),
        "describe-it": Open311Fill(lambda request: {"description": request.description}),
        "get-updates": Open311Fill(lambda request: {"contact": "named" if request.email else "anonymous"}),
        "your-details": Open311Fill(open311_details, {"name": "first_name and last_name"}),
    },
    descriptions={
        "pothole": "A hole or a sunken or broken surface in a road.",
        "damaged-pavement": "A broken, cracked, loose or uneven pavement or kerb.",
        "street-light": "A street light that is out, flickering, on in the day, or damaged.",
        "blocked-drain": "A road drain or gully that is blocked, or a road that is flooded.",
        "fly-tipping": "Rubbish dumped on a street, pavement or verge.",
    },
    # FixMyStreet reads keywords as flags, split at commas ("private", "inactive", "staff" and "waste_only" mean
    # something to it): none of these is one.
    keywords={
        "pothole": "pothole,road surface,hole,tarmac",
        "damaged-pavement": "pavement,footpath,kerb,paving slab,trip hazard",
        "street-light": "street light,lamp post,lighting",
        "blocked-drain": "drain,gully,flooding,standing water",
        "fly-tipping": "fly-tipping,dumped rubbish,waste",
    },
)


SERVICE = Service(
    slug=SLUG,
    title="Report a pothole or other road problem",
    topic="Roads, streets and pavements",
    summary_text="Potholes, damaged pavements, broken street lights, blocked drains and fly-tipping.",
    reference_prefix="RP",
    noun="report",
    pages=(
        Page("what-is-the-problem", "What is the problem?", CategoryForm, personal=False),
        Page(
            "where-is-it",
            "Where is the problem?",
            LocationForm,
            template="public/journey/location.html",
            summarise=location_summary,
            personal=False,
        ),
        Page("describe-it", "Tell us about the problem", DescriptionForm),
        Page("pothole-details", "About the pothole", PotholeForm, condition=is_pothole, personal=False),
        PhotoPage("photo", "Add a photo"),
        SimilarReportsPage(
            "similar-reports",
            "Is this the problem you are reporting?",
            find=find_similar,
            exists=any_similar,
            fingerprint=place,
            describe=describe,
        ),
        Page(
            "get-updates",
            "Do you want to get updates about this report?",
            ContactChoiceForm,
            summarise=contact_summary,
        ),
        Page("your-details", "Your details", DetailsForm, condition=resident_wants_updates),
        Page("your-name", "What is your name?", NameForm, condition=caller_wants_updates),
        UpdatesPage("how-to-update", "How do you want to get updates?", condition=caller_wants_updates),
    ),
    record=record,
    export_columns=EXPORT_COLUMNS,
    classification="OFFICIAL",
    retention=timedelta(days=365 * 2),
    what_you_need=(
        "where the problem is: the street name, or your current location if you are there now",
        "a short description of the problem",
        "a photo, if you have one (optional)",
    ),
    submit_label="Send report",
    urgent_note="If something is dangerous, like a deep pothole or a fallen light, call at any time.",
    no_email_text=(
        "You reported this anonymously, so we will not email you. Write down your reference to check its progress."
    ),
    again_text="Report another problem",
    confirmation_title="Report sent",
    open311=OPEN311,
    what_happens_next=(
        "We'll check your report and pass it to the team that deals with it. "
        "Most road problems are inspected within 5 working days; dangerous ones within 24 hours."
    ),
)

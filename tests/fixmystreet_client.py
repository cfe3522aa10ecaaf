"""FixMyStreet's Open311 client, ported line for line where it touches the wire: perllib/Open311.pm in
mysociety/fixmystreet (commit 84d7c80c5d9a, August 2026). What it sends (the paths, the parameters it builds from a
report or an update, ``api_key`` and ``jurisdiction_id`` added by ``_request``, the UTF-8 form encoding of
HTTP::Request::Common's POST, repeated keys for a list) and how it reads what comes back (``_get_xml_object``:
XML::Simple with ForceArray on the group tags' members, GroupTags, KeyAttr off and SuppressEmpty undef).

Tests call a council's endpoint through this, as FixMyStreet would, and read the answers as it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

# _get_xml_object's $group_tags: each group's member is forced to an array, and the group collapses onto it.
GROUP_TAGS = {
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
    "service_request_updates": "request_update",
    "groups": "group",
}
FORCE_ARRAY = set(GROUP_TAGS.values())


def _simple(element: ElementTree.Element) -> Any:
    children = list(element)
    if not children and not element.attrib:
        return element.text if element.text not in (None, "") else None  # SuppressEmpty => undef
    value: dict[str, Any] = {}
    for child in children:
        item = _simple(child)
        if child.tag in GROUP_TAGS and isinstance(item, dict) and set(item) == {GROUP_TAGS[child.tag]}:
            item = item[GROUP_TAGS[child.tag]]
        if child.tag in FORCE_ARRAY:
            value.setdefault(child.tag, []).append(item)
        elif child.tag in value:
            existing = value[child.tag]
            value[child.tag] = [*existing, item] if isinstance(existing, list) else [existing, item]
        else:
            value[child.tag] = item
    return value


def get_xml_object(xml: bytes | str | None) -> Any:
    """``_get_xml_object``: the root element's contents as XML::Simple gives them, or None when it does not parse."""
    if not xml:
        return None
    try:
        root = ElementTree.fromstring(xml if isinstance(xml, bytes) else xml.encode())
    except ElementTree.ParseError:
        return None
    return _simple(root)


def split_name(name: str | None) -> tuple[str, str]:
    """``split_name``: the first word, and the rest."""
    if not name:
        return "", ""
    parts = name.split(None, 1)
    return parts[0].rstrip("."), (parts[1] if len(parts) > 1 else "")


def truncate_coordinate(value: float) -> str:
    """Utils::truncate_coordinate: six decimal places, trailing zeros dropped."""
    out = f"{value:0.6f}"
    return out.rstrip("0").rstrip(".") if "." in out else out


@dataclass
class Problem:
    """The parts of a FixMyStreet report that send_service_request reads."""

    id: int
    title: str
    detail: str
    name: str
    email: str | None
    latitude: float
    longitude: float
    url: str = "https://www.fixmystreet.com/report/1"
    phone: str | None = None
    extra_fields: list[dict[str, str]] = field(default_factory=list)
    uprn: str | None = None
    postcode: str = ""
    used_map: bool = True


@dataclass
class Comment:
    """The parts of a FixMyStreet update that post_service_request_update reads."""

    id: int
    text: str
    name: str
    email: str | None
    external_id: str  # the report's service_request_id
    state: str  # the problem's state: "confirmed", "fixed - council", "in progress", ...
    confirmed: str  # DateTime::Format::W3CDTF->format_datetime of when it was confirmed
    photo_urls: list[str] = field(default_factory=list)


OPEN_STATES = {"confirmed", "investigating", "in progress", "planned", "action scheduled", "for triage"}
FIXED_STATES = {"fixed", "fixed - council", "fixed - user"}


class Client:
    """An Open311 endpoint as FixMyStreet's body configuration sees it, over a Flask test client."""

    def __init__(
        self,
        http: Any,
        endpoint: str,
        api_key: str = "",
        jurisdiction: str = "",
        extended_statuses: bool = False,
        multi_photos: bool = False,
    ):
        self.http, self.endpoint, self.api_key, self.jurisdiction = http, endpoint, api_key, jurisdiction
        self.extended_statuses, self.multi_photos = extended_statuses, multi_photos
        self.success, self.error = False, ""
        self.last_request: dict[str, Any] = {}

    # _request, _get, _post --------------------------------------------------------------------------
    def _request(self, method: str, path: str, params: dict[str, Any] | None = None) -> str | None:
        params = dict(params or {})
        if self.jurisdiction:
            params["jurisdiction_id"] = self.jurisdiction
        if method == "POST" and self.api_key:
            params["api_key"] = self.api_key
        # encode('UTF-8', $value) for each value; an arrayref becomes the same key repeated.
        pairs = [
            (key, item.encode() if isinstance(item, str) else str(item).encode())
            for key, value in params.items()
            for item in (value if isinstance(value, list) else [value])
            if item is not None
        ]
        url = self.endpoint + path
        self.last_request = {"method": method, "url": url, "pairs": pairs}
        if method == "GET":
            response = self.http.get(url + ("?" + urlencode(pairs) if pairs else ""))
        else:
            body = urlencode(pairs)
            self.last_request["body"] = body
            response = self.http.post(url, data=body, content_type="application/x-www-form-urlencoded")
        self.last_response = response
        content = response.get_data(as_text=True)
        if 200 <= response.status_code < 300:
            self.success = True
            return content
        self.success = False
        self.error = f"request failed: {response.status_code}\nerror: {self._process_error(content)}\n"
        return None

    def _process_error(self, error: str) -> str:
        obj = get_xml_object(error)
        message = ""
        if isinstance(obj, dict) and "error" in obj:
            for item in obj["error"]:
                message += f"{item.get('code') or '???'}: {item.get('description') or 'unknown error'}\n"
        return message or "unknown error"

    # The calls ------------------------------------------------------------------------------------
    def get_service_list(self) -> Any:
        xml = self._request("GET", "services.xml")
        return get_xml_object(xml) if xml else None

    def get_service_meta_info(self, service_id: str) -> Any:
        return get_xml_object(self._request("GET", f"services/{service_id}.xml"))

    def send_service_request(self, problem: Problem, extra: dict[str, Any], service_code: str) -> str | int:
        params = self._populate_service_request_params(problem, extra, service_code)
        response = self._request("POST", "requests.xml", params)
        if response:
            obj = get_xml_object(response)
            if obj:
                request = (obj.get("request") or [{}])[0]
                if request.get("service_request_id"):
                    request_id = request["service_request_id"]
                    if not isinstance(request_id, dict | list):
                        return request_id
                elif request.get("token"):
                    return self.get_service_request_id_from_token(request["token"]) or 0
        return 0

    def _populate_service_request_params(self, problem: Problem, extra: dict[str, Any], code: str) -> dict[str, Any]:
        # extended_description, for a UK cobrand ($extra->{easting} set).
        description = f"title: {problem.title}\n\ndetail: {problem.detail}\n\nurl: {problem.url}\n\n"
        description += "Submitted via FixMyStreet\n"
        first, last = split_name(problem.name)
        params: dict[str, Any] = {
            "description": description,
            "service_code": code,
            "first_name": first,
            "last_name": last,
        }
        if problem.phone:
            params["phone"] = problem.phone
        if problem.email:
            params["email"] = problem.email
        # always_send_latlong defaults to 1.
        params["lat"] = truncate_coordinate(problem.latitude)
        params["long"] = truncate_coordinate(problem.longitude)
        if extra.get("image_url"):
            params["media_url"] = extra["all_image_urls"] if self.multi_photos else extra["image_url"]
        for attribute in problem.extra_fields:
            name = attribute["name"]
            if name in ("first_name", "last_name"):
                if attribute.get("value"):
                    params[name] = attribute["value"]
                if name == "first_name":
                    continue
            params[f"attribute[{name.removeprefix('fms_extra_')}]"] = attribute.get("value")
        if problem.uprn:
            params["attribute[uprn]"] = problem.uprn
        return params

    def get_service_requests(self, args: dict[str, Any] | None = None) -> Any:
        args = dict(args or {})
        params: dict[str, Any] = {}
        if args.get("report_ids"):
            params["service_request_id"] = ",".join(args.pop("report_ids"))
        params.update(args)
        requests = get_xml_object(self._request("GET", "requests.xml", params))
        return requests.get("request") if isinstance(requests, dict) else None

    def get_service_request_id_from_token(self, token: str) -> str | int:
        obj = get_xml_object(self._request("GET", f"tokens/{token}.xml"))
        if obj and obj.get("request") and obj["request"][0].get("service_request_id"):
            return obj["request"][0]["service_request_id"]
        return 0

    def get_service_request_updates(self, start_date: str | None = None, end_date: str | None = None) -> Any:
        params: dict[str, Any] = {"api_key": self.api_key or ""}
        if start_date or end_date:
            if not (start_date and end_date):
                return 0
            params["start_date"], params["end_date"] = start_date, end_date
        obj = get_xml_object(self._request("GET", "servicerequestupdates.xml", params))
        return obj.get("request_update") if isinstance(obj, dict) else None

    def post_service_request_update(self, comment: Comment) -> str | int:
        params = self._populate_service_request_update_params(comment)
        response = self._request("POST", "servicerequestupdates.xml", params)
        if response:
            obj = get_xml_object(response)
            if obj:
                update = (obj.get("request_update") or [{}])[0]
                if update.get("update_id") and not isinstance(update["update_id"], dict | list):
                    return update["update_id"]
                if update.get("token"):
                    return self.get_service_request_id_from_token(update["token"])
        return 0

    def _status_of(self, state: str) -> str:
        if not self.extended_statuses:
            return "OPEN" if state in OPEN_STATES else "CLOSED"
        if state in FIXED_STATES:
            return "FIXED"
        extended = {
            "in progress": "IN_PROGRESS",
            "action scheduled": "ACTION_SCHEDULED",
            "planned": "ACTION_SCHEDULED",
            "investigating": "INVESTIGATING",
            "duplicate": "DUPLICATE",
            "not responsible": "NOT_COUNCILS_RESPONSIBILITY",
            "unable to fix": "NO_FURTHER_ACTION",
            "internal referral": "INTERNAL_REFERRAL",
            "for triage": "FOR_TRIAGE",
            "closed": "CLOSED",
            "cancelled": "CANCELLED",
        }
        return extended.get(state, "OPEN")

    def _populate_service_request_update_params(self, comment: Comment) -> dict[str, Any]:
        first, last = split_name(comment.name)
        params: dict[str, Any] = {
            "updated_datetime": comment.confirmed,
            "service_request_id": comment.external_id,
            "status": self._status_of(comment.state),
            "description": comment.text,
            "last_name": last or "-",
            "first_name": first,
        }
        if comment.email:
            params["email"] = comment.email
        params["update_id"] = comment.id
        if comment.photo_urls:
            params["media_url"] = comment.photo_urls if self.multi_photos else comment.photo_urls[0]
        return params

    @staticmethod
    def map_state(incoming: str) -> str:
        """``map_state``: how FixMyStreet reads a status it is sent."""
        state = incoming.lower().replace("_", " ")
        mapped = {
            "fixed": "fixed - council",
            "not councils responsibility": "not responsible",
            "no further action": "unable to fix",
            "open": "confirmed",
            "closed": "fixed - council",
        }
        return mapped.get(state, state)

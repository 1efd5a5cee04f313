"""No message the channel can see names the receiver, whatever form Bird's texts write it in."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import default_catalog, diagnose_message
from catalog.message import FoundMessage, Message
from handlers.blocks.enrichment_builder import MessageItem, thread_reply
from handlers.blocks.failure_builder import asked_by, shared_by
from handlers.blocks.message_builder import MessageRef, message_reply

CATALOG = default_catalog()
WORKSPACE = "6a1e1f5c-3b7d-4c59-9d2e-7f0a1b2c3d4e"
MESSAGE = "0d7b6c1e-5f3a-4c2b-9e8d-7a6b5c4d3e2f"


def channel_visible(message: Message) -> dict[str, dict[str, Any]]:
    """Every message built from ``message`` that the channel can read."""
    found = FoundMessage(message=message, channel_id="5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f", from_cache=False)
    diagnosis = diagnose_message(CATALOG, message)
    ref = MessageRef(WORKSPACE, MESSAGE)
    item = MessageItem(key=MESSAGE, message_id=MESSAGE, found=found, diagnosis=diagnosis)
    return {
        "shared copy": message_reply(found, diagnosis, ref, workspace_label="prod", footer=shared_by("U0BOB")),
        "/message channel post": message_reply(found, diagnosis, ref, workspace_label="prod", footer=asked_by("U0BOB")),
        "alert reply": thread_reply([item]),
        "thread reply": thread_reply([item], automatic=False, footer=asked_by("U0BOB")),
        # Not visible to the channel, but redacted too until Show details is pressed.
        "private answer": message_reply(found, diagnosis, ref, workspace_label="prod"),
    }


def readable(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def phone_forms(cc: str, nsn: str) -> list[str]:
    spaced = " ".join(nsn[i : i + 3] for i in range(0, len(nsn), 3))
    return [
        f"+{cc}{nsn}",
        f"+{cc} {spaced}",
        f"00{cc}{nsn}",
        f"0{nsn}",
        f"0{spaced}",
        f"({nsn[:3]}) {nsn[3:6]}-{nsn[6:]}",
        "-".join(nsn[i : i + 2] for i in range(0, len(nsn), 2)),
        ".".join(nsn[i : i + 4] for i in range(0, len(nsn), 4)),
        nsn,
    ]


def email_forms(local: str, domain: str) -> list[str]:
    return [f"{local}@{domain}", f"{local}@{domain}".upper(), f"{local}@{domain.encode('idna').decode()}"]


locals_ = st.from_regex(r"[a-zé用][a-z0-9._é户]{2,12}", fullmatch=True).filter(lambda s: not s.endswith("."))
domains = st.sampled_from(["example.com", "exämple.com", "例子.广告", "mail.example.co.uk"])
phones = st.tuples(st.integers(1, 999).map(str), st.from_regex(r"[1-9][0-9]{6,11}", fullmatch=True))
line_ids = st.from_regex(r"U[0-9a-f]{32}", fullmatch=True)
psids = st.from_regex(r"[1-9][0-9]{15}", fullmatch=True)


@st.composite
def receivers(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], str]:
    """A receiver contact, the ways a platform may write its identifier, and its digits or name."""
    kind = draw(st.sampled_from(["phone", "email", "line", "psid", "short"]))
    if kind == "phone":
        cc, nsn = draw(phones)
        return {"identifierKey": "phonenumber", "identifierValue": f"+{cc}{nsn}"}, phone_forms(cc, nsn), nsn
    if kind == "email":
        local, domain = draw(locals_), draw(domains)
        return {"identifierKey": "emailaddress", "identifierValue": f"{local}@{domain}"}, email_forms(local, domain), ""
    if kind == "short":
        digits = draw(st.from_regex(r"[1-9][0-9]{3,6}", fullmatch=True))
        return {"identifierKey": "phonenumber", "identifierValue": digits}, [digits, " ".join(digits)], digits
    value = draw(line_ids if kind == "line" else psids)
    return {"platformAddress": value, "identifierKey": "line" if kind == "line" else "facebook"}, [value], ""


filler = st.text(st.characters(blacklist_categories=["Cs", "Nd"]), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    receiver=receivers(),
    form=st.integers(0, 8),
    where=st.sampled_from(["reason", "details", "structured reason", "source code", "direction"]),
    before=filler,
    after=filler,
)
def test_no_channel_visible_message_names_the_receiver_in_any_form(
    receiver: tuple[dict[str, Any], list[str], str], form: int, where: str, before: str, after: str
) -> None:
    contact, forms, digits = receiver
    written = forms[form % len(forms)]
    text = f"{before} {written} {after}"
    fields: dict[str, Any] = {"reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1"}
    if where == "reason":
        fields["reason"] = text
    elif where == "structured reason":
        fields["reason"] = f"details: {text}; reason: unknown_subscriber; code: 1"
    elif where == "details":
        fields["details"] = text
    elif where == "direction":
        fields["direction"] = text
    message = Message.model_validate(
        {
            "id": MESSAGE,
            "status": "delivery_failed",
            "receiver": {"contacts": [contact]},
            "failure": {
                "code": 15005,
                "source": {"name": "sms-messagebird", "code": text if where == "source code" else "1"},
            },
            **fields,
        }
    )

    for name, payload in channel_visible(message).items():
        shown = readable(payload).lower()
        for variant in forms:
            for spelling in {variant, unicodedata.normalize("NFC", variant)}:
                # A number is itself only between non-digits: 1100 is not inside the code 11001.
                found = re.search(rf"(?<![0-9]){re.escape(spelling.lower())}(?![0-9])", shown)
                assert found is None, (name, spelling, shown)
        if digits:
            assert not any(names_number(run, digits) for run in re.findall(r"\d(?:[\s().\-]{0,4}\d)*", shown))


def names_number(run: str, digits: str) -> bool:
    """Whether a run of digits and separators writes ``digits``, with at most a country code before them."""
    written = re.sub(r"\D", "", run).lstrip("0")
    return written.endswith(digits) and len(written) - len(digits) <= 3

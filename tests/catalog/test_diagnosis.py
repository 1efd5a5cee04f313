"""diagnose / diagnose_message / time_to_failure: raw failure fields beside what the catalog knows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from catalog import Catalog, default_catalog, diagnose, diagnose_message
from catalog.diagnosis import time_to_failure
from catalog.message import Message

# Bird's "Message status" example (docs.bird.com, Programmable Email), verbatim...
DOCS_MESSAGE: dict[str, Any] = {
    "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "channelId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "sender": {
        "connector": {
            "id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "identifierValue": "string",
            "annotations": {"name": "string"},
        }
    },
    "body": {"type": "text"},
    "reference": "string",
    "parts": [{"platformReference": "string"}],
    "status": "accepted",
    "reason": "string",
    "direction": "incoming",
    "template": {
        "projectId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "version": "string",
        "locale": "string",
        "variables": {"default": "string"},
    },
    "lastStatusAt": "2023-06-23T15:51:19.660Z",
    "createdAt": "2023-06-23T15:51:19.660Z",
    "updatedAt": "2023-06-23T15:51:19.660Z",
    "details": "string",
}
# ...with the failure snippet from the "Message Failure Codes" page in place of its status fields.
DOCS_FAILURE = {
    "status": "delivery_failed",
    "reason": "details: unknown subscriber; reason: unknown_subscriber; code: 1",
    "direction": "outgoing",
    "details": "unknown_subscriber",
    "failure": {"code": 15005, "source": {"name": "sms-messagebird", "code": "1"}},
}


def failed_docs_message(**changes: Any) -> Message:
    return Message.model_validate({**DOCS_MESSAGE, **DOCS_FAILURE, **changes})


# -- status ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["sending_failed", "delivery_failed"])
def test_failed_status(catalog: Catalog, status: str) -> None:
    diagnosis = diagnose(catalog, status=status, code=15011)
    assert diagnosis.failed
    assert diagnosis.status is not None
    assert diagnosis.status.name == status
    assert diagnosis.unknown_parts == []


def test_delivered_is_not_a_failure(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, status="delivered")
    assert not diagnosis.failed
    assert diagnosis.status is not None
    assert diagnosis.status.final
    assert diagnosis.code is None
    assert diagnosis.code_raw is None


@pytest.mark.parametrize("status", ["accepted", "processing", "scheduled", "sent"])
def test_in_progress_is_not_a_failure_yet(catalog: Catalog, status: str) -> None:
    diagnosis = diagnose(catalog, status=status)
    assert not diagnosis.failed
    assert diagnosis.status is not None
    assert not diagnosis.status.final


def test_without_a_status_a_code_means_failure(catalog: Catalog) -> None:
    assert diagnose(catalog, code=15011).failed
    assert not diagnose(catalog).failed


# -- resolving each field --------------------------------------------------------------------------


def test_every_field_resolves(catalog: Catalog) -> None:
    diagnosis = diagnose(
        catalog,
        status="delivery_failed",
        code=15005,
        source="sms-messagebird",
        source_code="1",
        reason="details: unknown subscriber; reason: unknown_subscriber; code: 1",
        details="unknown_subscriber",
    )
    assert diagnosis.code is not None
    assert diagnosis.code.name == "UNKNOWN_SUBSCRIBER"
    assert diagnosis.family is not None
    assert diagnosis.family.prefix == 15
    assert diagnosis.source is not None
    assert diagnosis.source.name == "sms-messagebird"
    assert diagnosis.table is not None
    assert diagnosis.table.id == "sms-extended"
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "1"
    assert diagnosis.reason is not None
    assert diagnosis.reason.reason == "unknown_subscriber"
    assert diagnosis.details == "unknown_subscriber"
    assert diagnosis.unknown_parts == []


def test_source_alias_and_case_resolve(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source=" WhatsApp ", source_code=" 131047 ")
    assert diagnosis.source is not None
    assert diagnosis.source.name == "whatsapp"
    assert diagnosis.platform_code_raw == "131047"
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.table == "whatsapp-cloud"


def test_unknown_code_source_and_status_are_listed(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, status="bounced", code=15009, source="carrier-pigeon", source_code="7")
    assert diagnosis.failed  # an unknown status falls back to "there is a failure code"
    assert diagnosis.code is None
    assert diagnosis.code_raw == 15009
    assert diagnosis.family is not None
    assert diagnosis.family.prefix == 15
    assert diagnosis.source is None
    assert diagnosis.source_raw == "carrier-pigeon"
    assert diagnosis.unknown_parts == ["failure code 15009", "source carrier-pigeon", "status bounced"]


def test_unknown_code_outside_any_family(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, code=99001)
    assert diagnosis.code is None
    assert diagnosis.family is None
    assert diagnosis.unknown_parts == ["failure code 99001"]


def test_unknown_platform_code_of_a_known_source_is_listed(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, code=15011, source="whatsapp", source_code="999999")
    assert diagnosis.code is not None
    assert diagnosis.platform_code is None
    assert diagnosis.unknown_parts == ["whatsapp code 999999"]


@pytest.mark.parametrize("source_code", ["10-2534099", "10-1", "10-9999999999"])
def test_unknown_subcode_falls_back_to_the_bare_code(catalog: Catalog, source_code: str) -> None:
    diagnosis = diagnose(catalog, code=15006, source="instagram", source_code=source_code)
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "10"
    assert diagnosis.platform_code_raw == source_code
    assert diagnosis.unknown_parts == [f"instagram subcode {source_code.partition('-')[2]} of code 10"]


@pytest.mark.parametrize("source_code", ["#131047", " # 131047 ", "##131047"])
def test_a_platform_code_written_with_a_hash_sign_resolves(catalog: Catalog, source_code: str) -> None:
    diagnosis = diagnose(catalog, code=15014, source="whatsapp", source_code=source_code)
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "131047"
    assert diagnosis.platform_code_raw == "131047"
    assert diagnosis.unknown_parts == []


@pytest.mark.parametrize("source_code", ["#", " # ", ""])
def test_a_hash_sign_alone_is_no_platform_code(catalog: Catalog, source_code: str) -> None:
    diagnosis = diagnose(catalog, code=15014, source="whatsapp", source_code=source_code)
    assert diagnosis.platform_code_raw is None
    assert diagnosis.unknown_parts == []


def test_known_subcode_keeps_its_own_entry(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source="instagram", source_code="10-2534022")
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "10-2534022"
    assert diagnosis.unknown_parts == []


def test_platform_code_of_a_source_without_a_table_is_listed(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source="email-messagebird", source_code="550")
    assert diagnosis.table is None
    assert diagnosis.platform_code is None
    assert diagnosis.unknown_parts == ["email-messagebird code 550"]


def test_reason_only_resolves_the_sms_table_and_infers_the_code(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, reason="details: unknown subscriber; reason: unknown_subscriber; code: 1")
    assert diagnosis.table is not None
    assert diagnosis.table.id == "sms-extended"
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "1"
    assert diagnosis.platform_code_raw == "1"
    # "unknown_subscriber" is also the name of Bird's code 15005.
    assert diagnosis.code is not None
    assert diagnosis.code.code == 15005
    assert diagnosis.code_raw == 15005
    assert diagnosis.family is not None
    assert diagnosis.family.prefix == 15
    assert diagnosis.failed
    assert diagnosis.unknown_parts == []


def test_code_is_inferred_from_the_details_too(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, reason="details: invalid spam; reason: rejected")
    assert diagnosis.code is not None
    assert diagnosis.code.code == 15011


def test_a_given_code_is_never_replaced_by_the_reasons(catalog: Catalog) -> None:
    known = diagnose(catalog, code=15001, reason="details: system failure; reason: unknown_subscriber; code: 34")
    assert known.code is not None
    assert known.code.code == 15001
    unknown = diagnose(catalog, code=15009, reason="details: x; reason: unknown_subscriber")
    assert unknown.code is None
    assert unknown.code_raw == 15009


def test_reason_without_a_known_name_infers_nothing(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, reason="details: system failure; reason: received_network_error; code: 34")
    assert diagnosis.code is None
    assert diagnosis.code_raw is None
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "34"


def test_source_code_field_wins_over_the_reasons_code(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source="sms-messagebird", source_code="34", reason="details: x; code: 1")
    assert diagnosis.platform_code_raw == "34"


def test_unstructured_reason_is_kept_raw(catalog: Catalog) -> None:
    text = "Message failed to send because more than 24 hours have passed"
    diagnosis = diagnose(catalog, code=14005, source="whatsapp", reason=text)
    assert diagnosis.reason is not None
    assert diagnosis.reason.raw == text
    assert not diagnosis.reason.structured
    assert diagnosis.platform_code_raw is None


@pytest.mark.parametrize("reason", ["", "   "])
def test_blank_reason_is_no_reason(catalog: Catalog, reason: str) -> None:
    assert diagnose(catalog, reason=reason).reason is None


def test_nothing_given_is_an_empty_diagnosis(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog)
    assert not diagnosis.failed
    assert diagnosis.unknown_parts == []
    assert diagnosis.model_dump(exclude_defaults=True) == {}


# -- a Channels API message ------------------------------------------------------------------------


def test_docs_example_message_parses_with_unknown_fields_kept() -> None:
    message = Message.model_validate(DOCS_MESSAGE)
    assert message.status == "accepted"
    assert message.channel_id == DOCS_MESSAGE["channelId"]
    assert message.sender is not None
    assert message.sender.connector is not None
    assert message.sender.connector.identifier_value == "string"
    assert message.status not in default_catalog().final_statuses
    assert message.model_extra is not None
    assert "parts" in message.model_extra


def test_diagnose_message_from_bird_docs_example(catalog: Catalog) -> None:
    message = failed_docs_message()
    assert message.status in catalog.final_statuses
    diagnosis = diagnose_message(catalog, message)
    assert diagnosis.failed
    assert diagnosis.status is not None
    assert diagnosis.status.name == "delivery_failed"
    assert diagnosis.code is not None
    assert diagnosis.code.code == 15005
    assert diagnosis.source is not None
    assert diagnosis.source.name == "sms-messagebird"
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.code == "1"
    assert diagnosis.reason is not None
    assert diagnosis.reason.details == "unknown subscriber"
    assert diagnosis.details == "unknown_subscriber"
    assert diagnosis.unknown_parts == []


def test_diagnose_message_accepts_numbers_as_strings_and_strings_as_numbers(catalog: Catalog) -> None:
    message = failed_docs_message(failure={"code": "15005", "source": {"name": "sms-messagebird", "code": 1}})
    assert message.failure is not None
    assert message.failure.code == 15005
    diagnosis = diagnose_message(catalog, message)
    assert diagnosis.platform_code_raw == "1"
    assert diagnosis.platform_code is not None


def test_diagnose_message_without_a_failure(catalog: Catalog) -> None:
    diagnosis = diagnose_message(catalog, Message.model_validate(DOCS_MESSAGE))
    assert not diagnosis.failed
    assert diagnosis.code_raw is None
    assert diagnosis.source is None
    # The docs' placeholder reason is kept as it is, not invented into a code.
    assert diagnosis.reason is not None
    assert diagnosis.reason.raw == "string"
    assert diagnosis.code is None


def test_diagnose_message_with_a_failure_but_no_source(catalog: Catalog) -> None:
    message = failed_docs_message(failure={"code": 14001}, reason=None, details=None)
    diagnosis = diagnose_message(catalog, message)
    assert diagnosis.code is not None
    assert diagnosis.code.code == 14001
    assert diagnosis.source is None
    assert diagnosis.source_raw is None


# -- time to failure -------------------------------------------------------------------------------


def test_time_to_failure_uses_last_status_at() -> None:
    message = failed_docs_message(
        createdAt="2023-06-23T15:51:19.660Z",
        lastStatusAt="2023-06-23T15:53:20.160Z",
        updatedAt="2023-06-23T16:00:00Z",
    )
    assert time_to_failure(message) == timedelta(minutes=2, seconds=0.5)


def test_time_to_failure_falls_back_to_updated_at() -> None:
    message = failed_docs_message(lastStatusAt=None, updatedAt="2023-06-23T15:52:19.660Z")
    assert time_to_failure(message) == timedelta(minutes=1)


def test_time_to_failure_of_the_docs_example_is_zero() -> None:
    assert time_to_failure(failed_docs_message()) == timedelta(0)


@pytest.mark.parametrize(
    "changes",
    [
        {"createdAt": None},
        {"lastStatusAt": None, "updatedAt": None},
        {"createdAt": "2023-06-23T16:00:00Z", "lastStatusAt": "2023-06-23T15:00:00Z"},
    ],
)
def test_time_to_failure_is_unknown_without_a_sane_pair_of_times(changes: dict[str, Any]) -> None:
    assert time_to_failure(failed_docs_message(**changes)) is None


def test_time_to_failure_across_timezones() -> None:
    message = failed_docs_message(createdAt="2023-06-23T17:00:00+02:00", lastStatusAt="2023-06-23T15:00:30Z")
    assert time_to_failure(message) == timedelta(seconds=30)


def test_time_to_failure_with_one_time_lacking_an_offset_is_unknown() -> None:
    message = failed_docs_message(createdAt="2023-06-23T15:00:00Z", lastStatusAt="2023-06-23T15:00:30")
    assert time_to_failure(message) is None


def test_time_to_failure_with_both_times_lacking_an_offset() -> None:
    message = failed_docs_message(createdAt="2023-06-23T15:00:00", lastStatusAt="2023-06-23T15:00:30")
    assert time_to_failure(message) == timedelta(seconds=30)


def test_source_code_repeating_the_reasons_code_follows_the_sms_table(catalog: Catalog) -> None:
    # What a shared diagnosis reads back: the reason's code also written as failure.source.code.
    reason = "details: unknown subscriber; reason: unknown_subscriber; code: 1"
    diagnosis = diagnose(catalog, code=15005, source_code="1", reason=reason)
    assert diagnosis == diagnose(catalog, reason=reason)
    assert diagnosis.platform_code is not None
    assert diagnosis.platform_code.table == "sms-extended"


def test_source_code_differing_from_the_reasons_code_is_not_guessed(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source_code="34", reason="details: x; reason: y; code: 1")
    assert diagnosis.platform_code_raw == "34"
    assert diagnosis.table is None
    assert diagnosis.platform_code is None


def test_a_known_source_without_a_table_keeps_the_reasons_code_unresolved(catalog: Catalog) -> None:
    diagnosis = diagnose(catalog, source="touchpoint", reason="details: x; reason: y; code: 1")
    assert diagnosis.platform_code_raw == "1"
    assert diagnosis.table is None
    assert diagnosis.platform_code is None
    assert diagnosis.unknown_parts == ["touchpoint code 1"]

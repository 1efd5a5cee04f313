"""Platform codes and the Bird failure codes they usually come with (``usual_codes``).

The product requirement: every platform code lists at least one Bird failure code it usually comes with.
Bird publishes this mapping only through two SMS examples (extended code 1 with 15005 and 34 with 15001);
the other lists are inferred from the meanings, so only those two pairings are pinned here.
"""

from __future__ import annotations

import pytest

from catalog import default_catalog
from catalog.models import PlatformCode

CATALOG = default_catalog()
ENTRIES = CATALOG.data.platform_codes
IDS = [f"{entry.table}/{entry.code}" for entry in ENTRIES]

# Bird's own examples of a failure with its platform source code.
DOCUMENTED = {
    ("sms-extended", "1"): 15005,  # UNKNOWN_SUBSCRIBER
    ("sms-extended", "34"): 15001,  # UNKNOWN_FAILURE
}


def test_there_are_platform_codes() -> None:
    assert ENTRIES


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_every_platform_code_lists_a_usual_bird_code(entry: PlatformCode) -> None:
    assert entry.usual_codes, f"{entry.table}/{entry.code} lists no Bird failure code"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_usual_codes_exist_in_the_catalog(entry: PlatformCode) -> None:
    unknown = [code for code in entry.usual_codes if code not in CATALOG.codes]
    assert not unknown, f"{entry.table}/{entry.code} names unknown Bird codes {unknown}"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_usual_codes_are_not_repeated(entry: PlatformCode) -> None:
    assert len(set(entry.usual_codes)) == len(entry.usual_codes)


@pytest.mark.parametrize(("key", "bird_code"), DOCUMENTED.items(), ids=[f"{t}/{c}" for t, c in DOCUMENTED])
def test_documented_sms_mappings_hold(key: tuple[str, str], bird_code: int) -> None:
    assert key in CATALOG.platform_codes
    assert bird_code in CATALOG.platform_codes[key].usual_codes

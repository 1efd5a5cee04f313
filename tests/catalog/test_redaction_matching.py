"""A ``Redactor`` matches exactly what one alternation of all its receiver's patterns would match.

It compiles each pattern on its own, and a number's pattern only for a text holding its last digits;
neither may change what is found.
"""

from __future__ import annotations

import re
import uuid

from hypothesis import example, given, settings
from hypothesis import strategies as st

from catalog.redaction import Redactor, _alternatives, _mask_found

_DIGITS = st.text(alphabet="0123456789", min_size=3, max_size=15)
_SEPARATORS = st.sampled_from(["", "", " ", "-", ".", "(0)", "(", ")", "\u00a0", "/"])


@st.composite
def written(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as a person might write them: a prefix, separators, maybe only the tail."""
    start = draw(st.integers(0, max(0, len(digits) - 4)))
    prefix = draw(st.sampled_from(["", "+", "00", "0", "(0)", "+31 (0)"]))
    return prefix + "".join(digit + draw(_SEPARATORS) for digit in digits[start:])


@st.composite
def receiver_and_text(draw: st.DrawFn) -> tuple[list[str], str]:
    number = draw(_DIGITS)
    contact_id = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1))))
    identifiers = [f"+{number}", contact_id, *draw(st.lists(st.sampled_from(["jane@example.com", "Jane Doe"])))]
    pieces = draw(
        st.lists(
            st.one_of(
                written(number),
                written(contact_id.replace("-", "")),
                st.sampled_from([contact_id, contact_id.upper(), "JANE@example.com", "jane doe", " ", "code: 1"]),
                st.text(alphabet="0123456789 ()-+.ab@", max_size=12),
            ),
            max_size=6,
        )
    )
    return identifiers, " ".join(pieces)


def redacted_by_one_alternation(identifiers: list[str], text: str) -> str:
    """``Redactor.known`` as it was: the whole alternation compiled at once, longest pattern first."""
    patterns = [alternative.pattern for alternative in _alternatives(tuple(dict.fromkeys(identifiers)))]
    if not patterns:
        return text
    pieces, last = [], 0
    for match in re.compile("|".join(patterns), re.IGNORECASE).finditer(text):
        pieces += [text[last : match.start()], _mask_found(match.group(), match.group())]
        last = match.end()
    return "".join(pieces) + text[last:]


@settings(max_examples=400, deadline=None)
@given(receiver_and_text())
@example((["+31600000000", "4f1c2d3e-0000-4000-8000-123456789012"], "call 06 0000 0000 or 4f1c2d3e-0000-4000"))
@example((["+31612345678", "9b2e8a10-5678-4321-8765-000012345678"], "5(0)678 and 5(0)(0)6(0)78 then 12345678"))
# Two patterns match at the same place: the longer (the id's digits as a number) goes first.
@example((["+31612345678", "12345678-1234-4234-8234-123456789abc"], "id 12345678-1234-4234-8234-123456789abc"))
def test_redactor_matches_what_one_alternation_matches(case: tuple[list[str], str]) -> None:
    identifiers, text = case
    assert Redactor(identifiers).known(text) == redacted_by_one_alternation(identifiers, text)

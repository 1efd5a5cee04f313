"""Find Bird failure codes, platform codes and message ids in free text.

What counts as a hit:

- A known failure code: a 5-digit number that is in the catalog (``15011``). Unknown
  5-digit numbers are ignored. A digit run joined to other digits by ``-`` or ``.``
  (dates, versions, decimals) is not a code.
- A known code name or alias containing an underscore (``INVALID_SPAM``, any case).
  Names without an underscore count only when written in upper case.
- A failure source followed by one of its platform codes: the source's name or alias,
  then, within 40 characters and with no other number in between, a code from that
  source's code table (``whatsapp 131047``, ``source: whatsapp, code: 131047``,
  ``"source":{"name":"whatsapp","code":"131047"}``). A code written before its source
  is not recognised.
- A Bird message id: a UUID (any case) whose nearest label within the 30 characters
  before it is ``message``/``msg`` (``messageId``, ``message_id``, ``message id``,
  ``/messages/``). A UUID that is unlabelled or labelled as something else (trace,
  request, channel, ...) is not a message id.

False-alarm rule: people mention 5-digit numbers all the time ("order 15011 shipped"),
so a bare failure code (or a one-word upper-case name) counts only when the text was
posted by a bot or integration, or when an alert word appears within 60 characters of
it: fail/failed/failure, error, code, bird, messagebird, status, delivery, undelivered,
sending, rejected, alert. Names with an underscore, source + platform code pairs and
labelled message ids are specific enough to count wherever they appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .loader import Catalog
from .models import FailureCode, FailureSource

MAX_TEXT_CHARS = 100_000
CONTEXT_CHARS = 60
PAIR_GAP_CHARS = 40
LABEL_CHARS = 30

HitKind = Literal["code", "platform_code", "message_id"]

_UUID = r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}(?![0-9A-Za-z])"
# A digit run, optionally "-digits" (platform codes like 21-1), not glued to letters or to
# other digits by "-" or "." (dates, versions, decimals, ids).
_NUMBER = r"(?<![0-9A-Za-z_.])(?<![0-9]-)[0-9]+(?:-[0-9]+)?(?![0-9A-Za-z_]|[.-][0-9])"
_WORD = r"(?<![0-9A-Za-z_])[0-9]*[A-Za-z_][0-9A-Za-z_]*"
# Catalog names and aliases are looked up per word rather than compiled into one big
# alternation: trying every name at every position costs ~1 ms per KB with a full catalog.
_TOKENS = re.compile(f"(?P<uuid>{_UUID})|(?P<number>{_NUMBER})|(?P<word>{_WORD})")
_FIRST_WORD = re.compile(_WORD)
# Not preceded by a letter, not followed by a lower-case one: "errorCode" and "FAILED" count,
# "delivered" and "birdseed" do not.
_ALERT_WORDS = re.compile(
    r"(?<![A-Za-z])(?i:fail(?:s|ed|ing|ures?)?|errors?|codes?|(?:message)?bird|status(?:es)?|deliver(?:y|ies)"
    r"|undeliver(?:ed|able)|sending|rejected|alerts?|alerting)(?![a-z])"
)
# The last of these before a UUID says what the UUID identifies.
_ID_LABELS = re.compile(
    r"(message|msg)|trace|request|span|correlation|channel|workspace|contact|conversation|connector"
    r"|session|event|order|user|account|template",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Hit:
    """One thing worth explaining: ``key`` dedupes, ``query`` is what the explainer takes."""

    kind: HitKind
    key: str
    query: str


@dataclass(frozen=True, slots=True)
class _Aliases:
    """Source aliases, found by their first word and then matched in full."""

    first_words: frozenset[str]
    pattern: re.Pattern[str]


def scan(catalog: Catalog, text: str, *, from_integration: bool, limit: int = 20) -> list[Hit]:
    """Distinct hits in ``text`` in order of first appearance, at most ``limit``."""
    text = text[:MAX_TEXT_CHARS]
    aliases = _aliases(catalog)
    hits: dict[tuple[str, str], Hit] = {}
    pending_source: tuple[FailureSource, int] | None = None  # a source still waiting for its code
    last_uuid_end = skip_until = 0
    for match in _TOKENS.finditer(text):
        if len(hits) >= limit:
            break
        if match.start() < skip_until:
            continue
        kind, token = match.lastgroup, match.group()
        hit: Hit | None = None
        if kind == "number":
            if pending_source is not None and match.start() - pending_source[1] <= PAIR_GAP_CHARS:
                hit = _platform_hit(catalog, pending_source[0], token)
            pending_source = None
            if hit is None and len(token) == 5 and token.isdigit():
                hit = _code_hit(catalog.codes.get(int(token)), text, match, from_integration)
        elif kind == "word":
            name = catalog.codes_by_name.get(token.upper())
            if name is not None and "_" in token:
                hit = _code_hit(name, text, match, counts_anywhere=True)
            elif name is not None:
                # A one-word name reads as an ordinary word unless written as an identifier.
                hit = _code_hit(name if token.isupper() else None, text, match, from_integration)
            elif aliases is not None and token.lower() in aliases.first_words:
                source, alias_end = _source_at(catalog, aliases, text, match.start())
                if source is not None:
                    pending_source, skip_until = (source, alias_end), alias_end
        elif kind == "uuid":
            if _labelled_as_message(text[max(last_uuid_end, match.start() - LABEL_CHARS) : match.start()]):
                hit = Hit("message_id", token.lower(), token.lower())
            last_uuid_end = match.end()
        if hit is not None:
            hits.setdefault((hit.kind, hit.key), hit)
    return list(hits.values())


def _code_hit(code: FailureCode | None, text: str, match: re.Match[str], counts_anywhere: bool) -> Hit | None:
    if code is None or not (counts_anywhere or _near_alert_word(text, match)):
        return None
    return Hit("code", str(code.code), str(code.code))


def _source_at(catalog: Catalog, aliases: _Aliases, text: str, start: int) -> tuple[FailureSource | None, int]:
    """The source whose alias starts at ``start``, and where that alias ends."""
    alias = aliases.pattern.match(text, start)
    if alias is None:
        return None, start
    return catalog.sources_by_alias.get(alias.group().lower()), alias.end()


def _platform_hit(catalog: Catalog, source: FailureSource, number: str) -> Hit | None:
    if source.code_table is None or (source.code_table, number) not in catalog.platform_codes:
        return None
    return Hit("platform_code", f"{source.name}:{number}", f"{source.name} {number}")


def _near_alert_word(text: str, match: re.Match[str]) -> bool:
    # The token itself is a number or a name, so only the text around it is searched.
    before = _ALERT_WORDS.search(text, max(match.start() - CONTEXT_CHARS, 0), match.start())
    return before is not None or _ALERT_WORDS.search(text, match.end(), match.end() + CONTEXT_CHARS) is not None


def _labelled_as_message(before: str) -> bool:
    labels = _ID_LABELS.findall(before)
    return bool(labels) and bool(labels[-1])


@lru_cache(maxsize=8)
def _aliases(catalog: Catalog) -> _Aliases | None:
    """Compiled once per catalog; None when no source has a code table to look codes up in."""
    aliases = [alias for alias, source in catalog.sources_by_alias.items() if source.code_table is not None]
    first_words = {m.group().lower() for m in map(_FIRST_WORD.match, aliases) if m is not None}
    if not first_words:
        return None
    # Longest first, so "whatsapp-cloud" wins over "whatsapp".
    alternation = "|".join(re.escape(alias) for alias in sorted(aliases, key=len, reverse=True))
    pattern = re.compile(f"(?:{alternation})(?![0-9A-Za-z_])", re.IGNORECASE | re.ASCII)
    return _Aliases(frozenset(first_words), pattern)

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
sending, rejected, alert, firing. A number written as a reference ("PR #15011",
"PROJ-15011") needs the alert word even in a bot's post. Names with an underscore, source + platform code pairs and
labelled message ids are specific enough to count wherever they appear.

Those are the rules when someone asks (``rule="asked"``: ``/failure``, the shortcut, a
mention). birdwatch also reads alerts nobody asked it about, and there a wrong reply spends
trust, so two stricter rules apply (details in ``bird_context``):

- ``rule="bird_channel"`` (a channel opted in as carrying only Bird alerts): the rules above,
  except that a number that reads as a figure is never a code: a quantity (``15011 errors``,
  ``queue depth 15004``, ``> 12002``), a port or address (``10.1.2.3:15011``), part of a path or
  URL (``/orders/15011``), a build, job, run, issue or incident number (``#15006``, ``run 14021``),
  part of a name (``api-7d9f-15005``), a line number (``line 404``, ``app.py:15011``) or a
  version. A source whose name is an ordinary word (``line``, ``wa``, ``sms``, ``voice``) counts
  only where it clearly names a source: labelled (``source: line``, ``failure.source.name``) or
  written in capitals (``LINE``) near an alert word.
- ``rule="bird_context"`` (every other enriched channel): as ``bird_channel``, and in addition
  bare codes, generic names (``INVALID_INPUT``, ``NETWORK_TIMEOUT``), sources with platform codes
  and message ids count only in a message with Bird context: it mentions Bird or MessageBird
  (``api.bird.com``, ``sms-messagebird``), a Bird status (``delivery_failed``), a distinctive
  failure code name (``INVALID_SPAM``), ``failure.code``/``failure code``/``failure.source``,
  or a Channels API message path (``/workspaces/…/channels/…/messages/…``).
"""

from __future__ import annotations

import re
import string
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from . import bird_context
from .loader import Catalog
from .models import FailureCode, FailureSource

MAX_HITS = 20
MAX_TEXT_CHARS = 100_000
CONTEXT_CHARS = 60
PAIR_GAP_CHARS = 40
LABEL_CHARS = 30

HitKind = Literal["code", "platform_code", "message_id"]
Rule = Literal["asked", "bird_channel", "bird_context"]

_UUID = r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}(?![0-9A-Za-z])"
# A digit run, optionally "-digits" (platform codes like 21-1), not glued to letters or to
# other digits by "-" or "." (dates, versions, decimals, ids).
_NUMBER = r"(?<![0-9A-Za-z_.])(?<![0-9]-)[0-9]+(?:-[0-9]+)?(?![0-9A-Za-z_]|[.-][0-9])"
_WORD = r"(?<![0-9A-Za-z_])[0-9]*[A-Za-z_][0-9A-Za-z_]*"
# What the text is read as; a word is then looked up in the catalog's names and aliases.
_TOKENS = re.compile(f"(?P<uuid>{_UUID})|(?P<number>{_NUMBER})|(?P<word>{_WORD})")
_FIRST_WORD = re.compile(_WORD)
# Not preceded by a letter, not followed by a lower-case one: "errorCode" and "FAILED" count,
# "delivered" and "birdseed" do not.
_ALERT_WORDS = re.compile(
    r"(?<![A-Za-z])(?i:fail(?:s|ed|ing|ures?)?|errors?|codes?|(?:message)?bird|status(?:es)?|deliver(?:y|ies)"
    r"|undeliver(?:ed|able)|sending|rejected|alerts?|alerting|firing)(?![a-z])"
)
# What precedes an issue, pull-request or ticket number: "#15011", "PROJ-15011".
_REFERENCE = re.compile(r"(?:#|(?<![0-9A-Za-z_])[A-Za-z][A-Za-z0-9]*-)$")
# The last of these before a UUID says what the UUID identifies.
_ID_LABELS = re.compile(
    r"(message|msg)|trace|request|span|correlation|channel|workspace|contact|conversation|connector"
    r"|session|event|order|user|account|template",
    re.IGNORECASE,
)

# Reading every token in Python costs ~0.2 ms per KB, and almost every token is a word or a
# number that changes nothing. So searches in C first find the few tokens that can change the
# result (_places), and tokens are read only around those: from the start of the run of token
# characters holding one, until past it and past the 40 characters in which a source's code
# may follow. No token contains a character outside _TOKEN_CHARS, so tokenizing from just
# after such a character yields exactly the tokens that tokenizing the whole text does.
_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "_-")
_LAST_BREAK = re.compile(r".*[^0-9A-Za-z_-]", re.DOTALL)
# The searches start with a literal character so that sre skips ahead to it in C: a pattern
# that may start with any of several characters is tested at every position, ~10x slower.
# Where _ID_LABELS may find a message label (only "m" and "M" match an "m" ignoring case).
_MESSAGE_LABELS = (re.compile("m(?i:essage|sg)"), re.compile("M(?i:essage|sg)"))
# A UUID's first "-", 8 characters after its start.
_UUID_DASH = re.compile(r"-(?<=[0-9a-fA-F]{8}-)(?=(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})")
_UUID_CHARS = 36
# Codes, names and source aliases are found as whole words in the text folded to one byte per
# character: word characters lower-cased, any other character (a word break) NUL.
_WORD_BYTES = (string.ascii_letters + string.digits + "_").encode()
_FOLD = bytes(ord(chr(byte).lower()) if byte in _WORD_BYTES else 0 for byte in range(256))


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


def scan(
    catalog: Catalog, text: str, *, from_integration: bool, limit: int = MAX_HITS, rule: Rule = "asked"
) -> list[Hit]:
    """Distinct hits in ``text`` in order of first appearance, at most ``limit``, by ``rule``."""
    text = text[:MAX_TEXT_CHARS]
    reader = _Reader(catalog, text, from_integration, limit, rule)
    for place in _places(_words(catalog), text):
        if reader.full:
            break
        reader.read_around(place)
    return list(reader.hits.values())


def _places(words: re.Pattern[bytes] | None, text: str) -> list[int]:
    """Positions, in text order, in or at the start of every token that can change the result."""
    places = _uuids_to_read(text)
    if words is not None:
        # "replace" encodes each non-ASCII character as one byte, so offsets carry over; after
        # the leading NUL, the offset of the NUL before a word is the word's offset in the text.
        folded = b"\0" + text.encode("ascii", "replace").translate(_FOLD)
        places += [match.start() for match in words.finditer(folded)]
    places.sort()
    return places


def _uuids_to_read(text: str) -> list[int]:
    """Where the UUIDs that can change the result start. A UUID is a message id only if a message
    label starts in the 30 characters before it, and only a UUID ending in those 30 characters
    can change that (through ``last_uuid_end``); reading any other UUID changes nothing."""
    labels = sorted(label.start() for pattern in _MESSAGE_LABELS for label in pattern.finditer(text))
    if not labels:
        return []
    uuids = [dash.start() - 8 for dash in _UUID_DASH.finditer(text)]
    starts: list[int] = []
    taken = 0  # uuids[:taken] are in starts or too early to matter
    for label in labels:
        first = max(bisect_left(uuids, label - LABEL_CHARS - _UUID_CHARS), taken)
        taken = bisect_right(uuids, label + LABEL_CHARS)
        starts += uuids[first:taken]
    return starts


class _Reader:
    """Reads tokens in text order, only around the places it is given, and collects the hits."""

    def __init__(self, catalog: Catalog, text: str, from_integration: bool, limit: int, rule: Rule) -> None:
        self.catalog, self.text, self.from_integration, self.limit = catalog, text, from_integration, limit
        self.aliases = _aliases(catalog)
        self.hits: dict[tuple[str, str], Hit] = {}
        self.read_until = 0  # tokens starting before this have been read, or cannot change anything
        self.pending_source: tuple[FailureSource, int] | None = None  # a source still waiting for its code
        self.pending_named = True  # whether that source was clearly named (always, when asked)
        self.unasked = rule != "asked"
        # Whether what needs Bird context may count: always, unless the rule asks for context.
        self.in_context = rule != "bird_context" or bird_context.has_bird_context(catalog, text)
        self.last_uuid_end = self.skip_until = 0

    @property
    def full(self) -> bool:
        return len(self.hits) >= self.limit

    def read_around(self, place: int) -> None:
        """Read from the start of the run holding ``place`` until past it and past any pending source."""
        if place < self.read_until:
            return
        position = _run_start(self.text, place, self.read_until)
        while not self.full and (match := _TOKENS.search(self.text, position)) is not None:
            self._read(match)
            position = match.end()
            if position > place and not self._awaiting_code(position):
                self.read_until = position
                return
        self.read_until = len(self.text)

    def _awaiting_code(self, position: int) -> bool:
        """Whether a number at ``position`` or later could still pair with the pending source."""
        return self.pending_source is not None and position - self.pending_source[1] <= PAIR_GAP_CHARS

    def _read(self, match: re.Match[str]) -> None:
        if match.start() < self.skip_until:
            return
        kind, token = match.lastgroup, match.group()
        hit: Hit | None = None
        if kind == "number":
            hit = self._number(match, token)
        elif kind == "word":
            hit = self._word(match, token)
        elif kind == "uuid":
            before = self.text[max(self.last_uuid_end, match.start() - LABEL_CHARS) : match.start()]
            if self.in_context and _labelled_as_message(before):
                hit = Hit("message_id", token.lower(), token.lower())
            self.last_uuid_end = match.end()
        if hit is not None:
            self.hits.setdefault((hit.kind, hit.key), hit)

    def _number(self, match: re.Match[str], token: str) -> Hit | None:
        hit = None
        pending = self.pending_source
        if pending is not None and match.start() - pending[1] <= PAIR_GAP_CHARS and self.pending_named:
            hit = None if self._figure(match, after_source=True) else _platform_hit(self.catalog, pending[0], token)
        self.pending_source = None
        if hit is None and len(token) == 5 and token.isdigit():
            code = self.catalog.codes.get(int(token))
            if code is not None and self.unasked and (not self.in_context or self._figure(match)):
                return None
            # "PR #15011" and "PROJ-15011" are references, not codes, unless an alert word is near.
            counts = self.from_integration and not _REFERENCE.search(
                self.text, max(0, match.start() - 24), match.start()
            )
            hit = _code_hit(code, self.text, match, counts)
        return hit

    def _figure(self, match: re.Match[str], *, after_source: bool = False) -> bool:
        """Whether an unasked scan must read the number as a figure rather than a code."""
        return self.unasked and bird_context.reads_as_figure(
            self.catalog, self.text, match.start(), match.end(), after_source=after_source
        )

    def _word(self, match: re.Match[str], token: str) -> Hit | None:
        name = self.catalog.codes_by_name.get(token.upper())
        if name is not None and self.unasked and not self.in_context and not bird_context.distinctive_name(token):
            return None  # INVALID_INPUT or EXPIRED alone could come from any system
        if name is not None and "_" in token:
            return _code_hit(name, self.text, match, counts_anywhere=True)
        if name is not None:
            # A one-word name reads as an ordinary word unless written as an identifier.
            return _code_hit(name if token.isupper() else None, self.text, match, self.from_integration)
        if self.aliases is not None and token.lower() in self.aliases.first_words:
            source, alias_end = _source_at(self.catalog, self.aliases, self.text, match.start())
            if source is not None:
                self.pending_source, self.skip_until = (source, alias_end), alias_end
                self.pending_named = not self.unasked or self._names_a_source(match.start(), alias_end)
        return None

    def _names_a_source(self, start: int, end: int) -> bool:
        """Whether the alias at ``start`` clearly names a failure source in an unasked scan, in Bird
        context: a brand ("whatsapp", "sms-messagebird") does; an ordinary word ("line", "wa") only
        when labelled as a source, or in capitals ("LINE") near an alert word."""
        alias = self.text[start:end]
        if not self.in_context:
            return False
        if bird_context.brand_alias(alias) or bird_context.labelled_as_source(self.text, start):
            return True
        return alias.isupper() and _near_alert_word(self.text, start, end)


def _run_start(text: str, place: int, floor: int) -> int:
    """Where the run of token characters holding ``place`` starts, or ``floor`` if that is later."""
    if place <= floor or text[place - 1] not in _TOKEN_CHARS:
        return max(place, floor)
    last_break = _LAST_BREAK.match(text, floor, place)
    return floor if last_break is None else last_break.end()


def _code_hit(code: FailureCode | None, text: str, match: re.Match[str], counts_anywhere: bool) -> Hit | None:
    if code is None or not (counts_anywhere or _near_alert_word(text, match.start(), match.end())):
        return None
    return Hit("code", str(code.code), str(code.code))


def _source_at(catalog: Catalog, aliases: _Aliases, text: str, start: int) -> tuple[FailureSource | None, int]:
    """The source whose alias starts at ``start``, and where that alias ends."""
    alias = aliases.pattern.match(text, start)
    if alias is None:
        return None, start
    return catalog.sources_by_alias.get(alias.group().lower()), alias.end()


def _platform_hit(catalog: Catalog, source: FailureSource, number: str) -> Hit | None:
    if catalog.platform_code_for(source, number) is None:
        return None
    return Hit("platform_code", f"{source.name}:{number}", f"{source.name} {number}")


def _near_alert_word(text: str, start: int, end: int) -> bool:
    # The token itself is a number or a name, so only the text around it is searched.
    before = _ALERT_WORDS.search(text, max(start - CONTEXT_CHARS, 0), start)
    return before is not None or _ALERT_WORDS.search(text, end, end + CONTEXT_CHARS) is not None


def _labelled_as_message(before: str) -> bool:
    labels = _ID_LABELS.findall(before)
    return bool(labels) and bool(labels[-1])


@lru_cache(maxsize=8)
def _aliases(catalog: Catalog) -> _Aliases | None:
    """Compiled once per catalog; None when no source has a code table to look codes up in."""
    aliases = [alias for alias, source in catalog.sources_by_alias.items() if catalog.tables_for(source)]
    first_words = {m.group().lower() for m in map(_FIRST_WORD.match, aliases) if m is not None}
    if not first_words:
        return None
    # Longest first, so "whatsapp-cloud" wins over "whatsapp".
    alternation = "|".join(re.escape(alias) for alias in sorted(aliases, key=len, reverse=True))
    pattern = re.compile(f"(?:{alternation})(?![0-9A-Za-z_])", re.IGNORECASE | re.ASCII)
    return _Aliases(frozenset(first_words), pattern)


@lru_cache(maxsize=8)
def _words(catalog: Catalog) -> re.Pattern[bytes] | None:
    """Finds, in the folded text, every token besides UUIDs that can change the result: each
    is a whole word there (a known code, a code name, or the first word of an alias of a
    source with a code table). Compiled once per catalog; None when there is no such word."""
    words = {str(code) for code in catalog.codes} | {name.lower() for name in catalog.codes_by_name}
    aliases = _aliases(catalog)
    if aliases is not None:
        words |= aliases.first_words
    if not words:
        return None
    return re.compile(b"\\0" + _render(_trie(words)).encode("ascii") + rb"(?![0-9a-z_])")


_Trie = dict[str, "_Trie"]


def _trie(words: Iterable[str]) -> _Trie:
    """``words`` as nested dicts, one level per character; "" marks where a word ends."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return root


def _render(node: _Trie) -> str:
    """A regex for the words under ``node``: factored so, sre rejects a mismatch after one
    comparison per character instead of trying every word in turn (~4x faster here)."""
    branches = [re.escape(char) + _render(child) for char, child in sorted(node.items()) if char]
    if "" in node:
        branches.append("")
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"

"""When a number in an alert nobody asked about is a Bird failure code, and when it is a figure.

On-call channels are full of five-digit numbers: error counts, latencies, ports, build numbers,
line numbers, pod names. Bird's codes (11001-15016) collide with all of them, so the scanner's
unasked rules (``scan(..., rule="bird_context")``) use two tests from here:

- ``has_bird_context``: the message is about Bird at all. It mentions Bird or MessageBird
  (``bird.com``, ``MessageBird``, ``sms-messagebird``), a Bird status written as one
  (``delivery_failed``), a distinctive failure code name (``INVALID_SPAM``; generic names such as
  ``INVALID_INPUT`` are used by other systems too), the failure object (``failure.code``,
  ``failure code``, ``failureCode``, ``failure.source``), or a Channels API message path
  (``/workspaces/<id>/channels/<id>/messages/``). Platform names alone (``whatsapp``,
  ``instagram``) are not Bird context: teams mention them for their own integrations too.
- ``reads_as_figure``: the words and characters around a number say it counts or names
  something else: a quantity, a metric sample's value, a count in a tally of outcomes, a port, a
  path, a reference, part of a name, a line number or a version. Each rule looks only at the few
  characters beside the number (a tally, at its line).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .loader import Catalog

# Code names no other system is likely to use. The other names (INVALID_INPUT, NETWORK_TIMEOUT,
# UNSUPPORTED_MEDIA_TYPE, ...) read as Bird's only in a message that is about Bird already.
DISTINCTIVE_NAMES = frozenset(
    {
        "INVALID_SPAM",
        "INVALID_CHANNEL_CONFIGURATION",
        "INVALID_SESSION_WINDOW",
        "INVALID_BLOCKED_CHANNEL",
        "FAILURE_SUBSCRIBER",
        "FAILURE_ROUTING",
        "FAILURE_POLICY",
        "FAILURE_ENTITY_PROCESSING",
        "FAILURE_MESSAGE_BOUNCED",
        "OPTEDOUT_RECEIVER",
        "BILLING_FALIURE",
    }
)
# Source aliases that name a messaging platform and nothing else. Any other alias ("line", "wa",
# "sms", "apple", "voice") is an ordinary word that must be labelled as a source to count.
BRAND_ALIASES = frozenset({"whatsapp", "facebook", "instagram", "imessage"})

_UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
# What makes a message about Bird, besides the catalog's status and code names.
_BIRD_SIGNALS = (
    r"(?<![A-Za-z])(?i:message)?(?i:bird)(?![a-z])"  # Bird, MessageBird, api.bird.com, birdMessageId
    r"|(?<![A-Za-z])(?i:failure)[ ._-]?(?i:code|source)(?![a-z])"  # failure.code, failure code, failureCode
    r'|"failure"\s*:\s*\{'
    rf"|/workspaces/{_UUID}/channels/{_UUID}/messages/"
)

# Before a number: "label:" glued to it. A host, file or name before the colon makes a port or a
# line number (10.1.2.3:15011, app.py:15011, redis:15011); a code label makes a code (code:15011).
_GLUED_LABEL = re.compile(r"([0-9A-Za-z_.\-\]]+):$")
_STRONG_CODE_LABELS = frozenset({"err", "error", "errno", "failure", "reason"})  # these outweigh the words after
_CODE_LABELS = frozenset({"code", "err", "error", "errno", "failure", "reason", "status", "bird", "messagebird"})
# A word (with dots and underscores: latency_ms, failure.code) and up to three separators before.
_WORD_BEFORE = re.compile(r"(?<![A-Za-z0-9])([0-9]*[A-Za-z][A-Za-z0-9_.]*)([^A-Za-z0-9]{0,3})$")
_TWO_WORDS_BEFORE = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_.]*)[^A-Za-z0-9]{1,3}([A-Za-z][A-Za-z0-9_.]*)[^A-Za-z0-9]{0,3}$"
)
# A line that is only a title (a Slack field's "*Failed messages*"), whose last word labels the next line.
_TITLE_LINE = re.compile(r"(?:^|\n)[^A-Za-z0-9\n]*[A-Za-z][A-Za-z0-9_. ]*[^A-Za-z0-9\n]*$")
_NUMBER_BEFORE = re.compile(r"(?<![0-9A-Za-z.:_-])([0-9]+)[ \t]+$")
_WORD_AFTER = re.compile(r"[ \t]{0,2}([A-Za-z][A-Za-z/]*)(?![A-Za-z0-9])(?:[ \t]+([A-Za-z][A-Za-z/]*)(?![A-Za-z0-9]))?")
_PERIOD_AFTER = re.compile(
    r"\s+(?:in|over|during|within|for)\s+(?:the\s+)?(?:last|past\b|[0-9]+\s*(?:s|m|h|d|sec|min|mins|minutes?|hours?|days?)\b)"
    r"|\s+(?:per|of|out)\b",
    re.I,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words after which a number names or counts something: references, positions, quantities.
_REFERENCE_WORDS = _word_set(
    "build job run pipeline workflow issue incident inc ticket pr mr pull change changeset commit deploy "
    "deployment release version ver rev revision attempt task step case bug story epic sprint line ln "
    "lineno col column row port pid tid uid gid page offset id order invoice customer user account item "
    "node shard partition replica worker pod process thread batch seq sequence txn transaction index idx "
    "number num nr no room ext extension host tag image sha check test suite spec trial sdk"
)
_QUANTITY_WORDS = _word_set(
    "depth count total value val threshold size length len latency duration took elapsed avg average "
    "mean median max min sum p50 p75 p90 p95 p99 p999 rate backlog queue lag pending used free limit usage "
    "memory mem heap rss cpu disk over above below under exceeded exceeds exceed reached approx "
    "approximately about around nearly only just than of by to from at qty quantity amount volume "
    "throughput score budget quota remaining left timeout ttl interval delay wait sleep expires age "
    "uptime x n hit hits got saw seen increased decreased rose fell dropped spiked up down sent delivered "
    "received processed queued accepted read opened clicked balance cost spend price"
)
# Plural nouns before a number that make it a count ("errors: 15011", "failed messages 15011"). Other
# plurals before a number say nothing ("for order A-77 & friends: 14001").
_COUNT_NOUNS = _word_set(
    "errors failures messages msgs requests reqs events items records rows jobs tasks retries attempts calls "
    "users pods connections conns timeouts responses sessions queries packets files bytes lines tests builds "
    "deliveries sends notifications emails alerts incidents hits drops entries objects keys documents docs "
    "orders customers accounts clients workers threads processes restarts crashes exceptions warnings "
    "samples points datapoints series spans traces logs 5xx 4xx"
)
# Linking words: look one word further back ("code is 15011", "queue depth is 15004").
_LINKING_WORDS = _word_set("is was are were now currently still")
_UNITS = _word_set(
    "ms s sec secs second m min mins minute h hr hrs hour d day w wk week b kb mb gb tb kib mib gib "
    "bytes byte percent pct rps qps rpm tps ops req/s msg/s x times usd eur gbp k"
)
# Past participles that make the number before them a count: "15011 sent, 14002 delivered".
_COUNTED = _word_set(
    "sent delivered received processed queued accepted read opened clicked retried dropped pending waiting "
    "remaining outstanding left"
)
# Words between a number and what it counts: "15011 failed messages", "15011 new errors".
_COUNT_ADJECTIVES = _word_set(
    "failed new more fewer total unique pending open active dropped queued stuck undelivered delivered "
    "rejected other additional consecutive slow retried bad outbound inbound incoming outgoing error "
    "failure delivery send webhook http api sms whatsapp email push 5xx 4xx timed"
)
# Words ending in "s" that are not plural nouns, verbs included ("what 15011 means", "15011 keeps coming").
_NOT_PLURAL = _word_set(
    "is was has does this its as us yes status codes reasons since across less means happens shows says "
    "returns keeps comes goes looks seems appears fails occurs persists gets indicates refers stands"
)


def has_bird_context(catalog: Catalog, text: str) -> bool:
    """Whether ``text`` is about Bird, by the signals in this module's docstring."""
    # The full pattern starts with lookbehinds, so sre would try it at every position (~50 ms on
    # 100 KB of "<"). A search for the signals' literal cores in the ASCII-folded text (one byte per
    # character, so offsets carry over) skips ahead in C; only its few finds are checked in full.
    anchors, pattern = _context_patterns(catalog)
    folded = text.encode("ascii", "replace").lower()
    for anchor in anchors.finditer(folded):
        start = anchor.start()
        # A signal starts at its core, or at "message" just before "bird".
        if pattern.match(text, start) or (start >= _MESSAGE and pattern.match(text, start - _MESSAGE)):
            return True
    return False


_MESSAGE = len("message")


def distinctive_name(token: str) -> bool:
    """Whether a code name reads as Bird's wherever it appears."""
    return token.upper() in DISTINCTIVE_NAMES


def brand_alias(alias: str) -> bool:
    """Whether a source alias names a platform unambiguously: a brand, or several words (sms-messagebird)."""
    folded = alias.lower()
    return folded in BRAND_ALIASES or any(char in folded for char in "- ")


_SOURCE_LABEL = re.compile(
    r"(?<![A-Za-z])(?i:source|platform)(?:[._ ]?(?i:name))?[^A-Za-z0-9]{0,8}(?:(?i:name)[^A-Za-z0-9]{0,6})?$"
)


def labelled_as_source(text: str, start: int) -> bool:
    """Whether the word at ``start`` is labelled as a source: ``source: line``, ``"source":{"name":"line"``,
    ``failure.source.name=line``, or a Slack field titled Source."""
    return _SOURCE_LABEL.search(text, max(0, start - 32), start) is not None


def reads_as_figure(catalog: Catalog, text: str, start: int, end: int, *, after_source: bool = False) -> bool:
    """Whether the number at ``text[start:end]`` counts, locates or names something rather than
    being a failure code: quantities, ports, paths, references, name parts, line numbers, versions.
    A platform code ``after_source`` follows its source's name, so the word before it says nothing
    ("LINE 429" is not a line number)."""
    before, after = text[max(0, start - 48) : start], text[end : end + 48]
    if _glued(before, after) or _unit_after(after) or _sample_value(before) or _tally(text, start, before):
        return True
    if not after_source and _labelled_as_code(before):
        return False  # "failure code 14002 in the last hour": the label outweighs the weaker signs
    return _word_after_says_figure(after) or (not after_source and _word_before_says_figure(before, catalog))


def _unit_after(after: str) -> bool:
    """The word right after the number says what it counts or measures: "15011 errors", "15011 ms"."""
    words = _WORD_AFTER.match(after)
    return words is not None and not _times_count(after) and _counts(words.group(1))


# "15011 x 340": the number is what was counted, 340 times; "15011 x" alone is 15011 times.
_TIMES_COUNT = re.compile(r"[ \t]{0,2}[xX][ \t]*[0-9]")


def _times_count(after: str) -> bool:
    return _TIMES_COUNT.match(after) is not None


# A metric sample's value: Grafana's "Value: A=15011, C=1" (its expressions' reference ids), and
# Prometheus' exposition format, a label set then the value: bird_messages_total{status="x"} 15011.
_SAMPLE_VALUE = re.compile(
    r"(?i:values?)[ \t]*:[ \t]*(?:[A-Z][0-9]*=[^\s,]*,[ \t]*)*[A-Z][0-9]*=$"
    r'|[A-Za-z_][A-Za-z0-9_]*="[^"\n]*"[ \t]*\}[ \t]+$'
)


def _sample_value(before: str) -> bool:
    return _SAMPLE_VALUE.search(before) is not None


# A tally of outcomes on one line: "Sent: 120433 · Delivered: 105422 · Failed: 15011". There an
# outcome word before a number labels a count, where alone ("failed: 15011") it may label a code.
_OUTCOME_LABEL = re.compile(r"(?<![A-Za-z])(?i:failed|undelivered|rejected|bounced|expired|errored)[ \t]*[:=][ \t]*$")
_TALLY_ENTRY = re.compile(
    r"(?<![A-Za-z])(?i:sent|delivered|received|processed|queued|accepted|read|total|succeeded|pending)"
    r"[ \t]*[:=][ \t]*[0-9]"
)


def _tally(text: str, start: int, before: str) -> bool:
    if _OUTCOME_LABEL.search(before) is None:
        return False
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    return _TALLY_ENTRY.search(line) is not None


def _labelled_as_code(before: str) -> bool:
    word = _WORD_BEFORE.search(before)
    if word is None or "\n" in word.group(2):
        return False
    label = _last_part(word.group(1))
    return label.endswith("code") or label in _STRONG_CODE_LABELS


def _glued(before: str, after: str) -> bool:
    """Characters touching the number: /orders/15011, #15006, api-7d9f-15005, > 12002, 10.1.2.3:15011,
    15011:12, 15011/tcp, 15011.log, 15011-abc, 15011%, sshd[15011]."""
    previous = before[-1:]
    if previous and previous in "/#@$€£¥~^-+\\=&?":
        return previous != "=" or _query_string(before)
    if re.search(r"[<>≥≤≈±~]=?[ \t]*$|}[ \t]*[=:][ \t]*$", before):
        return True  # a comparison, or the value of a metric query: sum:x{service:a} = 15011
    if previous == ":":
        label = _GLUED_LABEL.search(before)
        if label is not None and not _is_code_label(label.group(1)):
            return True
    if previous == "[" and re.search(r"[A-Za-z0-9_]\[$", before):
        return True
    return re.match(r"[:/.][0-9A-Za-z]|-[A-Za-z]|\s*%", after) is not None


def _query_string(before: str) -> bool:
    """``?id=15011`` and ``&page=15011`` are parts of a URL; ``code=15011`` is not."""
    return re.search(r"[?&][A-Za-z0-9_.\-\[\]]*=$", before) is not None


def _is_code_label(label: str) -> bool:
    last = re.split(r"[._\-]", label.lower())[-1]
    return last in _CODE_LABELS or last.endswith("code")


def _word_before_says_figure(before: str, catalog: Catalog) -> bool:
    number = _NUMBER_BEFORE.search(before)
    if number is not None and int(number.group(1)) not in catalog.codes:
        return True  # a run of figures: `"GET / HTTP/1.1" 200 15011`
    two = _TWO_WORDS_BEFORE.search(before)
    one = _WORD_BEFORE.search(before)
    if one is None:
        return False
    if "\n" in one.group(2) and not _TITLE_LINE.search(before, 0, one.end(1)):
        return False  # the line above is not a title: a table header or a sentence says nothing here
    word = one.group(1)
    if _last_part(word) in _LINKING_WORDS and two is not None:
        word = two.group(1)
    nearest = _last_part(word)
    if _is_code_label(nearest) or nearest in ("codes", "with"):
        return False
    # A unit names a figure as the end of a key (latency_ms=15011), not as a word ("last hour: 15011");
    # a metric's name does by any of its parts (bird.messages.failed = 15011).
    if re.search(r"[A-Za-z0-9][._][A-Za-z]", word):
        parts = set(re.split(r"[._]", word.lower()))
        if parts & (_UNITS | _COUNT_NOUNS | _QUANTITY_WORDS):
            return True
    return any(nearest in words for words in (_REFERENCE_WORDS, _QUANTITY_WORDS, _COUNT_NOUNS))


def _word_after_says_figure(after: str) -> bool:
    if _PERIOD_AFTER.match(after):
        return True
    words = _WORD_AFTER.match(after)
    if words is None or _times_count(after):
        return False
    first = words.group(1)
    if _counts(first):
        return True
    second = words.group(2)
    return first.lower() in _COUNT_ADJECTIVES and second is not None and _counts(second)


def _counts(word: str) -> bool:
    """Whether a word after a number says what the number counts or measures."""
    if "_" in word or (word.isupper() and len(word) > 3):
        return False  # INVALID_SPAM, FAILED: names and shouted labels, not units
    folded = word.lower()
    return folded in _UNITS or folded in _COUNTED or _plural(folded) or "/" in folded  # msg/min, req/s


def _last_part(word: str) -> str:
    return re.split(r"[._]", word.lower().strip("._"))[-1]


def _plural(word: str) -> bool:
    return (
        len(word) >= 4
        and word.endswith("s")
        and not word.endswith(("ss", "us", "is"))
        and word not in _NOT_PLURAL
        and word.isalpha()
    )


@lru_cache(maxsize=8)
def _context_patterns(catalog: Catalog) -> tuple[re.Pattern[bytes], re.Pattern[str]]:
    """The literal cores of the signals (for folded text) and the signals in full: the fixed ones, the
    catalog's status names written as identifiers and distinctive code names."""
    statuses = [status for status in catalog.statuses if "_" in status]
    names = [name for name in catalog.codes_by_name if name in DISTINCTIVE_NAMES]
    words = sorted({*statuses, *names}, key=len, reverse=True)
    specific = "|".join(re.escape(word) for word in words)
    full = _BIRD_SIGNALS + (rf"|(?<![0-9A-Za-z_])(?i:{specific})(?![0-9A-Za-z_])" if specific else "")
    cores = ["bird", "failure", '"failure"', "/workspaces/", *(word.lower() for word in words)]
    anchors = "|".join(re.escape(core) for core in sorted(set(cores), key=len, reverse=True))
    return re.compile(anchors.encode("ascii")), re.compile(full)

"""Resolve what a user typed (a code, a name, a source, words, a pasted reason) to an answer.

Queries are read the way people paste them (see ``catalog.normalize``), then tried in order, most
specific first: pasted JSON, a structured reason, an exact form (a code, a family, a status, a name,
a source, a source with one of its codes; each also with labels such as ``code:`` or ``#`` around
it), codes among other words, a Bird message id, and last the words themselves, ranked. The first
form that matches decides the answer; a ranked list of one is shown as that entry's answer.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from .answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    Match,
    MatchesAnswer,
    MessageIdAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    StatusAnswer,
    UsageAnswer,
)
from .diagnosis import diagnose
from .ids import canonical_uuid
from .loader import Catalog, normalize_name
from .models import FailureCode, FailureSource, PlatformCode, Status
from .normalize import clean_query, read_letter_o
from .reason import looks_like_reason

if TYPE_CHECKING:
    from .scanner import Hit

MAX_QUERY_LENGTH = 4000
MAX_MATCHES = 5
# Free-word search reads at most this many distinct words: every entry a query can mean is named
# in far fewer, and each word costs a lookup while Slack waits (3 s) for the acknowledgement.
MAX_QUERY_WORDS = 16
EXAMPLES = [
    "15011",
    "INVALID_SPAM",
    "opted out",
    "whatsapp 131047",
    "sms-messagebird 1",
    "14xxx",
    "whatsapp",
    "delivery_failed",
    "details: unknown subscriber; reason: unknown_subscriber; code: 1",
]
_HELP_WORDS = {"help", "?", "-h", "--help", "usage"}
# Words that say nothing about which entry is meant ("what does 15011 mean", "why did we get it").
_STOPWORDS = {
    *("a", "an", "the", "of", "to", "is", "in", "on", "for", "and", "or", "my", "was", "it", "be", "with"),
    *("what", "does", "do", "did", "mean", "means", "meaning", "why", "we", "i", "us", "our", "they"),
    *("got", "get", "getting", "gets", "this", "that", "these", "are", "has", "have", "had", "how"),
    *("please", "again", "since", "when", "about", "from", "by", "at", "as", "its", "there", "all"),
}
_TOKEN = re.compile(r"[a-z0-9]+")
# ASCII digits only: str.isdigit() and \d accept "¹²³", "١٥٠١١" and "１５０１１", which int() rejects or misreads.
_DIGITS = re.compile(r"[0-9]+")
_FAMILY = re.compile(r"^([0-9]{2}) ?(?:x{3}|\*{1,3}|\.{3})$", re.IGNORECASE)
# Labels people type or paste around what they mean: "#15011", "code: 15011", "failure.code=15005",
# "E15005", "status: delivery_failed", "source: whatsapp". Stripped only for the exact forms.
_LEADING_LABELS = re.compile(
    r"^(?:(?:bird|messagebird|failure\.code|failure\.source\.name|failure\.source|source\.name|failure_?code"
    r"|error_?code|failure|errors?|err|code|source|status|no\.?|nr\.?)(?![a-z0-9_])\s*[:=#]*\s*|[#:=]+\s*"
    r"|e(?=[0-9]{5}$))+",
    re.IGNORECASE,
)
_TRAILING_LABELS = re.compile(r"\s+(?:status|code)$|[\s.,;:?!]+$", re.IGNORECASE)
_WRAPPERS = {"`": "`", '"': '"', "'": "'", "(": ")", "[": "]", "<": ">", "*": "*", "_": "_"}
# A platform code as typed after its source: "131047", "100-2018001", SMTP's "5.1.1", "#131047".
_CODE_WORD = re.compile(r"^[#(]*([0-9]+(?:-[0-9]+)?|[0-9]\.[0-9]{1,3}\.[0-9]{1,3})[)#.,;?!]*$")
_QUERY_SEPARATORS = re.compile(r"[\s:=/,]+")
# Words that may stand between a source and its code: "whatsapp error 131047", "source sms code 34".
_FILLER = {"error", "errors", "code", "codes", "err", "source", "failure", "platform", "name", "failed", "with"}
# Codes among other words: a number not glued to letters, other digits, dots or dashes ("(#131047)"),
# and SMTP enhanced status codes ("550 5.1.1 user unknown").
_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z_.-])#?([0-9]{1,7}(?:-[0-9]{1,8})?)(?![0-9A-Za-z_-]|\.[0-9])")
_SMTP_IN_TEXT = re.compile(r"(?<![0-9A-Za-z_.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?![0-9A-Za-z_]|\.[0-9])")
_UUID_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z])"
)
# What a UUID is, by the last label in the 30 characters before it ("messages/", "channel ", "trace_id=").
_UUID_LABEL = re.compile(
    r"(messages?|msg)|(channels?)|(workspaces?)|(trace|request|span|correlation|contact|conversation|connector"
    r"|session|event|order|user|account|template|project|organi[sz]ation)",
    re.IGNORECASE,
)
_UUID_LABEL_CHARS = 30
_JSON_FIELDS = {
    "status": re.compile(r'"status"\s*:\s*"([^"]{1,64})"'),
    "reason": re.compile(r'"reason"\s*:\s*"((?:[^"\\]|\\.){0,2000})"'),
    "details": re.compile(r'"details"\s*:\s*"((?:[^"\\]|\\.){0,500})"'),
    "code": re.compile(r'"failure"\s*:\s*\{[^{}]*?"code"\s*:\s*"?([0-9]{5})'),
    "source": re.compile(r'"source"\s*:\s*\{[^{}]*?"name"\s*:\s*"([^"]{1,64})"'),
    "source_code": re.compile(r'"source"\s*:\s*\{[^{}]*?"code"\s*:\s*"?#?([\w.-]{1,32})'),
}

# Field weights for word search: names and curated keywords count most.
_W_NAME, _W_KEYWORD, _W_TITLE, _W_TEXT = 4.0, 3.0, 4.0, 1.0
# The query's words in order, found in an entry: equal to the entry's own name or title (the query
# names it), equal to one of its keywords, or inside one of its phrases.
_NAME_BONUS, _KEYWORD_BONUS, _PHRASE_BONUS = 14.0, 8.0, 6.0
# Added to _KEYWORD_BONUS where the entry's name also starts with the query's words.
_HEAD_OF_NAME_BONUS = 1.0
# An entry of the platform the query names ("whatsapp rate limit") outweighs a generic one.
_NAMED_SOURCE_BOOST = 1.5
_SOURCE_WORD_WEIGHT = 0.5
# A legacy platform code (replaced by a current one) counts this much of a current code's weight.
_LEGACY_WEIGHT = 0.5
# A word read as a typo of another counts a little less than the word itself.
_CORRECTION_WEIGHT = 0.9
# _same_word is true only for equal words or for words sharing the first _STEM_PREFIX characters.
_STEM_PREFIX = 5
# Names within this similarity (difflib ratio) of a typed name are offered as "did you mean".
_NAME_TYPO_CUTOFF = 0.88
_SIMILAR_CACHE_SIZE = 10_000
# Entries within this much coverage of the best one are listed beside it.
_COVERAGE_SLACK = 0.15


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


def _same_word(query_token: str, word: str) -> bool:
    if query_token == word:
        return True
    # A cheap stem: "subscribed" finds "subscriber", "expire" finds "expired". Both words then
    # have at least _STEM_PREFIX characters and share the first _STEM_PREFIX of them.
    shorter, longer = sorted((query_token, word), key=len)
    return len(shorter) >= _STEM_PREFIX and longer.startswith(shorter[: max(_STEM_PREFIX, len(shorter) - 2)])


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _typo_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (a swap of neighbours counts one), or ``limit + 1`` once above it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _one_letter_slip(typed: str, word: str) -> bool:
    """True if ``typed`` is ``word`` with one letter added, dropped or mistyped. Two letters
    swapped ("SPMA") are two slips: such a query is offered as "did you mean", not answered."""
    if len(typed) == len(word):
        return sum(a != b for a, b in zip(typed, word, strict=True)) == 1
    return abs(len(typed) - len(word)) == 1 and _typo_distance(typed, word, 1) == 1


def _typo_limit(word: str) -> int:
    """How many slips a word of this length may carry and still be recognised."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


@dataclass
class _Document:
    match: Match
    key: str  # the entry: "code:15011", "source:whatsapp", "platform_code:whatsapp-cloud:131047"
    fields: list[tuple[float, set[str]]]
    phrases: list[str]
    names: list[str] = field(default_factory=list)  # its own name and title, as token phrases
    table: str | None = None  # a platform code's table
    weight: float = 1.0


class _Ranked(NamedTuple):
    coverage: float  # the share of the query's words the entry holds, rare words counting more
    complete: bool  # the entry holds every word
    score: float
    order: int  # the entry's place in the catalog, so that ties keep the catalog's order
    doc: _Document


class _WordIndex:
    """Inverted index: word -> the documents holding it, with the heaviest field weight it has there."""

    def __init__(self, documents: list[_Document]) -> None:
        self.documents = documents
        self._postings: dict[str, dict[int, float]] = {}
        for number, doc in enumerate(documents):
            for weight, words in doc.fields:
                for word in words:
                    posting = self._postings.setdefault(word, {})
                    posting[number] = max(weight, posting.get(number, 0.0))
        # Vocabulary words by their first _STEM_PREFIX characters, in vocabulary order: the only
        # words other than the token itself that _same_word can accept.
        self._by_prefix: dict[str, list[str]] = {}
        for word in self._postings:
            if len(word) >= _STEM_PREFIX:
                self._by_prefix.setdefault(word[:_STEM_PREFIX], []).append(word)
        # Vocabulary words by each one-letter deletion of them, to find typos without a scan.
        self._by_deletion: dict[str, list[str]] = {}
        for word in self._postings:
            if len(word) >= 4 and not word.isdigit():
                for variant in _deletions(word) | {word}:
                    self._by_deletion.setdefault(variant, []).append(word)
        self._similar: dict[str, tuple[str, ...]] = {}
        self._corrections: dict[str, tuple[str, ...]] = {}

    def _near(self, token: str) -> list[str]:
        """Vocabulary words within the typo limit of ``token`` (other than itself)."""
        limit = _typo_limit(token)
        if limit == 0:
            return []
        variants = _deletions(token) | {token}
        if limit > 1:
            variants |= {shorter for variant in _deletions(token) for shorter in _deletions(variant)}
        candidates = dict.fromkeys(word for variant in variants for word in self._by_deletion.get(variant, ()))
        return [
            word
            for word in candidates
            if word != token and word[0] == token[0] and _typo_distance(token, word, limit) <= limit
        ]

    def similar_words(self, token: str) -> tuple[str, ...]:
        """The vocabulary words ``_same_word`` accepts for ``token``, in vocabulary order."""
        if token not in self._similar:
            if len(self._similar) > _SIMILAR_CACHE_SIZE:
                self._similar.clear()
            if len(token) < _STEM_PREFIX:
                similar: tuple[str, ...] = (token,) if token in self._postings else ()
            else:
                candidates = self._by_prefix.get(token[:_STEM_PREFIX], ())
                similar = tuple(word for word in candidates if _same_word(token, word))
            self._similar[token] = similar
        return self._similar[token]

    def corrections(self, token: str) -> tuple[str, ...]:
        """What ``token`` may be a typo of, if the catalog does not use it: the vocabulary words one
        slip (two, for long words) away."""
        if token not in self._corrections:
            if len(self._corrections) > _SIMILAR_CACHE_SIZE:
                self._corrections.clear()
            found: tuple[str, ...] = ()
            if token not in self._postings and not token.isdigit() and not self.similar_words(token):
                found = tuple(self._near(token))
            self._corrections[token] = found
        return self._corrections[token]

    def rank(
        self,
        query_tokens: list[str],
        phrases: list[str],
        boost_table: frozenset[str] = frozenset(),
        min_coverage: float = 0.0,
        source_word: str | None = None,
    ) -> list[_Ranked]:
        """Every document matching at least one query word; ``phrases`` are the query's words in
        order (as typed, and with typos corrected), ``boost_table`` the tables of a named source and
        ``source_word`` the word that named it, which counts a little where an entry mentions it
        ("instagram outside window": the entry about Instagram's window)."""
        source_postings = self._postings.get(source_word, {}) if source_word else {}
        best: dict[int, dict[str, float]] = {}
        holders: dict[str, set[int]] = {}
        for token in query_tokens:
            for factor, words in ((1.0, self.similar_words(token)), (_CORRECTION_WEIGHT, self.corrections(token))):
                for word in words:
                    for number, weight in self._postings[word].items():
                        per_token = best.setdefault(number, {})
                        per_token[token] = max(weight * factor, per_token.get(token, 0.0))
                        holders.setdefault(token, set()).add(number)
        # A word few entries hold says more about which one is meant ("stop" beside "customer").
        rarity = {t: math.log(1 + len(self.documents) / (1 + len(holders.get(t, ())))) for t in query_tokens}
        total_rarity = sum(rarity[t] for t in dict.fromkeys(query_tokens))
        mean_rarity = total_rarity / len(rarity)
        distinct = len(set(query_tokens))
        ranked = []
        for number, per_token in best.items():
            coverage = sum(rarity[t] for t in per_token) / total_rarity
            if coverage < min_coverage:
                continue
            doc = self.documents[number]
            # Weighted by rarity too (relative to the query's average word), so that "not" in a
            # title counts less than "whatsapp" in a keyword.
            total = sum(w * rarity[t] for t, w in per_token.items()) / mean_rarity
            if len(per_token) == distinct:
                # Only an entry holding every word can hold the query's words as a phrase.
                total += _phrase_bonus(doc, phrases)
            total += _SOURCE_WORD_WEIGHT * source_postings.get(number, 0.0)
            weight = doc.weight * (_NAMED_SOURCE_BOOST if doc.table in boost_table else 1.0)
            ranked.append(_Ranked(coverage, len(per_token) == distinct, total * weight, number, doc))
        return ranked


def _phrase_bonus(doc: _Document, phrases: list[str]) -> float:
    bonus = 0.0
    for phrase in phrases:
        words = phrase.count(" ") + 1
        if phrase in doc.names:
            bonus = max(bonus, _NAME_BONUS)
        elif phrase in doc.phrases:
            bonus = max(bonus, _KEYWORD_BONUS if words > 1 else _PHRASE_BONUS / 2)
            if words > 1 and any(name.startswith(phrase + " ") for name in doc.names):
                # A name that starts with the query's words names the thing itself ("rate limit
                # hit"); one with words before them names a kind of it ("app rate limit reached").
                bonus = max(bonus, _KEYWORD_BONUS + _HEAD_OF_NAME_BONUS)
        elif words > 1 and any(_in_order(phrase.split(), p.split()) for p in doc.phrases):
            # The words in the same order, perhaps with others between: "outside 24 hour window"
            # in "outside the 24-hour session window".
            bonus = max(bonus, _PHRASE_BONUS)
    return bonus


def _in_order(words: list[str], phrase: list[str]) -> bool:
    """True if ``words`` occur in ``phrase`` in this order, other words allowed between them."""
    remaining = iter(phrase)
    return all(word in remaining for word in words)


@dataclass(frozen=True)
class _NamedSource:
    """A failure source named in a query, and how the query spelt it."""

    source: FailureSource
    typed: str

    def note(self) -> str | None:
        """How the query was read, unless it spelt the source right (in any case and spacing)."""
        spellings = {_alias_key(alias) for alias in (self.source.name, *self.source.aliases)}
        typed = _alias_key(self.typed)
        if typed in spellings or all(word in spellings for word in typed.split("-")):
            return None
        return f"Read “{self.typed}” as the source {self.source.name}."


_INDEXES: weakref.WeakKeyDictionary[Catalog, _WordIndex] = weakref.WeakKeyDictionary()


@dataclass
class Explainer:
    """Answers queries against one catalog; build once, ask many times."""

    catalog: Catalog
    _names: dict[str, Match] = field(init=False)

    def __post_init__(self) -> None:
        self._names = {}
        for code in self.catalog.data.codes:
            for name in (code.name, *code.aliases):
                self._names[name] = self._code_match(code)
        for source in self.catalog.data.sources:
            for alias in (source.name, *source.aliases):
                self._names[normalize_name(alias)] = self._source_match(source)
        self._statuses = {status.name.replace("_", ""): status for status in self.catalog.data.statuses}
        # Source aliases as one hyphenated word: "sms messagebird" and "sms_messagebird" are sms-messagebird.
        self._aliases = {_alias_key(a): s for a, s in self.catalog.sources_by_alias.items()}
        self._typo_aliases = [a for a in self._aliases if len(a) >= 5]
        # Platform codes by their number alone, for queries that name no source: exact, and by
        # the code or subcode of Messenger's "code-subcode" entries.
        self._by_number: dict[str, list[PlatformCode]] = {}
        self._by_part: dict[str, list[PlatformCode]] = {}
        for entry in self.catalog.data.platform_codes:
            self._by_number.setdefault(entry.code, []).append(entry)
            number, dash, subcode = entry.code.partition("-")
            if dash:
                self._by_part.setdefault(number, []).append(entry)
                self._by_part.setdefault(subcode, []).append(entry)
        self._sources_with_tables = [s for s in self.catalog.data.sources if self.catalog.tables_for(s)]

    @property
    def _index(self) -> _WordIndex:
        # The index depends on the catalog alone: explainers of one catalog share it (and its caches).
        # Built on first use: an exact code, name or source needs none, and ``birdwatch explain 15011``
        # makes an Explainer for one query.
        index = _INDEXES.get(self.catalog)
        if index is None:
            index = _INDEXES[self.catalog] = _WordIndex(self._build_documents())
        return index

    # -- public -------------------------------------------------------------------------------

    def explain(self, query: str) -> Answer:
        """The answer for one query, typed or pasted; never raises, whatever the text."""
        text = " ".join(clean_query(query[:MAX_QUERY_LENGTH]).split())
        if not text or text.lower() in _HELP_WORDS:
            return UsageAnswer(examples=EXAMPLES)
        if (message_id := self._whole_message_id(text)) is not None:
            return message_id
        if _looks_like_json(text):
            return self._explain_json(text)
        if looks_like_reason(text):
            return DiagnosisAnswer(diagnosis=diagnose(self.catalog, reason=text))
        read, corrected = read_letter_o(text)
        note = "; ".join(f"Read “{typed}” as {digits}." for typed, digits in corrected) or None
        answer = self._exact(read) or self._in_text(read) or self._by_message_id(read) or self._statuses_in_text(read)
        if answer is not None:
            return _with_note(answer, note)
        return self._name_typo(text) or self._by_words(text) or self._not_found(text)

    # -- exact forms --------------------------------------------------------------------------

    def _exact(self, text: str) -> Answer | None:
        """The query as a whole is one thing: a code, family, status, name, source, or a source and code."""
        forms = [text]
        unwrapped = _unwrap(text)
        bare = _TRAILING_LABELS.sub("", _LEADING_LABELS.sub("", unwrapped))
        forms += [form for form in (unwrapped, bare) if form and form not in forms]
        for form in forms:
            answer = (
                self._by_number_alone(form)
                or self._by_family(form)
                or self._by_status(form)
                or self._by_name(form)
                or self._by_source_and_code(form)
            )
            if answer is not None:
                return answer
        return None

    def _by_number_alone(self, text: str) -> Answer | None:
        if not _DIGITS.fullmatch(text):
            return None
        if len(text) == 5 and int(text) in self.catalog.codes:
            return self._code_answer(self.catalog.codes[int(text)])
        hits = self._by_number.get(text, [])
        broader = False
        if not hits and len(text) >= 2:
            hits, broader = self._by_part.get(text, []), True
        if len(hits) == 1:
            note = f"The catalog has {text} only as {hits[0].code}." if broader else None
            return self._platform_answer(hits[0], note=note)
        if hits:
            return MatchesAnswer(query=text, matches=[self._platform_match(e) for e in hits])
        if len(text) == 5:
            return self._code_or_nearest(int(text))
        return NotFoundAnswer(
            query=text,
            message=f"No platform code {text} is in the catalog. Bird failure codes have five digits; "
            "for a platform's own code, name the source too, e.g. `whatsapp 131047`.",
        )

    def _code_or_nearest(self, number: int) -> Answer:
        entry = self.catalog.codes.get(number)
        if entry is not None:
            return self._code_answer(entry)
        family = self.catalog.families.get(number // 1000)
        if family is None:
            return NotFoundAnswer(
                query=str(number),
                message=f"{number} is not in the catalog, and Bird documents no {number // 1000}XXX family.",
            )
        # Neighbours only from its own family: a code from another family means something else.
        siblings = [c for c in self.catalog.data.codes if c.family_prefix == family.prefix]
        nearest = sorted(siblings, key=lambda c: (abs(c.code - number), c.code))[:3]
        return NotFoundAnswer(
            query=str(number),
            message=f"{number} is not in the catalog. Its first digits place it in {family.prefix}XXX: {family.name}.",
            family=family,
            nearest=[self._code_match(c) for c in nearest],
        )

    def _by_family(self, text: str) -> Answer | None:
        match = _FAMILY.match(text)
        if match is None:
            return None
        prefix = int(match.group(1))
        family = self.catalog.families.get(prefix)
        if family is None:
            known = ", ".join(f"{p}XXX" for p in sorted(self.catalog.families))
            return NotFoundAnswer(
                query=text, message=f"Bird documents no {prefix}XXX family; the families are {known}."
            )
        codes = [c for c in self.catalog.data.codes if c.family_prefix == prefix]
        return FamilyAnswer(family=family, codes=codes)

    def _by_status(self, text: str) -> Answer | None:
        key = re.sub(r"[\s_-]+", "", text.lower())
        status = self._statuses.get(key)
        if status is not None:
            return StatusAnswer(status=status)
        if "_" not in text and " " not in text:
            return None
        # A slip in a two-word status ("delivery_faild"); one-word statuses are ordinary words.
        close = [
            k
            for k, s in self._statuses.items()
            if "_" in s.name and key.isalpha() and k[0] == key[0] and _typo_distance(key, k, 2) <= 2
        ]
        if len(close) != 1 or len(key) < 8:
            return None
        status = self._statuses[close[0]]
        return StatusAnswer(status=status, note=f"Read “{text}” as the status {status.name}.")

    def _by_name(self, text: str) -> Answer | None:
        code = self.catalog.codes_by_name.get(normalize_name(text))
        if code is not None:
            return self._code_answer(code)
        named = self._source_named(text)
        if named is not None:
            source = named.source
            table = self.catalog.tables.get(source.code_table) if source.code_table else None
            return SourceAnswer(source=source, table=table, note=named.note())
        return None

    def _shares_a_table(self, source: FailureSource) -> bool:
        tables = set(self.catalog.tables_for(source))
        return any(
            other.name != source.name and tables & set(self.catalog.tables_for(other))
            for other in self.catalog.data.sources
        )

    def _source_named(self, text: str) -> _NamedSource | None:
        """The source ``text`` names: an alias in any spacing ("sms messagebird"), words that are all
        aliases of one source ("facebook messenger"), or an alias with a slip ("whatsap")."""
        key = _alias_key(text)
        if not key:
            return None
        source = self._aliases.get(key)
        if source is not None:
            return _NamedSource(source, text)
        words = key.split("-")
        named = {source.name: source for word in words if (source := self._aliases.get(word)) is not None}
        if len(words) > 1 and len(named) == 1 and all(word in self._aliases for word in words):
            return _NamedSource(next(iter(named.values())), text)
        limit = _typo_limit(key) if key.replace("-", "").isalpha() else 0
        if not limit:
            return None
        typo = {
            self._aliases[alias].name: self._aliases[alias]
            for alias in self._typo_aliases
            if alias[0] == key[0] and _typo_distance(key, alias, limit) <= limit
        }
        return _NamedSource(next(iter(typo.values())), text) if len(typo) == 1 else None

    def _by_source_and_code(self, text: str) -> Answer | None:
        words = [w for w in _QUERY_SEPARATORS.split(text) if w]
        codes = [m.group(1) for w in words if (m := _CODE_WORD.match(w))]
        if len(codes) != 1:
            return None
        code = codes[0]
        source_words = [w for w in words if not _CODE_WORD.match(w) and w.lower() not in _FILLER]
        if not source_words:
            return None
        named = self._source_named(" ".join(source_words))
        if named is None:
            return None
        source = named.source
        tables = self.catalog.tables_for(source)
        if not tables:
            if len(code) == 5 and _DIGITS.fullmatch(code) and int(code) in self.catalog.codes:
                return self._code_answer(self.catalog.codes[int(code)])
            return NotFoundAnswer(
                query=text,
                source=source,
                message=f"The catalog has no code table for `{source.name}`: its codes are that platform's own.",
            )
        lookup = self.catalog.platform_codes_for(source, code)
        note = named.note()
        if len(lookup.entries) == 1:
            entry = lookup.entries[0]
            if lookup.how == "without_subcode":
                subcode = code.partition("-")[2]
                fallback = f"Subcode {subcode} is not in the catalog: this is what code {entry.code} means in general."
            elif lookup.how in ("with_subcode", "by_subcode"):
                fallback = f"The catalog has {code} only as {entry.code}."
            else:
                fallback = None
            return self._platform_answer(entry, source, note=_join(note, fallback))
        if lookup.entries:
            matches = [self._platform_match(e, source) for e in lookup.entries]
            return MatchesAnswer(query=text, matches=matches, note=note)
        if len(code) == 5 and _DIGITS.fullmatch(code) and int(code) in self.catalog.codes:
            # "14005 whatsapp": a Bird code with the source it came from.
            return self._code_answer(self.catalog.codes[int(code)])
        names = ", ".join(self.catalog.tables[t].name for t in tables)
        return NotFoundAnswer(
            query=text,
            source=source,
            message=f"{names}: code {code} is not in the catalog. Check the platform's own table.",
        )

    # -- codes amid other words -----------------------------------------------------------------

    def _in_text(self, text: str) -> Answer | None:
        """Codes, names and source + platform code pairs among other words ("code 15011",
        "INVALID_SPAM 15011", "whatsapp 131047 again", "(#131047) Re-engagement message"): one is
        answered as if typed alone; several are listed first, in order of appearance, followed by
        the best word matches."""
        from .scanner import scan  # its patterns are compiled on import; exact queries never get here

        without_ids = _UUID_IN_TEXT.sub(" ", text)
        found = [
            resolved
            for hit in scan(self.catalog, without_ids, from_integration=True)
            if (resolved := self._resolve(hit))
        ]
        if not found:
            found = self._codes_in_text(without_ids)
        if not found:
            return None
        if len(found) == 1:
            return found[0][1]
        matches = [match for _, _, match in found]
        listed = {key for key, _, _ in found}
        extra = [r.doc.match for r in self._ranked(text) if r.doc.key not in listed]
        return MatchesAnswer(query=text, matches=matches + extra[: max(0, MAX_MATCHES - len(matches))])

    def _resolve(self, hit: Hit) -> tuple[str, Answer, Match] | None:
        """The entry a scanner hit names (as a _Document key), its answer and the match that opens it;
        None for message ids, which /failure does not look up."""
        if hit.kind == "code":
            code = self.catalog.codes.get(int(hit.key))
            return None if code is None else (_code_key(code), self._code_answer(code), self._code_match(code))
        if hit.kind == "platform_code":
            source_name, number = hit.key.split(":", 1)
            source = self.catalog.sources_by_alias.get(source_name.lower())
            entry = None if source is None else self.catalog.platform_code_for(source, number)
            if source is None or entry is None:
                return None
            return _platform_key(entry), self._platform_answer(entry, source), self._platform_match(entry, source)
        return None

    def _codes_in_text(self, text: str) -> list[tuple[str, Answer, Match]]:
        """What the scanner leaves to the explainer: platform codes that name their platform by
        themselves (a number that is a code in one table only, e.g. Meta's "(#131047)"), SMTP
        enhanced status codes."""
        found: dict[str, tuple[str, Answer, Match]] = {}
        # A number that is another platform's code is not this one's: "429 from whatsapp" is not LINE's 429.
        named = {s.name for word in re.findall(r"[a-z][a-z0-9-]*", text.lower()) if (s := self._aliases.get(word))}
        allowed = {t for name in named for t in self.catalog.tables_for(self.catalog.sources[name])}
        for match in _NUMBER_IN_TEXT.finditer(text):
            number = match.group(1)
            if len(number) == 5 and int(number) in self.catalog.codes:
                bird = self.catalog.codes[int(number)]
                found.setdefault(_code_key(bird), (_code_key(bird), self._code_answer(bird), self._code_match(bird)))
                continue
            entries = self._by_number.get(number, [])
            if len(number) >= 3 and len(entries) == 1 and (not named or entries[0].table in allowed):
                entry = entries[0]
                key = _platform_key(entry)
                found.setdefault(key, (key, self._platform_answer(entry), self._platform_match(entry)))
        for match in _SMTP_IN_TEXT.finditer(text):
            for source in self._sources_with_tables:
                lookup = self.catalog.platform_codes_for(source, match.group(1))
                if lookup.how == "exact" and len(lookup.entries) == 1:
                    entry = lookup.entries[0]
                    key = _platform_key(entry)
                    found.setdefault(
                        key, (key, self._platform_answer(entry, source), self._platform_match(entry, source))
                    )
                    break
        return list(found.values())

    # -- Bird message ids ---------------------------------------------------------------------------

    def _whole_message_id(self, text: str) -> MessageIdAnswer | None:
        """A query that is one id and nothing else, in any form ``/message`` accepts (braces, no hyphens)."""
        message_id = canonical_uuid(_unwrap(text))
        return None if message_id is None else MessageIdAnswer(message_id=message_id)

    def _by_message_id(self, text: str) -> MessageIdAnswer | None:
        """A Bird message id among other words or in a URL, with the channel and workspace ids
        labelled beside it ("…/workspaces/<id>/channels/<id>/messages/<id>"). UUIDs labelled as
        something else (trace, request, contact, …) are not message ids."""
        ids: dict[str, str] = {}
        unlabelled: list[str] = []
        for match in _UUID_IN_TEXT.finditer(text):
            labels = list(_UUID_LABEL.finditer(text[max(0, match.start() - _UUID_LABEL_CHARS) : match.start()]))
            value = match.group().lower()
            if not labels:
                unlabelled.append(value)
                continue
            kind = ("message", "channel", "workspace", "other")[labels[-1].lastindex - 1]  # type: ignore[operator]
            ids.setdefault(kind, value)
        message_id = ids.get("message") or (unlabelled[-1] if unlabelled else None)
        if message_id is None:
            return None
        return MessageIdAnswer(message_id=message_id, channel_id=ids.get("channel"), workspace_id=ids.get("workspace"))

    # -- pasted JSON --------------------------------------------------------------------------

    def _explain_json(self, text: str) -> Answer:
        fields = _json_fields(text)
        if not any(fields.values()):
            return UsageAnswer(
                problem="That looks like JSON, but it has no `failure`, `status` or `reason` to explain.",
                examples=EXAMPLES,
            )
        code = fields["code"]
        return DiagnosisAnswer(
            diagnosis=diagnose(
                self.catalog,
                status=fields["status"],
                code=int(code) if code and _DIGITS.fullmatch(code) else None,
                source=fields["source"],
                source_code=fields["source_code"],
                reason=fields["reason"],
                details=fields["details"],
            )
        )

    # -- free words ---------------------------------------------------------------------------

    def _name_typo(self, text: str) -> Answer | None:
        """A slip in a code's name ("unkown subscriber", "INVALID_SPMA"): offered as "did you mean",
        before word search, which would find other entries by the typo's correctly spelt half or
        by a misspelling that happens to be official (the SMS table's ``EC_UNKOWN_MSC``)."""
        name = normalize_name(text)
        if len(name) < 8 or "_" not in name:
            return None
        # Only names that could reach the cutoff: the same first letter and a similar length.
        candidates = [n for n in self.catalog.codes_by_name if n[0] == name[0] and abs(len(n) - len(name)) <= 3]
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=_NAME_TYPO_CUTOFF)
        if not close:
            return None
        code = self.catalog.codes_by_name[close[0]]
        one_slip = {self.catalog.codes_by_name[n].code for n in candidates if _one_letter_slip(name, n)}
        if one_slip == {code.code}:
            # One letter added, dropped or mistyped, and no other name is as close: the name meant
            # is clear, so it is the answer, read as such (like "15O11" and "whatsap").
            return self._code_answer(code).model_copy(update={"note": f"Read “{text}” as {close[0]}."})
        return NotFoundAnswer(query=text, message=_nothing_matches(text), did_you_mean=self._code_match(code))

    def _by_words(self, text: str) -> Answer | None:
        scored = self._ranked(text)
        if not scored:
            return None
        best = scored[0]
        if not best.complete and (typo := self._did_you_mean(text)) is not None:
            # A typo of a name: word matches on its other half ("invalid") would only be noise.
            return NotFoundAnswer(query=text, message=_nothing_matches(text), did_you_mean=typo)
        if len(scored) == 1:
            # The only entry that matches is the answer, not a list of one.
            return _with_note(self.explain(best.doc.match.query), self._corrections_note(text))
        runner_up = scored[1].score
        if best.complete and best.score >= 2 * runner_up:
            # One entry holds every word and clearly outscores the rest: it is the answer.
            return self.explain(best.doc.match.query)
        return MatchesAnswer(query=text, matches=[r.doc.match for r in scored[:MAX_MATCHES]])

    def _corrections_note(self, text: str) -> str | None:
        """How the query's misspelt words were read ("stopp" as "stop"), if any were."""
        read = []
        for token in _first_distinct(_tokens(text), MAX_QUERY_WORDS):
            corrections = self._index.corrections(token)
            if corrections:
                read.append(f"Read “{token}” as {corrections[0]}.")
        return " ".join(read) or None

    def _ranked(self, text: str) -> list[_Ranked]:
        """The entries matching most of the query's words, best first. A source named among the
        words ("whatsapp rate limit") is not itself searched for: its platform's entries count more."""
        query_tokens = _first_distinct(_tokens(text), MAX_QUERY_WORDS)
        if not query_tokens:
            return []
        boost: frozenset[str] = frozenset()
        source_word = None
        if len(query_tokens) > 1:
            for token in dict.fromkeys(query_tokens):
                named = self._source_named(token)
                rest = [t for t in query_tokens if t != token]
                if named is not None and rest and self.catalog.tables_for(named.source):
                    boost = frozenset(self.catalog.tables_for(named.source))
                    query_tokens = rest
                    # The source's name in an entry tells its entries apart only in a table other
                    # sources share ("instagram" in the Messenger table); in a table of its own, every
                    # entry is the source's, and "WhatsApp" in one name says nothing more.
                    source_word = token if self._shares_a_table(named.source) else None
                    break
        corrected = [next(iter(self._index.corrections(t)), t) for t in query_tokens]
        phrases = list(dict.fromkeys([" ".join(_tokens(text)), " ".join(query_tokens), " ".join(corrected)]))
        scored = [
            r
            # Half the words or more, and more than a passing mention in an entry's long text. A
            # status is named by all its words: "sending" alone is not sending_failed.
            for r in self._index.rank(query_tokens, phrases, boost, min_coverage=0.5, source_word=source_word)
            if r.complete or (r.score >= _W_TITLE and r.doc.match.kind != "status")
        ]
        if boost:
            # The named source's own entry is not an answer to a question about one of its errors.
            scored = [r for r in scored if not r.doc.key.startswith("source:")]
        if not scored:
            return []
        scored.sort(key=lambda r: (-r.coverage, -r.score, r.order))
        # Entries that match clearly less of the query than the best one are noise, not alternatives.
        return [r for r in scored if r.coverage >= scored[0].coverage - _COVERAGE_SLACK]

    def _not_found(self, text: str) -> NotFoundAnswer:
        return NotFoundAnswer(query=text, message=_nothing_matches(text), did_you_mean=self._did_you_mean(text))

    def _did_you_mean(self, text: str) -> Match | None:
        candidates = difflib.get_close_matches(normalize_name(text), list(self._names), n=1, cutoff=0.75)
        return self._names[candidates[0]] if candidates else None

    def _statuses_in_text(self, text: str) -> Answer | None:
        for word in re.findall(r"[a-z]+_[a-z]+", text.lower()):
            status = self._statuses.get(word.replace("_", ""))
            if status is not None:
                return StatusAnswer(status=status)
        return None

    # -- building answers ---------------------------------------------------------------------

    def _code_answer(self, code: FailureCode) -> CodeAnswer:
        return CodeAnswer(code=code, family=self.catalog.families[code.family_prefix])

    def _platform_answer(
        self, entry: PlatformCode, source: FailureSource | None = None, note: str | None = None
    ) -> PlatformCodeAnswer:
        source = source or self.catalog.first_source_of(entry.table)
        return PlatformCodeAnswer(
            entry=entry,
            table=self.catalog.tables[entry.table],
            source=source,
            usual_codes=[self.catalog.codes[c] for c in entry.usual_codes if c in self.catalog.codes],
            note=note,
        )

    def _code_match(self, code: FailureCode) -> Match:
        return Match(kind="code", query=str(code.code), label=f"{code.code} {code.name}", summary=code.title)

    def _source_match(self, source: FailureSource) -> Match:
        return Match(kind="source", query=source.name, label=f"source {source.name}", summary=source.title)

    def _status_match(self, status: Status) -> Match:
        return Match(kind="status", query=status.name, label=f"status {status.name}", summary=status.plain)

    def _platform_match(self, entry: PlatformCode, source: FailureSource | None = None) -> Match:
        source = source or self.catalog.first_source_of(entry.table)
        return Match(
            kind="platform_code",
            query=f"{source.name} {entry.code}",
            label=f"{source.name} {entry.code}",
            summary=entry.name,
        )

    def _build_documents(self) -> list[_Document]:
        documented = {source.code_table for source in self.catalog.data.sources if source.code_table}

        def phrases(texts: list[str]) -> list[str]:
            return [" ".join(_tokens(t)) for t in texts]

        docs = [
            _Document(
                match=self._code_match(code),
                key=_code_key(code),
                fields=[
                    (_W_NAME, set(_tokens(" ".join(n.replace("_", " ") for n in (code.name, *code.aliases))))),
                    (_W_KEYWORD, {t for k in code.keywords for t in _tokens(k)}),
                    (_W_TITLE, set(_tokens(code.title))),
                    (_W_TEXT, set(_tokens(" ".join([code.meaning, *code.causes])))),
                ],
                phrases=phrases([*code.keywords, code.title, code.name.replace("_", " ")]),
                names=phrases([n.replace("_", " ") for n in (code.name, *code.aliases)] + [code.title]),
            )
            for code in self.catalog.data.codes
        ]
        docs += [
            _Document(
                match=self._source_match(source),
                key=f"source:{source.name}",
                fields=[
                    (_W_NAME, set(_tokens(" ".join([source.name, *source.aliases])))),
                    (_W_KEYWORD, {t for k in source.keywords for t in _tokens(k)}),
                    (_W_TITLE, set(_tokens(source.title))),
                    (_W_TEXT, set(_tokens(source.what_failed))),
                ],
                phrases=phrases([*source.keywords, source.title]),
                names=phrases([source.name, *source.aliases, source.title]),
                weight=0.8,
            )
            for source in self.catalog.data.sources
        ]
        docs += [
            _Document(
                match=self._status_match(status),
                key=f"status:{status.name}",
                fields=[
                    (_W_NAME, set(_tokens(status.name.replace("_", " ")))),
                    (_W_TITLE, set(_tokens(status.plain))),
                    (_W_TEXT, set(_tokens(status.meaning))),
                ],
                phrases=phrases([status.name.replace("_", " "), status.plain]),
                names=phrases([status.name.replace("_", " "), status.plain]),
                weight=0.8,
            )
            for status in self.catalog.data.statuses
        ]
        docs += [
            _Document(
                match=self._platform_match(entry),
                key=_platform_key(entry),
                fields=[
                    (_W_KEYWORD, {t for k in entry.keywords for t in _tokens(k)}),
                    (_W_TITLE, set(_tokens(entry.name))),
                    (_W_TEXT, set(_tokens(" ".join([entry.meaning, *entry.causes])))),
                ],
                phrases=phrases([*entry.keywords, entry.name]),
                names=phrases([entry.name]),
                table=entry.table,
                # Bird's own codes come first when both fit equally well; then the tables Bird
                # documents a source's codes to follow, before the ones it may follow (e-mail, voice).
                # A legacy code yields to the current code that replaced it.
                weight=(0.8 if entry.table in documented else 0.65) * (_LEGACY_WEIGHT if entry.legacy else 1.0),
            )
            for entry in self.catalog.data.platform_codes
        ]
        return docs


def _code_key(code: FailureCode) -> str:
    return f"code:{code.code}"


def _platform_key(entry: PlatformCode) -> str:
    return f"platform_code:{entry.table}:{entry.code}"


def _alias_key(text: str) -> str:
    """A source alias as one lower-case hyphenated word: "SMS messagebird" -> "sms-messagebird"."""
    return re.sub(r"[\s_-]+", "-", text.strip().lower()).strip("-")


def _unwrap(text: str) -> str:
    """``text`` without quotes, backticks or brackets around the whole of it: "`15011`" -> "15011"."""
    while len(text) > 2 and _WRAPPERS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    if len(text) > 2 and text[0] == "{" and text[-1] == "}" and ":" not in text:
        text = text[1:-1].strip()
    return text


def _looks_like_json(text: str) -> bool:
    """Pasted JSON, a JSON fragment or a Python dict; not a quoted or braced word ("`15011`", "{uuid}")."""
    if '"failure"' in text or "'failure'" in text:
        return True
    return text[0] in "{[\"'" and (":" in text or text[0] == "[")


def _with_note(answer: Answer, note: str | None) -> Answer:
    if note is None or not hasattr(answer, "note"):
        return answer
    return answer.model_copy(update={"note": _join(note, answer.note)})


def _join(*notes: str | None) -> str | None:
    return " ".join(n for n in notes if n) or None


def _first_distinct(tokens: list[str], limit: int) -> list[str]:
    """``tokens`` up to (not including) the first occurrence of the ``limit + 1``-th distinct one."""
    seen: set[str] = set()
    for position, token in enumerate(tokens):
        seen.add(token)
        if len(seen) > limit:
            return tokens[:position]
    return tokens


def _nothing_matches(text: str) -> str:
    return f"Nothing in the catalog matches “{text[:200]}”."


def _json_fields(text: str) -> dict[str, str | None]:
    """Pull the failure fields out of pasted JSON: a message, a webhook, a failure object, or a fragment."""
    data = _load_json_object(text)
    if data is None:
        return {
            name: _text(_unescape(m.group(1))) if (m := rx.search(text)) else None for name, rx in _JSON_FIELDS.items()
        }
    payload = data.get("payload")
    message: dict[str, Any] = payload if isinstance(payload, dict) else data
    raw_failure = message.get("failure", message if "source" in message else None)
    from .message import Failure  # the Bird message models, for pasted JSON only

    try:
        failure = Failure.model_validate(raw_failure) if isinstance(raw_failure, dict) else None
    except ValidationError:
        failure = None
    source = failure.source if failure else None
    return {
        "status": _text(message.get("status")),
        "reason": _text(message.get("reason")),
        "details": _text(message.get("details")),
        "code": str(failure.code) if failure and failure.code is not None else None,
        "source": source.name if source else None,
        "source_code": source.code if source else None,
    }


def _load_json_object(text: str) -> dict[str, Any] | None:
    candidates = [text, "{" + text.strip().rstrip(",") + "}"]
    if '"' not in text:
        # A Python dict from a log line: {'failure': {'code': 15016}}.
        candidates += [c.replace("'", '"') for c in candidates]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _unescape(value: str) -> str:
    try:
        result = json.loads(f'"{value}"')
    except ValueError:
        return value
    return result if isinstance(result, str) else value

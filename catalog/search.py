"""Resolve what a user typed (a code, a name, a source, words, a pasted reason) to an answer."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from .answers import (
    Answer,
    CodeAnswer,
    DiagnosisAnswer,
    FamilyAnswer,
    Match,
    MatchesAnswer,
    NotFoundAnswer,
    PlatformCodeAnswer,
    SourceAnswer,
    UsageAnswer,
)
from .diagnosis import diagnose
from .loader import Catalog, normalize_name
from .models import FailureCode, FailureSource, PlatformCode
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
    "details: unknown subscriber; reason: unknown_subscriber; code: 1",
]
_HELP_WORDS = {"help", "?", "-h", "--help", "usage"}
_STOPWORDS = {"a", "an", "the", "of", "to", "is", "in", "on", "for", "and", "or", "my", "was", "it", "be", "with"}
_TOKEN = re.compile(r"[a-z0-9]+")
# ASCII digits only: str.isdigit() and \d accept "¹²³", "١٥٠١١" and "１５０１１", which int() rejects or misreads.
_DIGITS = re.compile(r"[0-9]+")
_FAMILY = re.compile(r"^([0-9]{2}) ?(?:x{3}|\*{1,3}|\.{3})$", re.IGNORECASE)
# Platform codes: "131047", Messenger's "100-2018001", SMTP enhanced status codes "5.1.1".
_PLATFORM_CODE = r"[0-9]+(?:-[0-9]+|(?:\.[0-9]+){2})?"
_SOURCE_AND_CODE = re.compile(rf"^([a-z][\w.-]*?)\s*[\s:/#]\s*({_PLATFORM_CODE})$", re.IGNORECASE)
_CODE_AND_SOURCE = re.compile(rf"^({_PLATFORM_CODE})\s+([a-z][\w.-]*)$", re.IGNORECASE)
_JSON_FIELDS = {
    "status": re.compile(r'"status"\s*:\s*"([^"]{1,64})"'),
    "reason": re.compile(r'"reason"\s*:\s*"((?:[^"\\]|\\.){0,2000})"'),
    "details": re.compile(r'"details"\s*:\s*"((?:[^"\\]|\\.){0,500})"'),
    "code": re.compile(r'"failure"\s*:\s*\{[^{}]*?"code"\s*:\s*"?([0-9]{5})'),
    "source": re.compile(r'"source"\s*:\s*\{[^{}]*?"name"\s*:\s*"([^"]{1,64})"'),
    "source_code": re.compile(r'"source"\s*:\s*\{[^{}]*?"code"\s*:\s*"?([\w-]{1,32})'),
}

# Field weights for word search: names and curated keywords count most.
_W_NAME, _W_KEYWORD, _W_TITLE, _W_TEXT = 4.0, 3.0, 2.0, 1.0
_PHRASE_BONUS = 6.0
# _same_word is true only for equal words or for words sharing the first _STEM_PREFIX characters.
_STEM_PREFIX = 5


def _tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS]


def _same_word(query_token: str, word: str) -> bool:
    if query_token == word:
        return True
    # A cheap stem: "subscribed" finds "subscriber", "expire" finds "expired". Both words then
    # have at least _STEM_PREFIX characters and share the first _STEM_PREFIX of them.
    shorter, longer = sorted((query_token, word), key=len)
    return len(shorter) >= _STEM_PREFIX and longer.startswith(shorter[: max(_STEM_PREFIX, len(shorter) - 2)])


@dataclass
class _Document:
    match: Match
    key: str  # the entry: "code:15011", "source:whatsapp", "platform_code:whatsapp-cloud:131047"
    fields: list[tuple[float, set[str]]]
    phrases: list[str]
    weight: float = 1.0


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
        self._similar: dict[str, tuple[str, ...]] = {}

    def similar_words(self, token: str) -> tuple[str, ...]:
        """The vocabulary words ``_same_word`` accepts for ``token``, in vocabulary order."""
        if token not in self._similar:
            if len(self._similar) > 10_000:
                self._similar.clear()
            if len(token) < _STEM_PREFIX:
                similar: tuple[str, ...] = (token,) if token in self._postings else ()
            else:
                candidates = self._by_prefix.get(token[:_STEM_PREFIX], ())
                similar = tuple(word for word in candidates if _same_word(token, word))
            self._similar[token] = similar
        return self._similar[token]

    def rank(self, query_tokens: list[str], phrase: str) -> list[tuple[float, float, _Document]]:
        """(coverage, score, document) for every document matching at least one query word."""
        best: dict[int, dict[str, float]] = {}
        for token in query_tokens:
            for word in self.similar_words(token):
                for number, weight in self._postings[word].items():
                    per_token = best.setdefault(number, {})
                    per_token[token] = max(weight, per_token.get(token, 0.0))
        ranked = []
        for number, per_token in best.items():
            doc = self.documents[number]
            total = sum(per_token.values())
            if len(query_tokens) > 1 and any(phrase in p for p in doc.phrases):
                total += _PHRASE_BONUS
            elif len(query_tokens) == 1 and phrase in doc.phrases:
                total += _PHRASE_BONUS / 2
            ranked.append((len(per_token) / len(query_tokens), total * doc.weight, doc))
        return ranked


@dataclass
class Explainer:
    """Answers queries against one catalog; build once, ask many times."""

    catalog: Catalog

    # The word index and the names for "did you mean" are built on first use: an exact code, name
    # or source needs neither, and ``birdwatch explain 15011`` builds an Explainer for one query.
    @cached_property
    def _index(self) -> _WordIndex:
        return _WordIndex(self._build_documents())

    @cached_property
    def _names(self) -> dict[str, Match]:
        names = {}
        for code in self.catalog.data.codes:
            for name in (code.name, *code.aliases):
                names[name] = self._code_match(code)
        for source in self.catalog.data.sources:
            for alias in (source.name, *source.aliases):
                names[alias.upper()] = self._source_match(source)
        return names

    # -- public -------------------------------------------------------------------------------

    def explain(self, query: str) -> Answer:
        text = " ".join(query[:MAX_QUERY_LENGTH].split())
        if not text or text.lower() in _HELP_WORDS:
            return UsageAnswer(examples=EXAMPLES)
        if text[0] in "{[\"'" or '"failure"' in text:
            return self._explain_json(text)
        if looks_like_reason(text):
            return DiagnosisAnswer(diagnosis=diagnose(self.catalog, reason=text))
        return (
            self._by_number(text)
            or self._by_family(text)
            or self._by_name(text)
            or self._by_source_and_code(text)
            or self._by_hits(text)
            or self._by_words(text)
            or self._not_found(text)
        )

    # -- exact forms --------------------------------------------------------------------------

    def _by_number(self, text: str) -> Answer | None:
        if not _DIGITS.fullmatch(text):
            return None
        if len(text) == 5:
            return self._code_or_nearest(int(text))
        hits = [entry for (_, code), entry in self.catalog.platform_codes.items() if code == text]
        if len(hits) == 1:
            return self._platform_answer(hits[0])
        if hits:
            return MatchesAnswer(query=text, matches=[self._platform_match(e) for e in hits])
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
        nearest = sorted(self.catalog.data.codes, key=lambda c: (abs(c.code - number), c.code))[:3]
        if family is not None:
            message = f"{number} is not in the catalog. Its first digits place it in {family.prefix}XXX: {family.name}."
        else:
            message = f"{number} is not in the catalog, and Bird documents no {number // 1000}XXX family."
        return NotFoundAnswer(
            query=str(number), message=message, family=family, nearest=[self._code_match(c) for c in nearest]
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

    def _by_name(self, text: str) -> Answer | None:
        code = self.catalog.codes_by_name.get(normalize_name(text))
        if code is not None:
            return self._code_answer(code)
        source = self.catalog.sources_by_alias.get(text.lower())
        if source is not None:
            table = self.catalog.tables.get(source.code_table) if source.code_table else None
            return SourceAnswer(source=source, table=table)
        return None

    def _by_source_and_code(self, text: str) -> Answer | None:
        match = _SOURCE_AND_CODE.match(text)
        if match is not None:
            source_name, code = match.groups()
        elif (reversed_match := _CODE_AND_SOURCE.match(text)) is not None:
            code, source_name = reversed_match.groups()
        else:
            return None
        source = self.catalog.sources_by_alias.get(source_name.lower())
        if source is None:
            return None
        tables = self.catalog.tables_for(source)
        if not tables:
            return NotFoundAnswer(
                query=text,
                source=source,
                message=f"The catalog has no code table for `{source.name}`: its codes are that platform's own.",
            )
        entry = self.catalog.platform_code_for(source, code)
        if entry is None:
            table = self.catalog.tables[tables[0]]
            return NotFoundAnswer(
                query=text,
                source=source,
                message=f"{table.name}: code {code} is not in the catalog. Check the platform's own table.",
            )
        return self._platform_answer(entry, source)

    # -- codes amid other words -----------------------------------------------------------------

    def _by_hits(self, text: str) -> Answer | None:
        """Codes, names and source + platform code pairs the scanner finds in the text ("code 15011",
        "INVALID_SPAM 15011", "whatsapp 131047 again"): one is answered as if typed alone; several
        are listed first, in order of appearance, followed by the best word matches."""
        from .scanner import scan  # its patterns are compiled on import; exact queries never get here

        found = [
            resolved for hit in scan(self.catalog, text, from_integration=True) if (resolved := self._resolve(hit))
        ]
        if not found:
            return None
        if len(found) == 1:
            return found[0][1]
        matches = [match for _, _, match in found]
        listed = {key for key, _, _ in found}
        extra = [doc.match for _, _, doc in self._ranked(text) if doc.key not in listed]
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

    def _by_words(self, text: str) -> Answer | None:
        scored = self._ranked(text)
        if not scored:
            return None
        best_coverage, best_score, best = scored[0]
        if best_coverage < 1.0 and (typo := self._did_you_mean(text)) is not None:
            # A typo of a name: word matches on its other half ("invalid") would only be noise.
            return NotFoundAnswer(query=text, message=_nothing_matches(text), did_you_mean=typo)
        runner_up = scored[1][1] if len(scored) > 1 else 0.0
        if best_coverage == 1.0 and best_score >= 2 * runner_up:
            return self.explain(best.match.query)
        return MatchesAnswer(query=text, matches=[doc.match for _, _, doc in scored[:MAX_MATCHES]])

    def _ranked(self, text: str) -> list[tuple[float, float, _Document]]:
        """(coverage, score, document), best first, for the entries matching most of the query's words."""
        query_tokens = _first_distinct(_tokens(text), MAX_QUERY_WORDS)
        if not query_tokens:
            return []
        phrase = " ".join(_TOKEN.findall(text.lower()))
        scored = [item for item in self._index.rank(query_tokens, phrase) if item[0] >= 0.5 and item[1] > 0]
        if not scored:
            return []
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        # Entries that match fewer of the words than the best one are noise, not alternatives.
        return [item for item in scored if item[0] == scored[0][0]]

    def _not_found(self, text: str) -> NotFoundAnswer:
        return NotFoundAnswer(query=text, message=_nothing_matches(text), did_you_mean=self._did_you_mean(text))

    def _did_you_mean(self, text: str) -> Match | None:
        candidates = difflib.get_close_matches(normalize_name(text), list(self._names), n=1, cutoff=0.75)
        return self._names[candidates[0]] if candidates else None

    # -- building answers ---------------------------------------------------------------------

    def _code_answer(self, code: FailureCode) -> CodeAnswer:
        return CodeAnswer(code=code, family=self.catalog.families[code.family_prefix])

    def _platform_answer(self, entry: PlatformCode, source: FailureSource | None = None) -> PlatformCodeAnswer:
        source = source or self.catalog.first_source_of(entry.table)
        return PlatformCodeAnswer(
            entry=entry,
            table=self.catalog.tables[entry.table],
            source=source,
            usual_codes=[self.catalog.codes[c] for c in entry.usual_codes],
        )

    def _code_match(self, code: FailureCode) -> Match:
        return Match(kind="code", query=str(code.code), label=f"{code.code} {code.name}", summary=code.title)

    def _source_match(self, source: FailureSource) -> Match:
        return Match(kind="source", query=source.name, label=f"source {source.name}", summary=source.title)

    def _platform_match(self, entry: PlatformCode, source: FailureSource | None = None) -> Match:
        source = source or self.catalog.first_source_of(entry.table)
        return Match(
            kind="platform_code",
            query=f"{source.name} {entry.code}",
            label=f"{source.name} {entry.code}",
            summary=entry.name,
        )

    def _build_documents(self) -> list[_Document]:
        docs = [
            _Document(
                match=self._code_match(code),
                key=_code_key(code),
                fields=[
                    (_W_NAME, set(_tokens(code.name.replace("_", " ")))),
                    (_W_KEYWORD, {t for k in code.keywords for t in _tokens(k)}),
                    (_W_TITLE, set(_tokens(code.title))),
                    (_W_TEXT, set(_tokens(" ".join([code.meaning, *code.causes])))),
                ],
                phrases=[" ".join(_tokens(p)) for p in [*code.keywords, code.title, code.name.replace("_", " ")]],
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
                phrases=[" ".join(_tokens(p)) for p in [*source.keywords, source.title]],
                weight=0.9,
            )
            for source in self.catalog.data.sources
        ]
        docs += [
            _Document(
                match=self._platform_match(entry),
                key=_platform_key(entry),
                fields=[
                    (_W_KEYWORD, {t for k in entry.keywords for t in _tokens(k)}),
                    (_W_TITLE, set(_tokens(entry.name))),
                    (_W_TEXT, set(_tokens(entry.meaning))),
                ],
                phrases=[" ".join(_tokens(p)) for p in [*entry.keywords, entry.name]],
                # Bird's own codes come first when both fit equally well.
                weight=0.8,
            )
            for entry in self.catalog.data.platform_codes
        ]
        return docs


def _code_key(code: FailureCode) -> str:
    return f"code:{code.code}"


def _platform_key(entry: PlatformCode) -> str:
    return f"platform_code:{entry.table}:{entry.code}"


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
    for candidate in (text, "{" + text.strip().rstrip(",") + "}"):
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

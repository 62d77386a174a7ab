"""Library search, the engine-free part: the query language (words, prefixes, "phrases",
-exclusions, OR), parsed once and rendered for SQLite FTS5 and for PostgreSQL's tsquery, and
the document an asset is indexed as (its fields weighted apart, its probe facts as words).

    parse('"slow motion" cats -draft mou')  ->  Query(groups=[[Term('slow motion', phrase=True),
                                                  Term('cats'), Term('mou', prefix=True)]],
                                                  excluded=[Term('draft')])

The last word is matched as a prefix (results as you type: `mou` finds "mountain"), the
words before it whole, as search boxes do (a prefix of every word would make each query
merge the postings of every word it starts); a quoted phrase matches its words in order,
exactly; `-word` excludes; `OR` between two parts of a query joins them as alternatives,
everything else must all match. Any other character is a separator, so no input reaches the
engine as syntax it could misread."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_TERMS = 16
MAX_QUERY_CHARS = 500
MIN_PREFIX = 2  # one letter as a prefix matches half the library; it is a whole word then
WORD = re.compile(r"\w+", re.UNICODE)
# the parts of the catalog document that describe the title: indexed with these weights
# (title above tags above description above the rest: a title match ranks first)
FIELDS = ("title", "tags", "description", "meta", "facts")
WEIGHTS = {"title": 10.0, "tags": 6.0, "description": 3.0, "meta": 1.5, "facts": 1.0}
# metadata the pipeline keeps for itself: not words a user searches for
INTERNAL_METADATA = frozenset({"ladder", "budget_override", "override", "encryption"})
MAX_META_CHARS = 4000


class SearchSyntaxError(ValueError):
    """A query the language cannot read (unbalanced quote, nothing to match, too long)."""


@dataclass(frozen=True)
class Term:
    text: str  # lower-case words separated by single spaces
    phrase: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    groups: list[list[Term]] = field(default_factory=list)  # OR of ANDs
    excluded: list[Term] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.groups


_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


def parse(text: str) -> Query:
    """The query in `text` (raises SearchSyntaxError with the reason)."""
    if len(text) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"query longer than {MAX_QUERY_CHARS} characters")
    if text.count('"') % 2:
        raise SearchSyntaxError('unbalanced quote: close the phrase with "')
    groups: list[list[Term]] = [[]]
    excluded: list[Term] = []
    for match in _TOKEN.finditer(text):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if bare == "OR":
            if groups[-1]:
                groups.append([])
            continue
        if phrase is not None:
            words = WORD.findall(phrase.lower())
            term = Term(" ".join(words), phrase=True) if words else None
            target = excluded if negated else groups[-1]
            if term:
                target.append(term)
            continue
        exclude = bare.startswith("-") and len(bare) > 1
        words = WORD.findall((bare[1:] if exclude else bare).lower())
        for i, word in enumerate(words):
            if exclude:
                excluded.append(Term(word))
            else:  # `word*` asks for a prefix anywhere in the query
                starred = i == len(words) - 1 and bare.endswith("*") and len(word) >= MIN_PREFIX
                groups[-1].append(Term(word, prefix=starred))
    groups = [g for g in groups if g]
    _last_word_as_prefix(text, groups)
    if excluded and not groups:
        raise SearchSyntaxError("a query of exclusions only matches nothing: add a word")
    if sum(len(g) for g in groups) + len(excluded) > MAX_TERMS:
        raise SearchSyntaxError(f"more than {MAX_TERMS} words and phrases")
    return Query(groups=groups, excluded=excluded)


_TYPED = re.compile(r"(\w+)[^\w\s\"]*$", re.UNICODE)  # the last word, then punctuation only


def _last_word_as_prefix(text: str, groups: list[list[Term]]) -> None:
    """The word being typed: the query's last term, when it is a bare word at the very end
    (not a phrase, not an exclusion, no space after it) long enough to be a prefix."""
    typed = _TYPED.search(text.lower())
    if not groups or typed is None:
        return
    last = groups[-1][-1]
    if not last.phrase and len(last.text) >= MIN_PREFIX and typed.group(1) == last.text:
        groups[-1][-1] = Term(last.text, prefix=True)


def _fts5_term(term: Term) -> str:
    # every term quoted: FTS5 reads it as a string, never as an operator or column filter
    return f'"{term.text}"' + ("*" if term.prefix else "")


def fts5_match(query: Query) -> str:
    """The FTS5 MATCH expression of a non-empty query."""
    alternatives = ["(" + " AND ".join(_fts5_term(t) for t in g) + ")" for g in query.groups]
    expression = " OR ".join(alternatives)
    if query.excluded:
        expression = (
            f"({expression}) NOT (" + " OR ".join(_fts5_term(t) for t in query.excluded) + ")"
        )
    return expression


def _ts_term(term: Term) -> str:
    # words are \w+ only, so nothing here is tsquery syntax; quoted against the parser anyway
    words = [f"'{w}'" for w in term.text.split(" ")]
    if term.prefix:
        words[-1] += ":*"
    return words[0] if len(words) == 1 else "(" + " <-> ".join(words) + ")"


def tsquery(query: Query) -> str:
    """The to_tsquery('simple', ...) text of a non-empty query."""
    alternatives = ["(" + " & ".join(_ts_term(t) for t in g) + ")" for g in query.groups]
    expression = " | ".join(alternatives)
    for term in query.excluded:
        expression = f"({expression}) & !{_ts_term(term)}"
    return expression


def _height_words(height: int) -> list[str]:
    words = [f"{height}p"]
    if height >= 2160:
        words += ["4k", "uhd"]
    elif height >= 720:
        words.append("hd")
    else:
        words.append("sd")
    return words


def _duration_words(seconds: float | None) -> list[str]:
    if seconds is None:
        return []
    if seconds < 60:
        return ["short"]
    return ["medium"] if seconds < 20 * 60 else ["long"]


def probe_facts(probe: dict[str, Any] | None, duration: float | None) -> str:
    """The probe's searchable facts as words: codecs, `1080p hd`, languages, `short`."""
    words: list[str] = []
    for stream in (probe or {}).get("video", [])[:1]:
        words.append(str(stream.get("codec", "")))
        height = min(int(stream.get("width") or 0), int(stream.get("height") or 0))
        if height:
            words += _height_words(height)
    for stream in (probe or {}).get("audio", []):
        words += [str(stream.get("codec", "")), str(stream.get("language") or "")]
    words += _duration_words(duration)
    return " ".join(dict.fromkeys(w for w in words if w and w != "und"))


def _meta_words(metadata: dict[str, Any]) -> str:
    """Values (not keys) of the user's metadata, nested ones included, as text."""
    out: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            out.append(str(value))

    walk({k: v for k, v in metadata.items() if k not in INTERNAL_METADATA})
    return " ".join(out)[:MAX_META_CHARS]


def document(asset: Any) -> dict[str, str]:
    """The indexed text of an asset, one entry per field of FIELDS."""
    return {
        "title": asset.title or "",
        "tags": " ".join(asset.tags),
        "description": asset.description or "",
        "meta": _meta_words(asset.metadata),
        "facts": probe_facts(asset.probe, asset.duration),
    }


@dataclass(frozen=True)
class Filters:
    """What a search may be narrowed to besides its words (all optional, all must hold)."""

    status: str | None = None
    collection: str | None = None
    min_duration: float | None = None
    max_duration: float | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def indexed_columns(asset: Any) -> dict[str, Any]:
    """Everything the search table keeps of an asset: its document and its filter columns.
    An update that changes none of it (progress, timings) leaves the index alone."""
    return {
        **document(asset),
        "status": str(asset.status.value),
        "collection": asset.collection,
        "duration": asset.duration,
        "created_at": asset.created_at,
    }

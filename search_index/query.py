"""A user's search → the engine-neutral query tree. User text is never parsed as query syntax.

Routes: a query shaped like an identifier (or the prefix of one) goes to the identifier fields;
anything else is split on whitespace into words that must all match, each word a phrase of
bigrams over the name, former names, legal representative and address (and pinyin, for letters).
Ranking adds constant tiers on top of relevance: exact normalised name, then names that start
with the query, then BM25; among equal scores operating entities come first (a tie-break the
engines apply cheaply, not a boost clause every operating entity would have to match).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from credit.identifiers import normalise_identifier
from search_index.analysis import (
    ID_PREFIX_MAX, PINYIN_GRAM, PREFIX_MAX, grams, has_han, normalise, pinyin_full,
)
from search_index.engine import AllOf, AnyOf, Const, Node, Phrase, Prefix, Ranked, Term
from search_index.errors import QueryError

MAX_QUERY_CHARS = 60  # normalised characters; the longest real names are about 50
MAX_RAW_CHARS = 400  # before normalisation: refuse pasted pages without reading them
MAX_WORDS = 8
MAX_PER_PAGE = 100
MAX_DEPTH = 10_000  # deepest hit a page may reach: narrow the query or use bulk data beyond it
# An engine may stop counting (and ranking) after this many matches, or at the end of the
# PAGES_AHEAD pages from the one asked for if that is further: the total then reads "N 家以上". Whoosh
# scores a match in tens of microseconds; a fragment in most names took seconds to rank exactly.
COUNT_TO = 500
PAGES_AHEAD = 5
# Score tiers, each above anything the tiers below can add (relevance stays under 1e4 for a
# query of MAX_QUERY_CHARS: ≤ 59 grams × ~31 BM25 points × the field boosts below).
EXACT_SCORE, PREFIX_SCORE = 1e6, 1e5
FIELD_BOOSTS = {"name": 2.0, "other": 0.5}  # other: former names, legal representative, address
PINYIN_FIELDS = ("py_initials", "py_full")
_ID_SHAPE = re.compile(r"[0-9A-Z]{6,18}")
_LETTERS = re.compile(r"[0-9a-z]+")
_REGION = re.compile(r"\d{2}|\d{4}|\d{6}")


@dataclass(frozen=True)
class SearchRequest:
    """What a user asked: text, filters and the page."""

    q: str
    page: int = 1
    per_page: int = 20
    region: str | None = None
    industry: str | None = None
    status: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    """How a request is searched: the main query, a sound-alike fallback, and the words to highlight."""

    route: str  # "identifier" or "text"
    main: Ranked
    fallback: Ranked | None = None
    words: tuple[str, ...] = field(default_factory=tuple)
    offset: int = 0
    limit: int = 20
    ignored: tuple[str, ...] = ()  # one-character words beside longer ones: too common to search

    @property
    def count_to(self) -> int:
        """How many matches the engine must count at least: enough for the pager's next pages."""
        return max(COUNT_TO, self.offset + self.limit * PAGES_AHEAD)


def plan_search(request: SearchRequest) -> Plan:
    """The plan of a request; a request that cannot be searched raises QueryError saying why."""
    offset, limit = _page(request)
    filters = _filters(request)
    text = (request.q or "").strip()
    if not text:
        raise QueryError("请输入企业名称、统一社会信用代码或注册号")
    if len(text) > MAX_RAW_CHARS:
        raise QueryError(f"查询过长：最多 {MAX_QUERY_CHARS} 个字")
    identifier = normalise_identifier(text)
    if _looks_like_identifier(identifier):
        ranked = Ranked(_identifier_match(identifier), (), filters, prefer_active=True)
        try:
            as_text: Ranked | None = _text_plan(text, filters, offset, limit).main
        except QueryError:
            as_text = None
        return Plan("identifier", ranked, as_text, (identifier,), offset, limit)
    return _text_plan(text, filters, offset, limit)


def _page(request: SearchRequest) -> tuple[int, int]:
    if request.page < 1 or not 1 <= request.per_page <= MAX_PER_PAGE:
        raise QueryError(f"页码从 1 开始，每页 1–{MAX_PER_PAGE} 条")
    offset = (request.page - 1) * request.per_page
    if offset + request.per_page > MAX_DEPTH:
        raise QueryError(f"最多翻到第 {MAX_DEPTH} 条结果，请缩小查询范围或使用批量数据下载")
    return offset, request.per_page


def _filters(request: SearchRequest) -> tuple[Node, ...]:
    filters: list[Node] = []
    if request.region:
        if not _REGION.fullmatch(request.region):
            raise QueryError("地区应为 2、4 或 6 位行政区划代码，例如 44 或 440300")
        filters.append(Term("region", request.region))
    if request.industry:
        filters.append(Term("industry", request.industry))
    if request.status in ("active", "inactive"):
        filters.append(Term("active", "1" if request.status == "active" else "0"))
    elif request.status:
        filters.append(Term("status", request.status))
    filters.extend(Term("flags", flag) for flag in request.flags)
    return tuple(filters)


def _looks_like_identifier(value: str) -> bool:
    """Six or more code characters with at least four digits: a USCC, reg. no or org code (or prefix)."""
    return _ID_SHAPE.fullmatch(value) is not None and sum(c.isdigit() for c in value) >= 4


def _identifier_match(value: str) -> Node:
    clauses: list[Node] = [Prefix(("uscc", "reg_no"), "id_prefix", ID_PREFIX_MAX, value),
                           Term("uscc", value), Term("reg_no", value)]
    if len(value) == 9:
        clauses.append(Term("org_code", value))
    return AnyOf(tuple(clauses))


def _words(text: str) -> tuple[list[str], list[str]]:
    """(words to search, one-character words left out); raises when nothing searchable is left."""
    words = [w for w in (normalise(part) for part in text.split()) if w]
    if not words:
        raise QueryError("请输入企业名称、统一社会信用代码或注册号")
    if sum(len(w) for w in words) > MAX_QUERY_CHARS or len(words) > MAX_WORDS:
        raise QueryError(f"查询过长：最多 {MAX_QUERY_CHARS} 个字、{MAX_WORDS} 个词")
    long_words = [w for w in words if len(w) >= 2]
    if not long_words:
        raise QueryError("请至少输入两个字（例如企业名称中的两个连续的字）")
    return long_words, [w for w in words if len(w) < 2]


def _text_plan(text: str, filters: tuple[Node, ...], offset: int, limit: int) -> Plan:
    words, ignored = _words(text)
    whole = "".join(words)
    boosts: tuple[Node, ...] = (
        Const(Term("name_exact", whole), EXACT_SCORE),
        Const(Prefix(("name_exact",), "name_prefix", PREFIX_MAX, whole), PREFIX_SCORE),
    )
    main = Ranked(_all(_word_match(w) for w in words), boosts, filters, prefer_active=True)
    fallback = None
    if any(has_han(w) for w in words):
        fallback = Ranked(_all(_sounds_like(w) for w in words), (), filters, prefer_active=True)
    return Plan("text", main, fallback, tuple(words), offset, limit, tuple(ignored))


def _word_match(word: str) -> Node:
    """A word anywhere in a name, former name, legal representative or address (or name pinyin)."""
    word_grams = tuple(grams(word))
    clauses: list[Node] = [Phrase(f, word_grams, boost) for f, boost in FIELD_BOOSTS.items()]
    if _LETTERS.fullmatch(word) and len(word) >= PINYIN_GRAM:
        clauses.extend(Phrase(f, tuple(grams(word, PINYIN_GRAM))) for f in PINYIN_FIELDS)
    return AnyOf(tuple(clauses))


def _sounds_like(word: str) -> Node:
    """The word's pinyin inside a name's pinyin: finds 华为 typed as 花为 (one homophone typo)."""
    return Phrase("py_full", tuple(grams(pinyin_full(word), PINYIN_GRAM)))


def _all(nodes: object) -> Node:
    clauses = tuple(nodes)  # type: ignore[call-overload]
    return clauses[0] if len(clauses) == 1 else AllOf(clauses)

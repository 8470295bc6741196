"""Words as search sees them: folding, tokens, the query language and snippets.

Both storage backends index and query the tokens made here, never their own parsers' words, so
SQLite and PostgreSQL find exactly the same things. A token is a run of letters and digits,
folded: lower case by Unicode case folding, accents removed (`Straße` -> `strasse`,
`Café` -> `cafe`), digits of every script as ASCII digits. Punctuation separates tokens, so an
identifier or a number is several tokens in a row (`user_id` -> `user id`, `3.14` -> `3 14`) and a
query for it is a phrase. Ideographs and kana stand alone, one token each, since those scripts
write no spaces between words. Pure: no SQL, no HTTP.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from convostore.errors import InvalidRequest

# Limits (documented in docs/search.md).
MAX_QUERY_CHARS = 1_000
MAX_QUERY_WORDS = 32
MIN_PREFIX_CHARS = 2
MAX_TOKEN_CHARS = 64  # a longer run of letters is cut to this many (indexed and sought alike)
MAX_TEXT_TOKENS = 16_000  # words of one text that are indexed; PostgreSQL keeps positions to 16,383
SNIPPET_CHARS = 200
# Words of a non-ASCII text read to place its snippet: a match further in gets a snippet of the
# text's start, unmarked.
SNIPPET_SCAN_TOKENS = 2_000
# What placing the snippets of one page may cost in all, in words read (an ASCII text counts a
# word per 64 characters, as its regular expressions are that much cheaper): a page of texts
# built to be slow to mark holds the loop ~50 ms at most; past it, snippets are left unmarked.
PAGE_SCAN_BUDGET = 20_000


class ScanBudget:
    """Words that may still be read to place the snippets of one page."""

    __slots__ = ("left",)

    def __init__(self, words: int = PAGE_SCAN_BUDGET) -> None:
        self.left = words

    def take(self, words: int) -> bool:
        """Whether `words` more may be read (they are counted as read)."""
        if self.left < words:
            self.left = 0
            return False
        self.left -= words
        return True


_UNBOUNDED = ScanBudget(2**62)

_WORD = re.compile(r"[^\W_]+")
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def _stands_alone(ch: str) -> bool:
    """Ideographs, kana and Hangul syllables: one token per character."""
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= code <= 0x3FFFF  # CJK extensions B and later
    )


def fold(word: str) -> str:
    """One run of word characters, caseless and without accents."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word)
    kept = [
        str(unicodedata.decimal(c)) if c.isdecimal() else c
        for c in decomposed
        if not unicodedata.combining(c)
    ]
    return "".join(kept).casefold()


def token_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """`(start, end, token)` for every token of `text`, with its place in `text`."""
    for match in _WORD.finditer(text):
        run = match.group()
        if run.isascii():
            yield match.start(), match.end(), run.lower()[:MAX_TOKEN_CHARS]
            continue
        begin = match.start()
        pending = begin
        for offset, ch in enumerate(run):
            if _stands_alone(ch):
                here = begin + offset
                if pending < here:
                    yield from _folded(text, pending, here)
                yield here, here + 1, fold(ch)
                pending = here + 1
        if pending < match.end():
            yield from _folded(text, pending, match.end())


def _folded(text: str, start: int, end: int) -> Iterator[tuple[int, int, str]]:
    # folding may turn one run into several (a fraction slash between digits, say)
    for part in _WORD.findall(fold(text[start:end])):
        yield start, end, part[:MAX_TOKEN_CHARS]


def tokens(text: str) -> list[str]:
    """The tokens of `text` that are indexed (the first MAX_TEXT_TOKENS)."""
    if text.isascii():  # the common case, at C speed: the same tokens as token_spans makes
        words = _WORD.findall(text.lower())
        if len(words) > MAX_TEXT_TOKENS:
            del words[MAX_TEXT_TOKENS:]
        if words and max(map(len, words)) > MAX_TOKEN_CHARS:
            words = [w[:MAX_TOKEN_CHARS] for w in words]
        return words
    found = []
    for _, _, token in token_spans(text):
        found.append(token)
        if len(found) == MAX_TEXT_TOKENS:
            break
    return found


# --- the query language ------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """Tokens that must stand next to each other in this order; with `prefix`, the last one only
    has to begin the word found."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class TextQuery:
    """Clauses that must all be found in one text (AND)."""

    clauses: tuple[Clause, ...]


def parse_query(q: str, *, param: str = "q") -> TextQuery:
    """Words, `"quoted phrases"` and `prefix*`; everything else in `q` is taken literally.

    No character of `q` is an operator of either database's query syntax: they see only
    tokens. Unbalanced quotes close at the end. Refused (400): a `q` longer than
    MAX_QUERY_CHARS, without any word, with more than MAX_QUERY_WORDS words, or with a prefix
    shorter than MIN_PREFIX_CHARS.
    """
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidRequest(f"q must be at most {MAX_QUERY_CHARS} characters", param=param)
    clauses: list[Clause] = []
    for index, segment in enumerate(q.split('"')):
        if index % 2:  # inside quotes: one phrase
            _add(clauses, segment, param)
        else:
            for chunk in segment.split():
                _add(clauses, chunk, param)
    if not clauses:
        raise InvalidRequest("q has no words to search for", param=param)
    if sum(len(c.words) for c in clauses) > MAX_QUERY_WORDS:
        raise InvalidRequest(f"q may hold at most {MAX_QUERY_WORDS} words", param=param)
    return TextQuery(tuple(clauses))


def _add(clauses: list[Clause], text: str, param: str) -> None:
    words = tuple(tokens(text))
    if not words:
        return
    prefix = text.rstrip().endswith("*")
    if prefix and len(words[-1]) < MIN_PREFIX_CHARS:
        raise InvalidRequest(
            f"a prefix search needs at least {MIN_PREFIX_CHARS} characters before '*'", param=param
        )
    clause = Clause(words, prefix)
    if clause not in clauses:
        clauses.append(clause)


# --- matching and snippets ---------------------------------------------------------------------


def matched_spans(
    text: str, query: TextQuery, *, reach: int = SNIPPET_CHARS, budget: ScanBudget = _UNBOUNDED
) -> list[tuple[int, int]]:
    """Where in `text` the query's clauses are found: `(start, end)` of each match (a phrase is
    one), from the first match to `reach` characters past it (what a snippet shows). Reads no
    further than that, nor (unless ASCII, matched at C speed) past SNIPPET_SCAN_TOKENS words.
    """
    if text.isascii():
        return _ascii_spans(text, query, reach) if budget.take(len(text) // 64 + 1) else []
    longest = max(len(c.words) for c in query.clauses)
    recent: deque[tuple[int, int, str]] = deque(maxlen=longest)
    marked: set[tuple[int, int]] = set()
    first: int | None = None
    for count, span in enumerate(token_spans(text)):
        if count == SNIPPET_SCAN_TOKENS or (first is not None and span[0] > first + reach):
            break
        if not budget.take(1):
            break
        recent.append(span)
        for clause in query.clauses:
            if _ends_here(recent, clause):
                begin = recent[len(recent) - len(clause.words)][0]
                marked.add((begin, span[1]))
                first = begin if first is None else min(first, begin)
    return sorted(marked)


def clauses_found(text: str, query: TextQuery, budget: ScanBudget = _UNBOUNDED) -> int:
    """How many of the query's clauses `text` holds (all of them: the text matches), reading
    no further than where the last clause is found, nor (unless ASCII) SNIPPET_SCAN_TOKENS."""
    if text.isascii():
        if not budget.take(len(text) // 64 + 1):
            return 0
        return sum(1 for pattern in _patterns(query) if pattern.search(text))
    longest = max(len(c.words) for c in query.clauses)
    recent: deque[tuple[int, int, str]] = deque(maxlen=longest)
    missing = set(query.clauses)
    for count, span in enumerate(token_spans(text)):
        if count == SNIPPET_SCAN_TOKENS or not missing or not budget.take(1):
            break
        recent.append(span)
        missing -= {clause for clause in missing if _ends_here(recent, clause)}
    return len(query.clauses) - len(missing)


# An ASCII text folds to its lower case, so a clause is a regular expression over the text
# itself: its words, whole (or a prefix), with only separators between them. Several times
# cheaper than making tokens, which the snippets of every hit would otherwise do.
_SEPARATORS = r"[\W_]+"


@functools.lru_cache(maxsize=256)
def _patterns(query: TextQuery) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for clause in query.clauses:
        words = [re.escape(w) for w in clause.words]
        if clause.prefix:
            words[-1] += r"[^\W_]*"
        body = _SEPARATORS.join(words)
        patterns.append(re.compile(rf"(?<![^\W_]){body}(?![^\W_])", re.ASCII | re.IGNORECASE))
    return tuple(patterns)


def _ascii_spans(text: str, query: TextQuery, reach: int) -> list[tuple[int, int]]:
    patterns = _patterns(query)
    firsts = [m.start() for p in patterns if (m := p.search(text)) is not None]
    if not firsts:
        return []
    first = min(firsts)
    window = text[: first + reach]
    marked = {(m.start(), m.end()) for p in patterns for m in p.finditer(window, first)}
    return sorted(marked)


def _ends_here(recent: deque[tuple[int, int, str]], clause: Clause) -> bool:
    """Whether the last tokens read are `clause` (its last word a prefix, if it says so)."""
    n = len(clause.words)
    if len(recent) < n:
        return False
    offset = len(recent) - n
    for k, wanted in enumerate(clause.words):
        word = recent[offset + k][2]
        if word != wanted and not (k == n - 1 and clause.prefix and word.startswith(wanted)):
            return False
    return True


def snippet(text: str, spans: Sequence[tuple[int, int]], width: int = SNIPPET_CHARS) -> str:
    """An excerpt of `text` around its first matched span, the matches in `<mark>`, everything
    else HTML-escaped (so the snippet can go into a page as it is); `…` marks a cut."""
    if not spans:
        cut = text[:width]
        return html.escape(cut) + ("…" if len(text) > width else "")
    merged: list[tuple[int, int]] = []
    for begin, finish in sorted(spans):  # overlapping matches (a prefix inside a phrase) join
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(finish, merged[-1][1]))
        else:
            merged.append((begin, finish))
    spans = merged
    first = spans[0][0]
    start = max(0, first - width // 4)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and first - space < width // 2 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", spans[0][1], end)
        end = space if space > spans[0][1] else end
    parts = ["…" if start else ""]
    at = start
    for begin, finish in spans:
        if finish <= start or begin < at:
            continue
        if begin >= end:
            break
        parts.append(html.escape(text[at:begin]))
        parts.append(MARK_OPEN + html.escape(text[begin:finish]) + MARK_CLOSE)
        at = finish
    parts.append(html.escape(text[at:end]))
    if end < len(text):
        parts.append("…")
    return "".join(parts)

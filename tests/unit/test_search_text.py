"""Search's words: folding, tokens, the query language and snippets (pure functions)."""

from __future__ import annotations

import time

import pytest

from convostore.errors import InvalidRequest
from convostore.search_text import (
    MAX_QUERY_WORDS,
    MAX_TEXT_TOKENS,
    Clause,
    clauses_found,
    matched_spans,
    parse_query,
    snippet,
    tokens,
)


def test_tokens_fold_case_accents_and_digits() -> None:
    assert tokens("Straße CAFÉ naïve Ωmega") == ["strasse", "cafe", "naive", "ωmega"]
    assert tokens("user_id=42; v2.1.0 ٣٤") == ["user", "id", "42", "v2", "1", "0", "34"]
    assert tokens("東京タワー") == ["東", "京", "タ", "ワ", "ー"]
    assert tokens("東京tower") == ["東", "京", "tower"]
    assert tokens("  !!! ... ") == []
    assert tokens("x" * 100) == ["x" * 64]


def test_queries_are_clauses_of_tokens() -> None:
    query = parse_query('"Quick  Brown" fox* user_id 東京 "unclosed')
    assert query.clauses == (
        Clause(("quick", "brown")),
        Clause(("fox",), prefix=True),
        Clause(("user", "id")),
        Clause(("東", "京")),
        Clause(("unclosed",)),
    )
    assert parse_query("a a A").clauses == (Clause(("a",)),)
    assert parse_query('"phrase pre*"').clauses == (Clause(("phrase", "pre"), prefix=True),)


@pytest.mark.parametrize(
    "q",
    ["", "   ", "!!!", '""', "* *", " ".join(f"w{i}" for i in range(MAX_QUERY_WORDS + 1)), "a*"],
)
def test_queries_without_words_or_with_too_many_are_refused(q: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        parse_query(q)
    assert refused.value.param == "q"


def test_operators_of_either_database_are_just_characters() -> None:
    # NEAR(c) is one chunk of text: the words "near c", side by side
    assert parse_query("a OR b NEAR(c) -d ^e f:g 'h' & i | !j <-> k").clauses == (
        *(Clause((w,)) for w in ("a", "or", "b")),
        Clause(("near", "c")),
        *(Clause((w,)) for w in ("d", "e")),
        Clause(("f", "g")),
        *(Clause((w,)) for w in ("h", "i", "j", "k")),
    )


def test_snippets_mark_matches_and_escape_the_rest() -> None:
    text = "Meet at the <b>Café</b> & bring user_id=7"
    query = parse_query("cafe user_id")
    assert snippet(text, matched_spans(text, query)) == (
        "Meet at the &lt;b&gt;<mark>Café</mark>&lt;/b&gt; &amp; bring <mark>user_id</mark>=7"
    )


def test_snippets_of_long_texts_are_cut_around_the_first_match() -> None:
    text = "lorem " * 100 + "the needle is here " + "ipsum " * 100
    cut = snippet(text, matched_spans(text, parse_query("needle")))
    assert cut.startswith("…") and cut.endswith("…")
    assert "<mark>needle</mark>" in cut
    assert len(cut) < 260


def test_matching_reads_only_what_the_snippet_needs() -> None:
    huge = "needle " + "hay " * 250_000  # 1 MB
    started = time.perf_counter()
    spans = matched_spans(huge, parse_query("needle hay"))
    assert time.perf_counter() - started < 0.1
    assert spans[0] == (0, 6) and all(start < 300 for start, _ in spans)
    assert clauses_found(huge, parse_query("needle hay")) == 2
    # only the first MAX_TEXT_TOKENS words are indexed; a non-ASCII text is read for its snippet
    # as far as SNIPPET_SCAN_TOKENS words
    tail = "hay " * MAX_TEXT_TOKENS + "needle"
    assert len(tokens(tail)) == MAX_TEXT_TOKENS
    assert clauses_found("é " + tail, parse_query("needle")) == 0
    started = time.perf_counter()
    far = "é " + "hay " * 300_000 + "needle"
    assert matched_spans(far, parse_query("needle")) == []
    assert snippet(far, []).startswith("é hay")
    assert time.perf_counter() - started < 0.1


def test_ascii_and_other_texts_are_matched_alike() -> None:
    query = parse_query('"user id" caf* straße 42')
    plain = "a user_id=42 in the cafeteria, Strasse 9"
    accented = plain.replace("cafeteria", "cafétéria")
    assert clauses_found(plain, query) == clauses_found(accented, query) == 4
    assert snippet(plain, matched_spans(plain, query)) == (
        "a <mark>user_id</mark>=<mark>42</mark> in the <mark>cafeteria</mark>, "
        "<mark>Strasse</mark> 9"
    )
    assert snippet(accented, matched_spans(accented, query)) == (
        "a <mark>user_id</mark>=<mark>42</mark> in the <mark>cafétéria</mark>, "
        "<mark>Strasse</mark> 9"
    )

"""Which tickets a PR links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.tickets.linking import MAX_LINKS, Link, linked_tickets, links, strip_code

REPO = "Acme/Shop"


@pytest.mark.parametrize(
    "keyword",
    ["close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"],
)
def test_every_closing_keyword_links_and_closes(keyword: str) -> None:
    for text in (f"{keyword} #7", f"{keyword.upper()}: #7", f"{keyword.title()}:#7"):
        assert links("", text, REPO) == [Link(7, True)], text


@pytest.mark.parametrize("text", ["Refs #7", "ref #7", "REFS: #7", "see it. Ref #7."])
def test_refs_links_without_closing(text: str) -> None:
    assert links("", text, REPO) == [Link(7, False)]


def test_title_and_body_both_count_in_order() -> None:
    assert linked_tickets("Fix #3: login", "Also refs #9 and fixes #3", REPO) == [3, 9]
    assert links("Refs #3", "closes #3", REPO) == [Link(3, True)]


def test_bare_mentions_and_lookalikes_do_not_link() -> None:
    for text in ("#7", "see #7", "prefixes #7", "fixes#7", "fixes #7abc", "fix #0", "hotfix #7"):
        assert linked_tickets("", text, REPO) == [], text


def test_same_repository_qualified_references() -> None:
    body = (
        "Fixes acme/shop#4\n"
        "Refs https://github.com/Acme/Shop/issues/5#issuecomment-1\n"
        "Closes https://ghe.example.com/acme/shop/issues/6\n"
    )
    assert links("", body, REPO) == [Link(4, True), Link(5, False), Link(6, True)]


def test_other_repositories_and_pull_urls_are_ignored() -> None:
    body = (
        "Fixes other/shop#4\nFixes acme/shopping#5\n"
        "Refs https://github.com/other/shop/issues/6\n"
        "Fixes https://github.com/acme/shop/pull/7\n"
    )
    assert linked_tickets("", body, REPO) == []


def test_code_blocks_inline_code_and_comments_are_ignored() -> None:
    body = (
        "```\nFixes #1\n```\n"
        "~~~~python\nfixes #2\n~~~\nstill code: fixes #3\n~~~~\n"
        "Use `Fixes #4` to link; ``fixes #5 ` x`` too.\n"
        "<!-- Fixes #6 -->\n"
        "Closes #8\n"
    )
    assert linked_tickets("", body, REPO) == [8]
    assert linked_tickets("`fixes #1`", None, REPO) == []


def test_stray_backtick_does_not_hide_later_paragraphs() -> None:
    assert linked_tickets("", "a stray ` here\n\nFixes #3\n\nand `code`", REPO) == [3]


def test_unclosed_fence_hides_the_rest() -> None:
    assert linked_tickets("", "Fixes #1\n```\nFixes #2\n", REPO) == [1]
    assert linked_tickets("", "Fixes #1 <!-- fixes #2", REPO) == [1]


def test_one_reference_per_keyword_like_github() -> None:
    assert linked_tickets("", "Fixes #1, #2 and fixes #3", REPO) == [1, 3]


def test_links_are_bounded() -> None:
    body = " ".join(f"fixes #{n}" for n in range(1, 500))
    assert len(linked_tickets("", body, REPO)) == MAX_LINKS
    assert linked_tickets("", "x" * 200_000 + " fixes #1", REPO) == []


def test_strip_code_keeps_prose() -> None:
    assert "Fixes #1" in strip_code("Fixes #1\n```\ncode\n```")


@given(st.text(max_size=300))
def test_never_raises_and_numbers_are_positive(text: str) -> None:
    assert all(n > 0 for n in linked_tickets(text, text, REPO))

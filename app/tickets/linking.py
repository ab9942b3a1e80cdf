"""Which tickets a pull request links: closing keywords and `Refs #N` in its title and body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.markdown import prose_lines

# GitHub caps a PR body at 65,536 characters; anything longer is not from GitHub.
MAX_TEXT = 65_536
MAX_LINKS = 50

_CLOSING = frozenset(
    {"close", "closes", "closed", "fix", "fixes", "fixed", "resolve", "resolves", "resolved"}
)

# A code span ends at its matching backtick run, and never crosses a blank line.
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)*?(?<!`)\1(?!`)", re.DOTALL)
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

# A keyword, an optional colon, then one reference: a URL of an issue, owner/repo#N or #N.
_LINK = re.compile(
    r"(?<![\w-])(?P<kw>close[sd]?|fix(?:e[sd])?|resolve[sd]?|refs?)(?:[ \t]*:[ \t]*|[ \t]+)"
    r"(?:https?://[^\s/]+/(?P<url_repo>[\w.-]+/[\w.-]+)/issues/(?P<url_num>\d{1,9})"
    r"|(?P<xref_repo>[\w.-]+/[\w.-]+)#(?P<xref_num>\d{1,9})"
    r"|#(?P<num>\d{1,9}))"
    r"(?![\w/])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    number: int
    closing: bool  # a closing keyword (merging the PR closes it on GitHub), not just `Refs`


def strip_code(text: str) -> str:
    """Blank out fenced code blocks, inline code spans and HTML comments (PR templates)."""
    text = _HTML_COMMENT.sub(" ", text)
    return _INLINE_CODE.sub(" ", "\n".join(prose_lines(text)))


def links(title: str, body: str | None, repo_full_name: str) -> list[Link]:
    """Tickets of `repo_full_name` linked by the PR, in order of first mention, deduplicated.

    A ticket mentioned both with `Refs` and with a closing keyword is closing.
    """
    repo = repo_full_name.lower()
    found: dict[int, bool] = {}
    for text in (title or "", body or ""):
        for m in _LINK.finditer(strip_code(text[:MAX_TEXT])):
            other = m.group("url_repo") or m.group("xref_repo")
            if other is not None and other.lower() != repo:
                continue
            number = int(m.group("url_num") or m.group("xref_num") or m.group("num"))
            if number <= 0:
                continue
            if number not in found and len(found) >= MAX_LINKS:
                continue
            closing = m.group("kw").lower() in _CLOSING
            found[number] = found.get(number, False) or closing
    return [Link(number, closing) for number, closing in found.items()]


def linked_tickets(title: str, body: str | None, repo_full_name: str) -> list[int]:
    """Numbers of this repository's issues the PR links, in order of first mention."""
    return [link.number for link in links(title, body, repo_full_name)]

"""`baton demo`, the README's first command, plays its whole story."""

from __future__ import annotations

import pytest

from app.demo import run


async def test_the_demo_story(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run() == 0
    out = capsys.readouterr().out
    assert "baton labels #1 status: needs-spec" in out
    assert "this ticket is already claimed by @backend-agent[bot]" in out
    assert "baton unassigns @frontend-agent[bot] on #1" in out
    assert "(taking the refund endpoint)" in out
    assert "Baton / contracts failure" in out and "annotation at web/src/api.ts:7" in out
    assert "Baton / contracts success" in out
    assert "Baton / verification success" in out
    assert "ticket #1: closed, labels ['status: done']" in out
    # The MCP scene: an agent's tools, and its claim as its own comment, handled by the App.
    assert "docs-agent calls list_tickets(free_only=True)" in out
    assert "-> #3 Export orders as CSV (1 free role)" in out
    assert "-> accepted after" in out and "(unnamed): @docs-agent[bot]" in out
    assert "-> status in-progress, claims @docs-agent[bot] (CSV export)" in out
    assert "baton assigns @docs-agent[bot] on #3" in out

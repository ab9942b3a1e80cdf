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

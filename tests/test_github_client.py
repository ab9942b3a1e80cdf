"""The GitHub client against the sandbox: installation tokens on the injected clock, and the
per-delivery memo (one fetch per fact per delivery, the app's own writes seen)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from gidgethub import routing

from app.service.dispatch import Context, Features, SingleFlight
from app.service.github import Generations
from app.service.server import DISPATCHER
from tests.conftest import REPO, Stack, running_stack

echo = routing.Router()


@echo.register("issues", action="opened")
async def _comment_on_open(event, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    number = event.data["issue"]["number"]
    await ctx.gh.post(f"/repos/{ctx.repo}/issues/{number}/comments", data={"body": "seen"})


ECHO = Features(routers=[echo])


def tokens(stack: Stack) -> int:
    return sum(1 for r in stack.sandbox.requests if r.path.endswith("/access_tokens"))


def unauthorized(stack: Stack) -> int:
    return sum(1 for r in stack.sandbox.requests if r.status == 401)


async def opened(stack: Stack, title: str) -> None:
    stack.sandbox.person("ann").open_issue(REPO, title, "body")
    await stack.settle()


async def test_the_token_is_cached_then_renewed_five_minutes_before_it_expires(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, ECHO) as stack:  # the app runs on the sandbox's clock
        await opened(stack, "First")
        stack.sandbox.world.clock.advance(minutes=54)  # an hour of life, six minutes left
        await opened(stack, "Second")
        assert tokens(stack) == 1
        stack.sandbox.world.clock.advance(minutes=2)  # four minutes left: renewal is due
        await opened(stack, "Third")
        assert tokens(stack) == 2 and unauthorized(stack) == 0
        stack.sandbox.world.clock.advance(hours=2)  # long expired: renewed before use
        await opened(stack, "Fourth")
        assert tokens(stack) == 3 and unauthorized(stack) == 0
        assert [c.body for c in stack.sandbox.world.repos[REPO].comments.values()] == ["seen"] * 4


async def test_a_revoked_token_is_renewed_once_and_the_request_retried(tmp_path: Path) -> None:
    async with running_stack(tmp_path, ECHO) as stack:
        await opened(stack, "First")
        stack.sandbox.world.tokens.clear()  # revoked on GitHub's side, still cached by the app
        await opened(stack, "Second")
        assert tokens(stack) == 2 and unauthorized(stack) == 1
        assert len(stack.sandbox.world.repos[REPO].comments) == 2


def gets(stack: Stack, mark: int, path: str) -> int:
    return sum(
        1 for r in stack.requests_since(mark) if r.method == "GET" and r.path == f"/repos/{path}"
    )


async def test_a_delivery_reads_a_fact_once_and_sees_its_own_writes(tmp_path: Path) -> None:
    async with running_stack(tmp_path, Features(routers=[])) as stack:
        n = stack.sandbox.person("ann").open_issue(REPO, "Refunds", "body")
        dispatcher = stack.app[DISPATCHER]
        ctx = await dispatcher.context(1, REPO, memo=True)
        other = await dispatcher.context(1, REPO, memo=True)  # another delivery at once
        issue, events = f"/repos/{REPO}/issues/{n}", f"/repos/{REPO}/issues/{n}/events"
        mark = len(stack.sandbox.requests)
        first = await ctx.gh.getitem(issue)
        assert await ctx.gh.getitem(issue) == first
        assert [e async for e in ctx.gh.getiter(events)] == []
        assert [e async for e in ctx.gh.getiter(events)] == []
        assert gets(stack, mark, f"{REPO}/issues/{n}") == 1
        assert gets(stack, mark, f"{REPO}/issues/{n}/events") == 1

        await ctx.gh.post(issue + "/labels", data={"labels": ["bug"]})
        await ctx.gh.post(issue + "/comments", data={"body": "hi"})
        seen = await ctx.gh.getitem(issue)  # the labels and count as written, not read again
        assert [lb["name"] for lb in seen["labels"]] == ["bug"] and seen["comments"] == 1
        [_ async for _ in ctx.gh.getiter(events)]  # labels add no (un)assignment event
        assert gets(stack, mark, f"{REPO}/issues/{n}") == 1
        assert gets(stack, mark, f"{REPO}/issues/{n}/events") == 1

        await other.gh.post(issue + "/assignees", data={"assignees": ["ann"]})
        again = await ctx.gh.getitem(issue)  # another delivery wrote: read again
        assert [a["login"] for a in again["assignees"]] == ["ann"]
        assert [e["event"] async for e in ctx.gh.getiter(events)] == ["labeled", "assigned"]
        assert gets(stack, mark, f"{REPO}/issues/{n}") == 2
        assert gets(stack, mark, f"{REPO}/issues/{n}/events") == 2

        unmemoised = await dispatcher.context(1, REPO)
        await unmemoised.gh.getitem(issue)
        await unmemoised.gh.getitem(issue)
        assert gets(stack, mark, f"{REPO}/issues/{n}") == 4


async def test_a_check_run_written_joins_its_commits_list(tmp_path: Path) -> None:
    async with running_stack(tmp_path, Features(routers=[])) as stack:
        alice = stack.sandbox.person("alice")
        pr = alice.open_pr(REPO, "Orders", "", "orders", {"a.py": b"x = 1\n"})
        sha = stack.sandbox.world.repos[REPO].issues[pr].head_sha
        ctx = await stack.app[DISPATCHER].context(1, REPO, memo=True)
        runs = f"/repos/{REPO}/commits/{sha}/check-runs?per_page=100"
        mark = len(stack.sandbox.requests)
        assert [r async for r in ctx.gh.getiter(runs, iterable_key="check_runs")] == []
        body = {"name": "Baton / contracts", "head_sha": sha, "status": "in_progress"}
        run = await ctx.gh.post(f"/repos/{REPO}/check-runs", data=body)
        listed = [r async for r in ctx.gh.getiter(runs, iterable_key="check_runs")]
        assert [r["id"] for r in listed] == [run["id"]]
        done = {"status": "completed", "conclusion": "success"}
        await ctx.gh.patch(f"/repos/{REPO}/check-runs/{run['id']}", data=done)
        listed = [r async for r in ctx.gh.getiter(runs, iterable_key="check_runs")]
        assert [(r["id"], r["conclusion"]) for r in listed] == [(run["id"], "success")]
        assert gets(stack, mark, f"{REPO}/commits/{sha}/check-runs") == 1


def test_a_forgotten_subject_never_looks_unchanged() -> None:
    numbers = Generations(maxsize=2)
    seen = numbers.of("acme/shop#1")
    numbers.bump("acme/shop#2")
    numbers.bump("acme/shop#3")
    assert numbers.of("acme/shop#1") == seen  # never written: unchanged
    first = numbers.bump("acme/shop#1")  # evicts #2
    assert numbers.of("acme/shop#1") == first == numbers.latest
    assert numbers.of("acme/shop#2") > first  # forgotten: above every number read before
    assert numbers.of("acme/shop#3") < first and numbers.of(None) == 0


async def test_single_flight_shares_one_call_among_concurrent_callers() -> None:
    calls: list[str] = []
    gate = asyncio.Event()

    async def fetch(answer: str) -> str:
        calls.append(answer)
        await gate.wait()
        if answer == "boom":
            raise RuntimeError(answer)
        return answer

    flight: SingleFlight[str, str] = SingleFlight()
    waiting = [asyncio.create_task(flight.run("config", lambda: fetch("yaml"))) for _ in range(10)]
    await asyncio.sleep(0)  # let every caller join the one request
    gate.set()
    assert await asyncio.gather(*waiting) == ["yaml"] * 10 and calls == ["yaml"]
    assert await flight.run("config", lambda: fetch("again")) == "again"  # done: asked anew
    failing = [asyncio.create_task(flight.run("label", lambda: fetch("boom"))) for _ in range(3)]
    results = await asyncio.gather(*failing, return_exceptions=True)
    assert [str(r) for r in results] == ["boom"] * 3 and calls.count("boom") == 1
    with pytest.raises(RuntimeError):  # a failure is not remembered either
        await flight.run("label", lambda: fetch("boom"))



ended: list[str] = []
last = routing.Router()


@last.register("issues", action="opened")
async def _leave_for_the_end(event, ctx: Context) -> None:  # type: ignore[no-untyped-def]
    async def step(name: str) -> None:
        ended.append(name)
        if name == "boom":
            raise RuntimeError(name)

    ended.append("handler")
    ctx.after_delivery("write", lambda: step("first plan"))
    ctx.after_delivery("fail", lambda: step("boom"))
    ctx.after_delivery("write", lambda: step("last plan"))  # replaces, keeping its place
    raise RuntimeError("a handler failed")  # the steps run all the same


async def test_steps_left_for_the_end_run_once_in_order_even_after_failures(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path, Features(routers=[last])) as stack:
        ended.clear()
        ctx = await stack.app[DISPATCHER].context(1, REPO)  # kept across deliveries: no end
        assert not ctx.after_delivery("write", lambda: asyncio.sleep(0))
        stack.sandbox.person("ann").open_issue(REPO, "Refunds", "body")
        await stack.settle()
        # Each try: the handler, then its steps (the failed delivery is tried again).
        assert ended and ended == ["handler", "last plan", "boom"] * (len(ended) // 3)

"""`baton mcp` end to end (SPEC 10): each agent its own `baton mcp` subprocess with its own token,
driven by the SDK's own client over stdio, against the sandbox and the real app."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from openapi_spec_validator import validate

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.mcp import core
from app.mcp.server import build
from app.mcp.tools import Tools
from app.sandbox import APP_ID
from app.sandbox.server import Request
from tests.conftest import REPO, Stack, free_port, running_stack
from tests.test_tickets_e2e import violations

ROOT = Path(__file__).resolve().parents[1]
A, B = "agent-a[bot]", "agent-b[bot]"

BACKEND = b"""from fastapi import APIRouter, FastAPI

app = FastAPI()
orders = APIRouter(prefix="/api/orders")


@orders.get("/{order_id}")
def get_order(order_id: int): ...


@orders.post("/{order_id}/refund")
def refund(order_id: int): ...


app.include_router(orders)
"""

FRONTEND = b"""export async function loadOrder(id: string) {
  return fetch(`/api/orders/${id}`);
}

export async function cancel(id: string) {
  return fetch(`/api/orders/${id}/cancel`, { method: "POST" });
}
"""
FILES = {"api/orders.py": BACKEND, "web/src/api.ts": FRONTEND}
SPEC = "Refunds.\n\n## Acceptance criteria\n- [x] a refund endpoint\n- [x] a refund button\n"


@contextlib.asynccontextmanager
async def agent(
    stack: Stack | None, login: str | None, cwd: Path, **env: str
) -> AsyncIterator[ClientSession]:
    """A `baton mcp` subprocess acting as `login` (with its own token), and a client session."""
    if stack is not None and login is not None:
        env.setdefault("GITHUB_TOKEN", stack.sandbox.token_for(login))
        env.setdefault("GITHUB_API_URL", stack.sandbox.url)
        env.setdefault("BATON_REPO", REPO)
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "app", "mcp"], env={"PYTHONPATH": str(ROOT), **env},
        cwd=cwd,
    )  # fmt: skip
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def error(session: ClientSession, tool: str, **arguments: Any) -> str:
    result = await session.call_tool(tool, arguments)
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


def by(requests: list[Request], login: str) -> list[Request]:
    return [r for r in requests if r.auth == "user" and r.login == login]


def comments_by(stack: Stack, login: str) -> list[str]:
    repo = stack.sandbox.world.repos[REPO]
    return [c.body for c in repo.comments.values() if c.user.login == login]


async def test_two_agents_claim_refuse_hand_off_and_report_done(tmp_path: Path) -> None:
    async with running_stack(tmp_path, files=FILES) as stack:
        maya = stack.sandbox.person("maya")
        stack.sandbox.grant(REPO, "maya", "write")
        stack.sandbox.person(A, "Bot"), stack.sandbox.person(B, "Bot")
        first = maya.open_issue(REPO, "Refunds", SPEC, ["role: backend", "role: frontend"])
        maya.open_issue(REPO, "Someday", "No criteria yet.")
        await stack.settle()
        async with agent(stack, A, tmp_path) as a, agent(stack, B, tmp_path) as b:
            tools = {t.name: t for t in (await a.list_tools()).tools}
            assert set(tools) == {"list_tickets", "get_ticket", "get_my_workload",
                                  "update_handoff_request", "get_api_spec", "get_mismatches"}
            assert all(t.output_schema and t.description for t in tools.values())

            free = await call(a, "list_tickets", free_only=True)
            assert [t["number"] for t in free["tickets"]] == [first]
            assert free["tickets"][0]["free_roles"] == ["backend", "frontend"]

            claimed = await call(a, "update_handoff_request", number=first, action="claim",
                                 role="backend", note="taking the refund API")
            assert claimed["outcome"] == "accepted", claimed
            roles = {r["role"]: r for r in claimed["roles"]}
            assert roles["backend"]["holder"] == A and not roles["frontend"]["holder"]
            assert claimed["status"] == "in-progress"

            seen = await call(b, "get_ticket", number=first)
            held = {r["role"]: r for r in seen["roles"]}["backend"]
            assert (held["holder"], held["note"], held["free"]) == (A, "taking the refund API",
                                                                    False)
            assert held["since"]
            assert [c["text"] for c in seen["criteria"]] == ["a refund endpoint", "a refund button"]
            work = await call(a, "get_my_workload")
            assert [(w["ticket"], w["role"], w["note"]) for w in work["claims"]] == [
                (first, "backend", "taking the refund API")
            ]

            refused = await call(b, "update_handoff_request", number=first, action="claim",
                                 role="backend", note="me too")
            assert refused["outcome"] == "refused"
            assert "taking the refund API" in refused["reason"] and A in refused["reason"]
            assert refused["held_by"]["holder"] == A
            assert refused["held_by"]["note"] == "taking the refund API"

            passed = await call(a, "update_handoff_request", number=first, action="handoff",
                                role="backend", to=B, note="yours, API is half done")
            assert passed["outcome"] == "accepted", passed
            assert {r["role"]: r["holder"] for r in passed["roles"]}["backend"] == B

            pr = stack.sandbox.person(B).open_pr(
                REPO, "Refund endpoint", f"Fixes #{first}", "refunds", {"api/orders.py": BACKEND}
            )
            await stack.settle()
            done = await call(b, "update_handoff_request", number=first, action="done",
                              role="backend", evidence="pytest api/ -q: 12 passed")
            assert done["outcome"] == "accepted", done
            assert [(d["role"], d["by"], d["evidence"]) for d in done["done"]] == [
                ("backend", B, "pytest api/ -q: 12 passed")
            ]
            await stack.settle()

            ticket = await call(b, "get_ticket", number=first)
            (linked,) = ticket["pull_requests"]
            assert linked["number"] == pr
            rows = {c["name"]: c for c in linked["gate"]["conditions"]}
            assert set(rows) == {"ticket", "spec", "evidence", "claim", "contracts", "checks",
                                 "human review"}
            assert rows["ticket"]["mark"] == "pass" and rows["claim"]["mark"] == "pass"
            assert rows["evidence"]["mark"] == "wait" and "frontend" in rows["evidence"]["detail"]
            assert rows["human review"]["mark"] == "wait"
            assert any("human review" in w for w in linked["waiting_for"])

            errors = await error(b, "update_handoff_request", number=first, action="claim",
                                 role="design")
            assert "role unknown" in errors and "`backend`" in errors
            assert "pull request, not a ticket" in await error(b, "get_ticket", number=pr)

        # Every step is the agent's own action on GitHub, handled by the App.
        assert comments_by(stack, A) == [
            "/claim backend -- taking the refund API",
            f"/handoff @{B} backend -- yours, API is half done",
        ]
        assert comments_by(stack, B) == [
            "/claim backend -- me too", "/done backend -- pytest api/ -q: 12 passed"
        ]
        posts = [r for r in stack.sandbox.requests if r.method == "POST" and r.auth == "user"]
        assert {r.login for r in posts} == {A, B}
        assert violations(by(stack.sandbox.requests, A) + by(stack.sandbox.requests, B)) == []


async def test_workload_of_three_claims_costs_four_requests_then_only_304s(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path) as stack:
        maya = stack.sandbox.person("maya")
        stack.sandbox.grant(REPO, "maya", "write")
        me = stack.sandbox.person(A, "Bot")
        numbers = [maya.open_issue(REPO, f"Ticket {i}", SPEC) for i in range(3)]
        for n in numbers:
            me.comment(REPO, n, f"/claim -- ticket {n}")
        await stack.settle()
        async with agent(stack, A, tmp_path) as a:
            mark = len(stack.sandbox.requests)
            work = await call(a, "get_my_workload")
            first = by(stack.requests_since(mark), A)
            mark = len(stack.sandbox.requests)
            again = await call(a, "get_my_workload")
            second = by(stack.requests_since(mark), A)
        assert sorted(w["ticket"] for w in work["claims"]) == numbers
        assert all(w["status"] == "in-progress" for w in work["claims"])
        assert len(first) <= 4, [(r.method, r.path) for r in first]
        assert again == work
        assert second and {r.status for r in second} == {304}, [(r.path, r.status) for r in second]


def _scan_json(path: Path, fmt: str = "json") -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "app", "scan", str(path), "--format", fmt],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def _checkout(path: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.mark.parametrize("token", [False, True])
async def test_contract_of_the_working_tree_without_network(tmp_path: Path, token: bool) -> None:
    repo = _checkout(tmp_path / "shop", FILES)
    env = {"GITHUB_TOKEN": "ghp_unused", "GITHUB_API_URL": "http://127.0.0.1:9"} if token else {}
    async with agent(None, None, repo, BATON_REPO="acme/shop", **env) as a:
        spec = await call(a, "get_api_spec")
        drift = await call(a, "get_mismatches")
    validate(spec["document"])
    assert spec["document"]["openapi"] == "3.1.0"
    assert spec["source"] == "working tree"
    refund = spec["document"]["paths"]["/api/orders/{order_id}/refund"]["post"]
    assert refund["x-baton-source"] == {"file": "api/orders.py", "line": 11}
    assert refund["parameters"][0]["name"] == "order_id"
    assert spec["document"] == _scan_json(repo, "openapi")  # the scanner's own export
    expected = _scan_json(repo)
    assert [{k: v for k, v in f.items() if k != "new"} for f in drift["findings"]] == expected[
        "findings"
    ]
    assert drift["summary"] == expected["summary"]
    assert any(f["code"] == "unknown-endpoint" for f in drift["findings"])


async def test_mismatches_of_a_ref_and_a_pr_through_github(tmp_path: Path) -> None:
    async with running_stack(tmp_path, files=FILES) as stack:
        dev = stack.sandbox.person(A, "Bot")
        stack.sandbox.person("maya").open_issue(REPO, "Refunds", SPEC)  # #1: Baton's App
        fixed = FRONTEND.replace(b"/cancel", b"/refund")
        pr = dev.open_pr(REPO, "Fix the call", "Refs #1", "fix", {"web/src/api.ts": fixed})
        worse = FRONTEND + b"export const ship = (id: string) => fetch(`/api/ship/${id}`);\n"
        bad = dev.open_pr(REPO, "Shipping", "Refs #1", "ship", {"web/src/api.ts": worse})
        await stack.settle()
        async with agent(stack, A, tmp_path) as a:
            on_main = await call(a, "get_mismatches", ref="main")
            of_pr = await call(a, "get_mismatches", pr=pr)
            of_bad = await call(a, "get_mismatches", pr=bad, new_only=True)
            spec = await call(a, "get_api_spec", ref="main")
            mark = len(stack.sandbox.requests)
            assert await call(a, "get_mismatches", ref="main") == on_main
            repeated = by(stack.requests_since(mark), A)
            # The default branch moves (a push adding drift): the next read sees it.
            repo = stack.sandbox.world.repos[REPO]
            stack.sandbox.world.commit(repo, "main", {"web/src/api.ts": worse}, "push")
            moved = await call(a, "get_mismatches", ref="main")
    validate(spec["document"])
    main_tree = _scan_json(_checkout(tmp_path / "main", FILES))
    assert [{k: v for k, v in f.items() if k != "new"} for f in on_main["findings"]] == main_tree[
        "findings"
    ]
    pr_tree = _scan_json(_checkout(tmp_path / "pr", {**FILES, "web/src/api.ts": fixed}))
    assert [f["key"] for f in of_pr["findings"]] == [f["key"] for f in pr_tree["findings"]]
    assert of_pr["check_run"]["conclusion"] == "success"
    assert not any(f["new"] for f in of_pr["findings"])  # the fix adds no drift
    assert {r.status for r in repeated} == {304}
    assert [(f["code"], f["endpoint"], f["new"]) for f in of_bad["findings"]] == [
        ("unknown-endpoint", "/api/ship/{}", True)
    ]
    assert of_bad["check_run"]["conclusion"] == "failure" and of_bad["base"].startswith("base ")
    assert len(moved["findings"]) == len(on_main["findings"]) + 1
    assert any(f["endpoint"] == "/api/ship/{}" for f in moved["findings"])


async def tool_error(tools: Tools, tool: str, **arguments: Any) -> str:
    """In process, through the SDK's client: the error text an agent would read."""
    async with Client(build(tools)) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return " ".join(getattr(c, "text", "") for c in result.content)


async def use(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def status_json(stack: Stack, number: int) -> dict[str, Any]:
    repo = stack.sandbox.world.repos[REPO]
    bodies = [c.body for c in repo.comments.values()
              if c.issue_number == number and core.state_of(c.body) is not None]  # fmt: skip
    state = core.state_of(bodies[0])
    assert state is not None
    return state


async def test_another_apps_run_named_like_batons_is_not_batons(tmp_path: Path) -> None:
    """CI posting `Baton / verification` and `Baton / contracts` (e.g. `baton scan` in a
    workflow): the tools show Baton's runs, known by the App's id, never by their name."""
    async with running_stack(tmp_path, files=FILES) as stack:
        maya = stack.sandbox.person("maya")
        stack.sandbox.grant(REPO, "maya", "write")
        ci = stack.sandbox.person("ci-runner[bot]", "Bot")
        loose = maya.open_pr(REPO, "Tidy", "No ticket.", "tidy", {"api/orders.py": BACKEND})
        await stack.settle()
        repo = stack.sandbox.world.repos[REPO]
        ci.check(REPO, repo.issues[loose].head_sha, CONTRACTS_CHECK, "failure")
        url, token = stack.sandbox.url, stack.sandbox.token_for(A)
        # No ticket has a status comment yet: nothing tells Baton's App but BATON_APP_ID.
        async with Client(build(Tools(token, REPO, url, str(tmp_path)))) as client:
            unknown = await use(client, "get_mismatches", pr=loose)
        async with Client(build(Tools(token, REPO, url, str(tmp_path), app_id=APP_ID))) as client:
            named = await use(client, "get_mismatches", pr=loose)
        assert unknown["check_run"] is None
        assert named["check_run"]["conclusion"] == "success"

        number = maya.open_issue(REPO, "Refunds", SPEC)
        pr = maya.open_pr(REPO, "Refunds", f"Fixes #{number}", "refunds", {"api/orders.py":
                                                                          BACKEND})  # fmt: skip
        await stack.settle()
        sha = repo.issues[pr].head_sha
        ci.check(REPO, sha, VERIFICATION_CHECK, "success")
        ci.check(REPO, sha, CONTRACTS_CHECK, "failure")
        await stack.settle()
        tools = Tools(token, REPO, url, str(tmp_path))
        async with Client(build(tools)) as client:
            ticket = await use(client, "get_ticket", number=number)
            drift = await use(client, "get_mismatches", pr=pr)
        mark = len(stack.sandbox.requests)
    assert tools.app is not None and tools.app.id == APP_ID  # learnt from the status comment
    batons = max((r for r in repo.check_runs.values() if r.head_sha == sha
                  and r.name == VERIFICATION_CHECK and r.app_id == APP_ID), key=lambda r: r.id)
    gate = ticket["pull_requests"][0]["gate"]
    assert (gate["status"], gate["conclusion"], gate["title"]) == (
        batons.status, batons.conclusion, batons.output["title"])  # fmt: skip
    assert batons.conclusion != "success" and len(gate["conditions"]) == 7
    assert drift["check_run"]["conclusion"] == "success"  # Baton's, not CI's failure
    asked = [r for r in by(stack.sandbox.requests[:mark], A) if r.path.endswith("/check-runs")]
    assert asked and all(r.query.get("app_id") == str(APP_ID) for r in asked[1:])
    assert violations(by(stack.sandbox.requests, A)) == []


async def test_every_answer_is_known_by_batons_reaction(tmp_path: Path) -> None:
    """Baton acknowledges each command with a reaction (+1, confused, -1) and rewrites the
    status comment only when something shows: a repeated claim, a release of a free role and a
    second /done return at once, with Baton's outcome and the state after."""
    async with running_stack(tmp_path) as stack:
        maya = stack.sandbox.person("maya")
        stack.sandbox.grant(REPO, "maya", "write")
        stack.sandbox.person(A, "Bot"), stack.sandbox.person(B, "Bot")
        number = maya.open_issue(REPO, "Refunds", SPEC, ["role: backend"])
        await stack.settle()
        url = stack.sandbox.url
        a = Tools(stack.sandbox.token_for(A), REPO, url, str(tmp_path))
        b = Tools(stack.sandbox.token_for(B), REPO, url, str(tmp_path))
        async with Client(build(a)) as ca, Client(build(b)) as cb:
            first = await use(ca, "update_handoff_request", number=number, action="claim",
                              role="backend", note="the API")
            again = await use(ca, "update_handoff_request", number=number, action="claim",
                              role="backend")
            handled = status_json(stack, number)["handled"]
            not_yours = await use(cb, "update_handoff_request", number=number, action="release",
                                  role="backend")
            done = await use(ca, "update_handoff_request", number=number, action="done",
                             role="backend", evidence="pytest: 3 ok")
            redone = await use(ca, "update_handoff_request", number=number, action="done",
                               role="backend", evidence="pytest: 4 ok")
            released = await use(ca, "update_handoff_request", number=number, action="release")
            twice = await use(ca, "update_handoff_request", number=number, action="release",
                              role="backend")
    answers = [first, again, not_yours, done, redone, released, twice]
    assert [x["outcome"] for x in answers] == [
        "accepted", "accepted", "refused", "accepted", "accepted", "accepted", "refused"
    ], answers
    # The repeated claim changed nothing visible: Baton did not record it, only reacted.
    assert int(again["comment_url"].rsplit("-", 1)[1]) not in handled
    assert all(x["waited_seconds"] < core.SETTLE for x in answers), answers
    assert again["roles"][0]["holder"] == A and again["roles"][0]["note"] == "the API"
    assert "is held by" in not_yours["reason"] and not_yours["roles"][0]["holder"] == A
    assert released["roles"][0]["holder"] is None
    assert "not claimed" in twice["reason"], twice
    assert [(d["by"], d["evidence"]) for d in redone["done"]] == [(A, "pytest: 4 ok")]
    reactions = [[content for _, who, content in c.reactions if who.endswith("[bot]")]
                 for c in stack.sandbox.world.repos[REPO].comments.values()
                 if c.user.login in (A, B)]  # fmt: skip
    assert reactions == [["+1"], ["+1"], ["-1"], ["+1"], ["+1"], ["+1"], ["-1"]]


async def test_a_reaction_from_anyone_but_baton_is_no_answer(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        maya = stack.sandbox.person("maya")
        number = maya.open_issue(REPO, "Refunds", SPEC)
        await stack.settle()
        stack.sandbox.webhook_url = None  # the App hears nothing more
        comments = stack.sandbox.world.repos[REPO].comments
        ticks = iter(range(0, 10_000, 10))

        def clock() -> float:  # each reading 10 s later; a person 👍s the agent's comment
            mine = [c for c in comments.values() if c.user.login == A]
            if mine:
                maya.react(REPO, mine[-1].id, "+1")
            return float(next(ticks))

        tools = Tools(stack.sandbox.token_for(A), REPO, stack.sandbox.url, str(tmp_path),
                      wait=30, clock=clock)  # fmt: skip
        async with Client(build(tools)) as client:
            out = await use(client, "update_handoff_request", number=number, action="claim")
    assert out["outcome"] == "timeout", out
    listed = [r for r in by(stack.sandbox.requests, A) if r.path.endswith("/reactions")]
    assert listed and {r.method for r in listed} == {"GET"}
    assert violations(by(stack.sandbox.requests, A)) == []


async def test_errors_say_what_to_do_next(tmp_path: Path) -> None:
    async with running_stack(tmp_path, files={".github/baton.yml": b"tickets: {label: ticket}\n"}
                             ) as stack:  # fmt: skip
        maya = stack.sandbox.person("maya")
        plain = maya.open_issue(REPO, "Not a ticket", SPEC)
        closed = maya.open_issue(REPO, "Old", SPEC, ["ticket"])
        maya.close(REPO, closed, "not_planned")
        await stack.settle()
        url, token = stack.sandbox.url, stack.sandbox.token_for(A)
        no_token = await tool_error(Tools(None, REPO, url), "get_my_workload")
        assert "GITHUB_TOKEN is not set" in no_token
        assert "BATON_REPO=owner/name" in await tool_error(Tools(token, None, url), "list_tickets")
        bad = await tool_error(Tools("ghp_revoked", REPO, url), "list_tickets")
        assert "401 Bad credentials" in bad and "GITHUB_TOKEN" in bad
        tools = Tools(token, REPO, url, str(tmp_path))
        assert "labelled `ticket`" in await tool_error(tools, "get_ticket", number=plain)
        assert "is closed" in await tool_error(
            tools, "update_handoff_request", number=closed, action="claim")
        assert "Not found" in await tool_error(tools, "get_ticket", number=99)
        assert "status must be one of" in await tool_error(tools, "list_tickets", status="open")
        assert "handoff needs `to`" in await tool_error(
            tools, "update_handoff_request", number=closed, action="handoff")
        assert "`ref` or `pr`, not both" in await tool_error(
            tools, "get_mismatches", ref="main", pr=1)


async def test_a_claim_the_app_does_not_answer_times_out_and_says_so(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        maya = stack.sandbox.person("maya")
        number = maya.open_issue(REPO, "Refunds", SPEC)
        await stack.settle()
        stack.sandbox.webhook_url = None  # the App hears nothing more
        ticks = iter(range(0, 10_000, 10))  # each reading of the clock: 10 s later
        tools = Tools(stack.sandbox.token_for(A), REPO, stack.sandbox.url, str(tmp_path),
                      wait=30, clock=lambda: float(next(ticks)))  # fmt: skip
        async with Client(build(tools)) as client:
            result = await client.call_tool(
                "update_handoff_request", {"number": number, "action": "claim"})
        out = result.structured_content or {}
        assert out["outcome"] == "timeout" and "after 30 s" in out["reason"]
        assert out["comment_url"].endswith(f"/issues/{number}#issuecomment-"
                                           f"{max(stack.sandbox.world.repos[REPO].comments)}")
        assert comments_by(stack, A) == ["/claim"]


async def test_streamable_http_serves_the_same_tools(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "mcp", "--http", f"127.0.0.1:{port}"], cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "BATON_REPO": "acme/shop"},
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        names: set[str] = set()
        for _ in range(100):  # until it listens
            try:
                async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                    names = {t.name for t in (await client.list_tools()).tools}
                    result = await client.call_tool("get_my_workload", {})
                break
            except Exception:  # not listening yet
                await asyncio.sleep(0.1)
        assert "update_handoff_request" in names and len(names) == 6
        assert result.is_error and "GITHUB_TOKEN is not set" in str(result.content)
    finally:
        server.terminate()
        server.wait(10)

"""`baton demo`: the real app against the built-in sandbox, playing a short multi-agent story."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcp.client import Client

from app.features import FEATURES
from app.mcp.server import build
from app.mcp.tools import Tools
from app.sandbox import APP_ID, SandboxServer
from app.sandbox.server import Request
from app.service.server import STORE, WORKER, serve
from app.service.settings import Settings

REPO = "acme/shop"
SECRET = "demo-secret"

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
  const res = await fetch(`/api/orders/${id}`);
  return res.json();
}

export async function refund(id: string) {
  return fetch(`/api/orders/${id}/refund`, { method: "POST" });
}
"""

SPEC = """Customers ask for their money back from the order page.

## Acceptance criteria
- [x] the order page shows a Refund button
- [x] refunds go through `POST /api/orders/{id}/refund`
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def describe(r: Request, sandbox: SandboxServer) -> str | None:
    """One line for a write the app made, as a person reading the repository would see it."""
    body: Any = r.body if isinstance(r.body, dict) else {}
    path = r.path.removeprefix(f"/repos/{REPO}")
    if m := re.fullmatch(r"/issues/(\d+)/labels", path):
        return f"labels #{m[1]} {', '.join(body.get('labels', []))}"
    if m := re.fullmatch(r"/issues/(\d+)/labels/(.+)", path):
        return f"removes label {m[2].replace('%20', ' ').replace('%3A', ':')} from #{m[1]}"
    if m := re.fullmatch(r"/issues/(\d+)/assignees", path):
        verb = "assigns" if r.method == "POST" else "unassigns"
        return f"{verb} {', '.join('@' + a for a in body.get('assignees', []))} on #{m[1]}"
    if m := re.fullmatch(r"/issues/(\d+)/comments", path):
        if body.get("body", "").startswith("<!-- baton:status -->"):
            return f"posts the status comment on #{m[1]}"
        first = next((ln for ln in body.get("body", "").splitlines() if ln.strip()), "")
        return f"comments on #{m[1]}: {first[:110]}"
    if re.fullmatch(r"/issues/comments/\d+", path):
        return "updates the status comment"
    if re.fullmatch(r"/issues/comments/\d+/reactions", path):
        return f"reacts {body.get('content')} to the command (acknowledged)"
    if m := re.fullmatch(r"/issues/(\d+)", path):
        return f"sets #{m[1]} {', '.join(f'{k}={v}' for k, v in body.items())}"
    if path == "/labels":
        return None  # label creation is bookkeeping
    if m := re.fullmatch(r"/check-runs(?:/(\d+))?", path):
        runs = sandbox.world.repos[REPO].check_runs
        name = body.get("name") or (runs[int(m[1])].name if m[1] else "")
        output = body.get("output") or {}
        state = body.get("conclusion") or body.get("status") or "updated"
        notes = len(output.get("annotations") or [])
        extra = f" ({notes} annotations)" if notes else ""
        title = output.get("title", "")
        return f"check run {name} {state}: {title}{extra}"
    return f"{r.method} {path}"


class Story:
    def __init__(self, sandbox: SandboxServer, app: Any) -> None:
        self.sandbox = sandbox
        self.app = app
        self.mark = 0
        self.step = 0

    async def settle(self) -> None:
        for _ in range(50):
            await self.sandbox.flush()
            await self.app[WORKER].wait_idle(30)
            await asyncio.sleep(0.02)
            if self.sandbox.outbox_empty and self.app[STORE].depth() == 0:
                return

    async def say(self, text: str) -> None:
        """Print what happened, then what the app did about it."""
        await self.settle()
        self.step += 1
        print(f"\n{self.step:>2}. {text}")
        lines = [
            describe(r, self.sandbox)
            for r in self.sandbox.requests[self.mark :]
            if r.method != "GET" and r.status < 400 and r.auth == "installation"
        ]
        for line in filter(None, lines):
            print(f"      baton {line}")
        if not any(lines):
            print("      baton changes nothing")
        self.mark = len(self.sandbox.requests)

    def annotations(self, name: str) -> None:
        runs = [r for r in self.sandbox.world.repos[REPO].check_runs.values() if r.name == name]
        for note in runs[-1].annotations[:3] if runs else []:
            where = f"{note.get('path')}:{note.get('start_line')}"
            print(f"      annotation at {where}: {str(note.get('message', ''))[:100]}")

    def claims(self, number: int) -> str:
        """The claims as an agent reads them: the JSON in the status comment."""
        repo = self.sandbox.world.repos[REPO]
        for c in repo.comments.values():
            if c.issue_number == number and c.body.startswith("<!-- baton:status -->"):
                m = re.search(r"<!-- baton:state (\{.*?\}) -->", c.body, re.S)
                state = json.loads(m[1]) if m else {}
                return ", ".join(
                    f"@{c['holder']} since {c['since']} ({c['note'] or 'no note'})"
                    for c in state.get("claims", [])
                )
        return ""


async def play(sandbox: SandboxServer, app: Any) -> None:
    story = Story(sandbox, app)
    world = sandbox.world
    maya = sandbox.person("maya")  # a human maintainer
    sandbox.grant(REPO, "maya", "write")
    back = sandbox.person("backend-agent[bot]", "Bot")
    front = sandbox.person("frontend-agent[bot]", "Bot")
    print(f"Baton demo: the real app against the sandbox GitHub at {sandbox.url}")
    print(f"repository {REPO}: a FastAPI backend and a TypeScript frontend")

    n = back.open_issue(REPO, "Refunds from the order page", "Let customers get a refund.")
    await story.say(f"backend-agent opens ticket #{n} with no acceptance criteria")
    back.edit_issue(REPO, n, body=SPEC)
    await story.say(f"backend-agent edits #{n}: acceptance criteria added")

    # Both agents take the ticket; GitHub records the backend agent first, but the deliveries
    # reach Baton in the opposite order.
    with sandbox.hold() as held:
        back.assign(REPO, n)
        world.clock.advance(seconds=2)
        front.assign(REPO, n)
    sandbox.release(list(reversed(held)))
    await story.say("both agents assign themselves; the later one's delivery arrives first")
    back.comment(REPO, n, "/claim -- taking the refund endpoint")
    await story.say("backend-agent: /claim -- taking the refund endpoint")
    print(f"      the status comment's JSON now says: {story.claims(n)}")

    # A PR that drops the endpoint the frontend still calls.
    broken = BACKEND.replace(
        b'@orders.post("/{order_id}/refund")\ndef refund(order_id: int): ...\n', b""
    )
    pr = back.open_pr(
        REPO, f"Rework orders (fixes #{n})", f"Fixes #{n}", "rework", {"api/orders.py": broken}
    )
    await story.say(f"backend-agent opens PR #{pr}, which removes POST /api/orders/{{id}}/refund")
    story.annotations("Baton / contracts")
    back.push(REPO, pr, {"api/orders.py": BACKEND})
    await story.say(f"backend-agent pushes a fix to PR #{pr}")
    back.comment(REPO, n, "/done -- refund endpoint kept, tests in api/test_orders.py")
    await story.say("backend-agent: /done with evidence")
    front.review(REPO, pr, "APPROVED", "LGTM")
    await story.say("frontend-agent approves the PR (an agent's approval does not count)")
    maya.review(REPO, pr, "APPROVED", "Checked the refund flow by hand.")
    await story.say("maya (human, write access) approves the head commit")
    maya.merge(REPO, pr)
    await story.say(f"maya merges PR #{pr}")
    issue = world.repos[REPO].issues[n]
    print(f"\nticket #{n}: {issue.state}, labels {[lb.name for lb in issue.labels]}")
    await mcp_scene(sandbox, story, maya)
    print(f"\n{len(sandbox.requests)} API requests, {len(sandbox.deliveries)} deliveries in all")


def _said(tool: str, result: dict[str, Any]) -> str:
    """One line for what a tool answered."""
    if tool == "list_tickets":
        return ", ".join(f"#{t['number']} {t['title']} ({len(t['free_roles'])} free role)"
                         for t in result["tickets"]) or "nothing"  # fmt: skip
    if tool == "get_my_workload":
        claims = [f"#{c['ticket']} {c['role'] or '(unnamed)'}" for c in result["claims"]]
        return ", ".join(claims) or "no claims"
    if tool == "update_handoff_request":
        held = ", ".join(f"{r['role'] or '(unnamed)'}: @{r['holder']}" for r in result["roles"])
        return f"{result['outcome']} after {result['waited_seconds']} s; {held}"
    if tool == "get_ticket":
        return f"status {result['status']}, claims " + ", ".join(
            f"@{c['holder']} ({c['note']})" for c in result["claims"])
    if tool == "get_mismatches":
        counts = result["summary"]
        return (f"{counts['errors']} errors, {counts['warnings']} warnings, "
                f"{counts['notices']} notices on {counts['endpoints']} endpoints")  # fmt: skip
    return json.dumps(result)[:120]


async def mcp_scene(sandbox: SandboxServer, story: Story, maya: Any) -> None:
    """An agent works through its MCP tools (in process here; `baton mcp` serves them)."""
    spec = "## Acceptance criteria\n- [ ] `GET /api/orders/export` answers CSV\n"
    n = maya.open_issue(REPO, "Export orders as CSV", spec)
    await story.say(f"maya opens ticket #{n}; docs-agent starts its MCP session (`baton mcp`)")
    login = "docs-agent[bot]"
    tools = Tools(sandbox.token_for(login), REPO, sandbox.url, root=tempfile.gettempdir())
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_my_workload", {}),
        ("list_tickets", {"free_only": True}),
        ("update_handoff_request", {"number": n, "action": "claim", "note": "CSV export"}),
        ("get_ticket", {"number": n}),
        ("get_mismatches", {"ref": "main"}),
    ]
    async with Client(build(tools)) as client:
        for tool, arguments in calls:
            result = await client.call_tool(tool, arguments)
            args = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
            print(f"      docs-agent calls {tool}({args})")
            print(f"        -> {_said(tool, result.structured_content or {})}")
    await story.say(f"docs-agent's claim was its own `/claim` comment on #{n}")


async def run() -> int:
    sandbox = SandboxServer(SECRET)
    await sandbox.start()
    sandbox.add_repo(REPO, {"api/orders.py": BACKEND, "web/src/api.ts": FRONTEND})
    with tempfile.TemporaryDirectory(prefix="baton-demo-") as tmp:
        settings = Settings(
            app_id=str(APP_ID), private_key=sandbox.private_key, webhook_secret=SECRET,
            host="127.0.0.1", port=_free_port(), github_api_url=sandbox.url,
            db_path=str(Path(tmp) / "demo.db"), reconcile_interval=0, retry_base=0.05,
        )  # fmt: skip
        started: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        stop = asyncio.Event()
        server = asyncio.create_task(
            serve(settings, stop=stop, on_start=started.set_result, features=FEATURES)
        )
        app = await started
        sandbox.webhook_url = f"http://127.0.0.1:{settings.port}{settings.webhook_path}"
        try:
            await play(sandbox, app)
        finally:
            stop.set()
            with contextlib.suppress(Exception):
                await server
            await sandbox.stop()
    return 0


def main() -> int:
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    return asyncio.run(run())

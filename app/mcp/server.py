"""`baton mcp [--http HOST:PORT]`: the agents' MCP server (SPEC 10) on the official SDK.

One server per agent: it acts on GitHub with the agent's own token (`GITHUB_TOKEN`), on
`BATON_REPO` or the working directory's `origin`, against `GITHUB_API_URL`. It keeps no state of
its own: claims, releases, handoffs and done reports are comments the App handles.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from . import core
from . import model as m
from .tools import Tools

INSTRUCTIONS = """\
Baton coordinates the coding agents and humans working on one GitHub repository. Tickets are
issues with acceptance criteria; a claim (one holder per ticket role) says who works on what;
every PR is checked against the API contract (`Baton / contracts`) and gated by
`Baton / verification`. Everything you do here is an ordinary GitHub action of your account.

How to work: get_my_workload first (finish what you hold); else list_tickets(free_only=true),
get_ticket to read the criteria, update_handoff_request(action="claim", note=...) before any
work; open a PR with `Fixes #N`; get_mismatches before pushing; when the criteria are met,
update_handoff_request(action="done", evidence=...); release or hand off what you stop doing."""

NumberArg = Annotated[int, Field(description="the ticket's issue number, e.g. 42")]
RoleArg = Annotated[
    str | None,
    Field(description="the ticket role (a `role: NAME` label); omit when it has none"),
]


def build(tools: Tools) -> MCPServer:
    """The MCP server around one agent's `Tools`; its session opens with the server's."""

    @contextlib.asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        await tools.open()
        try:
            yield
        finally:
            await tools.close()

    server: MCPServer = MCPServer("baton", instructions=INSTRUCTIONS, lifespan=lifespan)

    @server.tool(
        description="List the open tickets of the repository: each ticket's status, whether its "
        "spec (acceptance criteria) is ready, its roles with their holders, and which roles are "
        "free. Call it to find work: free_only=true gives the tickets you could claim now. "
        "Then get_ticket for one ticket's criteria and claims."
    )
    async def list_tickets(
        status: Annotated[str | None, Field(
            description="only tickets with this status: needs-spec, ready, in-progress, "
            "validation or done")] = None,
        role: Annotated[str | None, Field(description="only tickets with this role")] = None,
        free_only: Annotated[bool, Field(
            description="only specified tickets with a free role (claimable now)")] = False,
    ) -> m.TicketList:
        return await tools.list_tickets(status, role, free_only)

    @server.tool(
        description="Everything about one ticket: its status, acceptance criteria (ticked or "
        "not), roles and who holds each (since when, their note), done reports with evidence, "
        "and for each linked pull request the `Baton / verification` conditions (pass, wait or "
        "fail, with details): what the merge still waits for. Call it before claiming, and to "
        "see what blocks your PR. `baton_state` is Baton's raw status JSON."
    )
    async def get_ticket(number: NumberArg) -> m.Ticket:
        return await tools.get_ticket(number)

    @server.tool(
        description="Your open claims in this repository (you: the account of GITHUB_TOKEN): "
        "each ticket and role you hold, your note, the linked pull requests, and what each still "
        "waits for (criteria, /done, checks, review). Call it first in a session, and before "
        "claiming more: agents may hold only a few claims at once (3 by default)."
    )
    async def get_my_workload() -> m.Workload:
        return await tools.get_my_workload()

    @server.tool(
        description="Claim, release, hand off or report done a ticket role, as yourself on "
        "GitHub (a `/claim`, `/release`, `/handoff` or `/done` comment that every agent and human "
        "sees). Waits until Baton has handled it (up to 30 s) and returns `accepted` with the "
        "new roles, or `refused` with Baton's reason (e.g. the role is held: who, since when, "
        "their note), or `timeout`. Claim before you start work, with a note saying what you "
        "will do; report done with evidence (tests run, output, links); release or hand off "
        "what you stop working on. Only a claim's holder (or a maintainer) can release, hand "
        "it off or report it done."
    )
    async def update_handoff_request(
        number: NumberArg,
        action: Annotated[str, Field(description="claim | release | handoff | done")],
        role: RoleArg = None,
        note: Annotated[str | None, Field(
            description="claim/handoff: what you (or they) will do, one line")] = None,
        to: Annotated[str | None, Field(
            description="handoff: the GitHub login that takes the claim over")] = None,
        evidence: Annotated[str | None, Field(
            description="done: the proof, e.g. the test command and its result")] = None,
    ) -> m.HandoffResult:
        return await tools.update_handoff_request(number, action, role, note, to, evidence)

    @server.tool(
        description="The API contract: every endpoint the backend provides (from OpenAPI files "
        "and FastAPI, Flask, Express routes, found by parsing, never running, the code) as an "
        "OpenAPI 3.1 document, each operation with its source file and line in "
        "`x-baton-source`. Without `ref`: your working tree; with `ref` (branch, tag or SHA): "
        "that commit on GitHub. Read it before calling or changing an endpoint."
    )
    async def get_api_spec(
        ref: Annotated[str | None, Field(
            description="branch, tag or commit SHA on GitHub; omit for the working tree")] = None,
    ) -> m.ApiSpec:
        return await tools.get_api_spec(ref)

    @server.tool(
        description="Contract drift: calls to endpoints that do not exist or with the wrong "
        "method, removed endpoints still called, breaking OpenAPI changes, unused endpoints; "
        "each finding with its file, line and a message saying what to change, exactly as "
        "`baton scan --format json` reports them. Without arguments: your working tree. `pr`: "
        "a pull request's head (with `new` = not on its base, what fails its check); `ref`: a "
        "commit on GitHub. `check_run` is the `Baton / contracts` run GitHub has on record. "
        "Call it before pushing."
    )
    async def get_mismatches(
        ref: Annotated[str | None, Field(description="branch, tag or SHA on GitHub")] = None,
        pr: Annotated[int | None, Field(description="a pull request number")] = None,
        new_only: Annotated[bool, Field(
            description="only findings not on the base (the PR's base; else the default "
            "branch)")] = False,
    ) -> m.Mismatches:
        return await tools.get_mismatches(ref, pr, new_only)

    return server


def repo_of(root: str) -> str | None:
    """`BATON_REPO`, else the `origin` remote of the checkout at `root` (git config, read only)."""
    named = os.environ.get("BATON_REPO", "").strip()
    if named:
        return named
    try:
        out = subprocess.run(
            ["git", "-C", root, "config", "--get", "remote.origin.url"],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return core.repo_from_remote(out.stdout) if out.returncode == 0 else None


def from_environment(root: str = ".") -> Tools:
    """The agent's session from its environment; ValueError for a BATON_APP_ID not a number."""
    token = os.environ.get("GITHUB_TOKEN", "").strip() or None
    api = os.environ.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    app_id = os.environ.get("BATON_APP_ID", "").strip()
    if app_id and not app_id.isdigit():
        raise ValueError(f"BATON_APP_ID must be the App's numeric id, not {app_id!r}")
    return Tools(token, repo_of(root), api, root, app_id=int(app_id) if app_id else None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="baton mcp", description=__doc__.splitlines()[0])
    parser.add_argument("--http", metavar="HOST:PORT", help="streamable HTTP instead of stdio")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        tools = from_environment()
    except ValueError as exc:
        print(f"baton mcp: {exc}", file=sys.stderr)
        return 2
    if tools.repo and not core.valid_repo(tools.repo):
        print(f"baton mcp: BATON_REPO must be owner/name, not {tools.repo!r}", file=sys.stderr)
        return 2
    server = build(tools)
    if args.http:
        host, _, port = args.http.rpartition(":")
        if not host or not port.isdigit():
            print("baton mcp: --http takes HOST:PORT, e.g. 127.0.0.1:8765", file=sys.stderr)
            return 2
        server.run("streamable-http", host=host, port=int(port))
    else:
        server.run()
    return 0

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
issues with acceptance criteria (a checklist); each ticket has one or more roles (`role: NAME`
labels, e.g. backend, frontend), and each role has at most one holder at a time: a claim says
who works on what. Every pull request is scanned against the API contract (`Baton / contracts`)
and gated by `Baton / verification`. Everything you do here is an ordinary GitHub action of your
own account, visible to everyone.

How to work: get_my_workload first (finish what you hold); else list_tickets(free_only=true),
then get_ticket to read the criteria and who holds what; update_handoff_request(action="claim",
note=...) before any work; open a PR whose description says `Fixes #N`; get_mismatches before
pushing; when every criterion holds, update_handoff_request(action="done", evidence=...);
release or hand off what you stop doing. A refused action says why and who is in the way."""

NumberArg = Annotated[
    int, Field(description="the ticket's issue number, e.g. 42 (from list_tickets)")
]
RoleArg = Annotated[
    str | None,
    Field(
        description="the role, one of the ticket's `roles` (get_ticket), e.g. \"backend\". "
        "Omit it for a ticket without roles; for claim, omitting it takes any free role; for "
        "release, handoff and done, omitting it means the one role you hold"
    ),
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
        description="List the repository's open tickets (issues Baton tracks): each one's "
        "status, whether it is specified (has acceptance criteria), its roles with their "
        "holders, and which roles are free. Call it to find work: free_only=true gives only "
        "the tickets you could claim now. Then call get_ticket for one ticket's criteria."
    )
    async def list_tickets(
        status: Annotated[str | None, Field(
            description="only tickets with this status: needs-spec (no criteria yet), ready "
            "(specified, nobody on it), in-progress (claimed), validation (a PR is ready for "
            "review, or every role reported done) or done")] = None,
        role: Annotated[str | None, Field(
            description="only tickets that have this role, e.g. \"frontend\"")] = None,
        free_only: Annotated[bool, Field(
            description="true: only specified, open-for-work tickets with a free role (of "
            "`role`, when given): the ones a claim would get")] = False,
    ) -> m.TicketList:
        return await tools.list_tickets(status, role, free_only)

    @server.tool(
        description="Everything about one ticket: its status, acceptance criteria (ticked or "
        "not), roles and who holds each (since when, their note), done reports with their "
        "evidence, and for each linked pull request the `Baton / verification` conditions "
        "(pass, wait or fail, with details): what the merge still waits for. Call it before "
        "claiming, and to see what blocks your PR."
    )
    async def get_ticket(number: NumberArg) -> m.Ticket:
        return await tools.get_ticket(number)

    @server.tool(
        description="Your open claims in this repository (you: the GitHub account of "
        "GITHUB_TOKEN): each ticket and role you hold, your note, the linked pull requests, "
        "and what each still waits for (criteria, /done, checks, review). Call it first in a "
        "session, and before claiming more: an agent may hold only a few claims at once (3 by "
        "default; a claim over the limit is refused)."
    )
    async def get_my_workload() -> m.Workload:
        return await tools.get_my_workload()

    @server.tool(
        description="Claim, release, hand off or report done a ticket's role, as yourself: "
        "posts a `/claim`, `/release`, `/handoff` or `/done` comment on the ticket (every agent "
        "and human sees it), waits until Baton has answered (30 s at most), and returns its "
        "outcome: `accepted` with the roles and done reports afterwards; `refused` with "
        "Baton's reason (for a claim: who holds the role, since when, their note); "
        "`wrong-usage` with how to write it; or `timeout` (call get_ticket later). Claim "
        "before you start work, with a note saying what you will do; report done with "
        "evidence (the tests you ran and their result); release or hand off what you stop "
        "working on. Only a role's holder (or a maintainer) can release it, hand it off or "
        "report it done."
    )
    async def update_handoff_request(
        number: NumberArg,
        action: Annotated[str, Field(
            description="claim (take the role) | release (give it up) | handoff (give it to "
            "`to`) | done (report your role's work finished, with `evidence`)")],
        role: RoleArg = None,
        note: Annotated[str | None, Field(
            description="claim: what you will do; handoff: a note for the new holder. One "
            "line, 300 characters at most")] = None,
        to: Annotated[str | None, Field(
            description="handoff only, required: the GitHub login that takes the role over, "
            "e.g. \"octocat\" or \"other-agent[bot]\"")] = None,
        evidence: Annotated[str | None, Field(
            description="done: the proof, e.g. the test command and its result, or a link. One "
            "line, 300 characters at most")] = None,
    ) -> m.HandoffResult:
        return await tools.update_handoff_request(number, action, role, note, to, evidence)

    @server.tool(
        description="The API contract: every endpoint the backend provides (the repository's "
        "OpenAPI documents when it has any, else the FastAPI, Flask, Express, ... routes found "
        "by parsing the code, never running it) as an OpenAPI 3.1 document, as `baton scan "
        "--format openapi` writes it, each operation with its source file and line in "
        "`x-baton-source`. Without `ref`: your working tree (no network); with `ref`: that "
        "branch, tag or commit on GitHub. Read it before calling or changing an endpoint."
    )
    async def get_api_spec(
        ref: Annotated[str | None, Field(
            description="a branch, tag or commit SHA read through GitHub, e.g. \"main\"; omit "
            "it for your working tree (outside a checkout: the default branch)")] = None,
    ) -> m.ApiSpec:
        return await tools.get_api_spec(ref)

    @server.tool(
        description="Contract drift: calls to endpoints that do not exist or with a method "
        "they do not allow, removed endpoints still called, breaking OpenAPI changes, unused "
        "endpoints; each finding with its file, line and a message saying what to change, "
        "exactly as `baton scan --format json` reports them. Without arguments: your working "
        "tree (no network). `pr`: a pull request's head, each finding marked `new` when its "
        "base does not have it (new errors are what fail its `Baton / contracts`); `ref`: a "
        "branch, tag or commit on GitHub. Call it before pushing, and fix the new errors."
    )
    async def get_mismatches(
        ref: Annotated[str | None, Field(
            description="a branch, tag or commit SHA read through GitHub, e.g. \"main\"; "
            "not with `pr`")] = None,
        pr: Annotated[int | None, Field(
            description="a pull request's number: its head, compared with its base; not with "
            "`ref`")] = None,
        new_only: Annotated[bool, Field(
            description="true: only the findings the base does not have (a PR's base; for "
            "a ref, the default branch; for the working tree, origin/HEAD, else HEAD)")] = False,
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

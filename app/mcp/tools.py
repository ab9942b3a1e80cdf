"""The six tools' work (SPEC 10): read GitHub as the agent, act through ordinary comments, and
scan the local checkout in process. Errors are `ToolError`s that say what to do next."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from mcp.server.mcpserver.exceptions import ToolError

from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.config import CONFIG_PATH, MAX_CONFIG_BYTES, ContractsConfig, RepoConfig, parse_config
from app.contracts import openapi_export, render, scan, scan_pair, select_paths
from app.contracts.engine import MAX_FILE_BYTES, MAX_SPEC_BYTES
from app.contracts.gitread import GitError, read_commit, read_worktree
from app.contracts.model import Finding, ScanResult
from app.contracts.selection import select_blobs
from app.tickets.messages import StatusLabel
from app.tickets.model import Ticket, is_ticket

from . import core
from . import model as m
from .github import AgentGitHub, GitHubError, Json

log = logging.getLogger(__name__)

WAIT_SECONDS = 30.0  # how long update_handoff_request waits for the App
POLL_SECONDS = 0.25  # between two (conditional, so free when nothing changed) reads
MAX_STATES = 20  # status comments one listing reads
MAX_GATES = 5  # linked PRs whose verification get_ticket reads
LEARN_FROM = 3  # open issues whose status comment may tell Baton's App
FETCHES = 8  # concurrent blob requests
NO_TOKEN = (
    "GITHUB_TOKEN is not set: start `baton mcp` with GITHUB_TOKEN set to the agent's own GitHub "
    "token (Issues read/write on the repository), so that its actions are the agent's."
)
NO_REPO = (
    "Which repository? Set BATON_REPO=owner/name, or start `baton mcp` inside a checkout whose "
    "`origin` remote is on GitHub."
)
UNEXPLAINED: dict[m.Outcome, str] = {
    "refused": "Baton refused your command (a 👎 on it) without a reply: call get_ticket to see "
    "who holds what.",
    "wrong-usage": "Baton could not apply your command as written (a 😕 on it): check the role "
    "against get_ticket's roles.",
    "accepted": "", "timeout": "",
}  # fmt: skip


def _fail(exc: Exception) -> ToolError:
    return ToolError(str(exc))


class Tools:
    """One agent's session: its token, its repository, its checkout."""

    def __init__(
        self,
        token: str | None,
        repo: str | None,
        api_url: str = "https://api.github.com",
        root: str = ".",
        *,
        wait: float = WAIT_SECONDS,
        poll: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        app_id: int | None = None,
    ) -> None:
        self.token, self.repo, self.api_url, self.root = token, repo, api_url, root
        self.wait, self.poll, self.clock = wait, poll, clock
        self._session: aiohttp.ClientSession | None = None
        self._gh: AgentGitHub | None = None
        # Baton's App: `BATON_APP_ID`, else (and its bot) as a status comment shows it
        self.app = core.App(None, app_id) if app_id is not None else None

    async def open(self) -> None:
        """One HTTP session for the whole MCP session; the agent's login is learnt up front."""
        self._session = aiohttp.ClientSession()
        if self.token and self.repo:
            self._gh = AgentGitHub(self._session, self.token, self.api_url, self.repo)
            try:
                await asyncio.wait_for(self._gh.login(), 10)
            except (GitHubError, TimeoutError) as exc:  # said again at the first tool call
                log.warning("baton mcp: %s", exc)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def gh(self) -> AgentGitHub:
        if not self.token:
            raise ToolError(NO_TOKEN)
        if not self.repo:
            raise ToolError(NO_REPO)
        if self._gh is None:
            raise ToolError("The MCP session is not open yet; call the tool again.")
        return self._gh

    # --- shared reads -----------------------------------------------------------------
    def _learn(self, status: Json) -> None:
        """Baton's App, completed from a status comment it wrote."""
        self.app = core.app_of(status, self.app)

    async def _status(self, issue: Json) -> Json | None:
        """The status comment; an issue without comments has none (no request)."""
        if not issue.get("comments"):
            return None
        found = await self.gh().find_comment(
            int(issue["number"]), lambda c: core.is_status_comment(c, self.app)
        )
        if found is not None:
            self._learn(found)
        return found

    async def _state(self, issue: Json) -> Json | None:
        """The status comment's JSON, None before Baton wrote one."""
        found = await self._status(issue)
        return core.state_of(found.get("body")) if found else None

    async def _baton(self) -> core.App | None:
        """Baton's App, learnt from the first status comment at hand: the App's id is no
        setting the agent needs (`BATON_APP_ID` only where no open ticket has a status
        comment). None while neither tells."""
        if self.app is None:
            gh = self.gh()
            url = f"/repos/{gh.repo}/issues{{?state,per_page}}"  # list_tickets' URL: a 304
            issues = await gh.get(url, "list the issues", {"state": "open", "per_page": 100})
            candidates = [i for i in issues if i.get("comments") and "pull_request" not in i]
            for issue in candidates[:LEARN_FROM]:
                if await self._status(issue) is not None:
                    break
        return self.app

    async def _ticket(self, number: int) -> tuple[Json, RepoConfig]:
        gh = self.gh()
        try:
            issue = await gh.issue(number)
            config = await gh.config()
        except GitHubError as exc:
            raise _fail(exc) from None
        if "pull_request" in issue:
            raise ToolError(
                f"#{number} is a pull request, not a ticket. Tickets are issues; a PR links its "
                "ticket with `Fixes #N` in its description. Call list_tickets to find tickets."
            )
        if not is_ticket(Ticket.from_github(issue), config):
            raise ToolError(
                f"#{number} is not a ticket: in {gh.repo} only issues labelled "
                f"`{config.tickets.label}` are. Call list_tickets to find tickets."
            )
        return issue, config

    async def _gate(self, pr: int) -> m.Gate | None:
        gh = self.gh()
        pull = await gh.get(f"/repos/{gh.repo}/pulls/{{n}}", f"read PR #{pr}", {"n": pr})
        run = await self._run(str(pull["head"]["sha"]), VERIFICATION_CHECK)
        return core.gate_of(run) if run else None

    async def _run(self, ref: str, name: str) -> Json | None:
        """Baton's newest run of `name` on `ref`: asked of GitHub by the App's id, and checked
        again here (by id, else slug), never picked by name alone."""
        app = await self._baton()
        if app is None:
            return None
        gh = self.gh()
        query: dict[str, Any] = {"ref": ref, "check_name": name, "per_page": 100}
        if app.id is not None:
            query["app_id"] = app.id
        url = f"/repos/{gh.repo}/commits/{{ref}}/check-runs{{?check_name,app_id,per_page}}"
        data = await gh.get(url, f"read the check runs of {ref}", query)
        return core.latest_run(data.get("check_runs") or [], name, app)

    # --- list_tickets -----------------------------------------------------------------
    async def list_tickets(
        self, status: str | None = None, role: str | None = None, free_only: bool = False
    ) -> m.TicketList:
        gh = self.gh()
        query: dict[str, Any] = {"state": "open", "per_page": 100}
        if status:
            label = StatusLabel.from_name(status)
            if label is None:
                names = ", ".join(s.short for s in StatusLabel)
                raise ToolError(f"status must be one of {names}, not `{status}`.")
            query["labels"] = label.value
        try:
            config = await gh.config()
            url = f"/repos/{gh.repo}/issues{{?state,labels,per_page}}"
            issues, more = await gh.get_all(url, "list the issues", query)
            out = []
            reads = 0
            for issue in core.tickets_of(issues, config):
                state = None
                if core.needs_roles(issue) and reads < MAX_STATES:
                    reads += 1
                    state = await self._state(issue)
                summary = core.ticket_summary(issue, config, state)
                if core.listed(summary, role, free_only):
                    out.append(summary)
        except GitHubError as exc:
            raise _fail(exc) from None
        return m.TicketList(repo=gh.repo, tickets=out, more=more)

    # --- get_ticket -------------------------------------------------------------------
    async def get_ticket(self, number: int) -> m.Ticket:
        issue, config = await self._ticket(number)
        try:
            state = await self._state(issue)
            spec, criteria = core.spec_view(issue, config)
            prs = []
            for i, pr in enumerate((state or {}).get("prs") or []):
                gate = await self._gate(int(pr["number"])) if pr.get("state") == "open" and (
                    i < MAX_GATES) else None  # fmt: skip
                prs.append(core.pr_view(pr, gate))
        except GitHubError as exc:
            raise _fail(exc) from None
        return m.Ticket(
            number=number, title=str(issue.get("title") or ""), url=str(issue.get("html_url")),
            state=str(issue.get("state")), status=core.status_label(core.labels(issue)),
            spec=spec, criteria=criteria, roles=core.roles_view(issue, state),
            claims=core.claims_of(state), done=core.done_of(state), pull_requests=prs,
            baton_state=state,
        )  # fmt: skip

    # --- get_my_workload --------------------------------------------------------------
    async def get_my_workload(self) -> m.Workload:
        gh = self.gh()
        try:
            me = await gh.login()
            url = f"/repos/{gh.repo}/issues{{?assignee,state,per_page}}"
            query = {"assignee": me, "state": "open", "per_page": 100}
            issues, _ = await gh.get_all(url, "list your assigned issues", query)
            items: list[m.WorkItem] = []
            for issue in [i for i in issues if "pull_request" not in i][:MAX_STATES]:
                state = await self._state(issue)
                if state is None:  # not a ticket, or Baton has not seen it yet
                    continue
                prs = [core.pr_view(p) for p in state.get("prs") or []
                       if p.get("state") == "open" or p.get("author", "").lower() == me.lower()]
                for c in core.claims_of(state):
                    if c.holder.lower() != me.lower():
                        continue
                    items.append(m.WorkItem(
                        ticket=int(issue["number"]), title=str(issue.get("title") or ""),
                        url=str(issue.get("html_url")), role=c.role, since=c.since, note=c.note,
                        status=state.get("status"), waiting_for=core.ticket_waits(state),
                        pull_requests=prs,
                    ))  # fmt: skip
        except GitHubError as exc:
            raise _fail(exc) from None
        return m.Workload(login=me, repo=gh.repo, claims=items)

    # --- update_handoff_request -------------------------------------------------------
    async def update_handoff_request(
        self,
        number: int,
        action: str,
        role: str | None = None,
        note: str | None = None,
        to: str | None = None,
        evidence: str | None = None,
    ) -> m.HandoffResult:
        gh = self.gh()
        action = action.strip().lower()
        try:
            body = core.command(action, None, note, to, evidence)  # arguments first
            issue, _ = await self._ticket(number)
            if issue.get("state") != "open":
                raise ToolError(f"#{number} is closed; a maintainer must reopen it first.")
            role = core.resolve_role(role, issue)
            body = core.command(action, role, note, to, evidence)
            me = await gh.login()
            status = await self._status(issue)  # the state before, and who Baton's App is
            posted = await gh.comment(number, body)
        except (core.Refusal, GitHubError) as exc:
            raise _fail(exc) from None
        cid, since = int(posted["id"]), core.second_before(str(posted.get("created_at") or ""))
        before = core.state_of(status.get("body")) if status else None
        start = self.clock()
        outcome: m.Outcome | None = None
        answered = start
        while True:
            try:
                # Replies, an edited status comment and our comment (its reaction rollup):
                # one conditional listing, a free 304 while nothing changed.
                comments = await gh.comments(number, since=since or None)
                found = core.status_comment(comments, self.app)
                if found is not None:
                    self._learn(found)
                state = core.state_of(found.get("body")) if found else before
                mine = next((c for c in comments if c.get("id") == cid), None)
                if outcome is None and core.maybe_acknowledged(mine):
                    outcome = core.acknowledgement(await gh.reactions(cid), self.app)
                    answered = self.clock()
            except GitHubError as exc:
                raise _fail(exc) from None
            replies = core.replies(comments, me, cid, self.app.bot if self.app else None)
            now = self.clock()
            if outcome is not None and (
                now - answered >= core.still_wait(outcome, action, me, role, to, cid, state,
                                                  replies)
                or now - start >= self.wait
            ):  # fmt: skip
                break
            if outcome is None and now - start >= self.wait:
                return m.HandoffResult(
                    outcome="timeout", action=action, ticket=number, role=role,
                    reason=f"Baton had not answered your comment after {self.wait:.0f} s (no "
                    "reaction on it yet: is the App installed and running?). It may still: "
                    "call get_ticket in a minute to see whether it took.",
                    comment_url=str(posted.get("html_url")), waited_seconds=self.wait,
                    status=None, roles=[], done=[],
                )  # fmt: skip
            await asyncio.sleep(self.poll)
        state = state or {}
        reason = None
        if outcome != "accepted":
            reason = replies[0] if replies else UNEXPLAINED[outcome]
        return m.HandoffResult(
            outcome=outcome, action=action, ticket=number, role=role, reason=reason,
            held_by=core.held_by(state, role, me) if action == "claim" and reason else None,
            comment_url=str(posted.get("html_url")), waited_seconds=round(self.clock() - start, 2),
            status=state.get("status"), roles=core.roles_view(issue, state or None),
            done=core.done_of(state),
        )  # fmt: skip

    # --- the contract: files, scan ----------------------------------------------------
    def _unread(self, exc: Exception) -> ToolError:
        if isinstance(exc, OSError):
            return ToolError(
                f"Cannot read the working tree at {os.path.abspath(self.root)} ({exc}): start "
                "`baton mcp` in the repository's checkout, or pass `ref` to read GitHub."
            )
        return _fail(exc)

    def _local(self) -> bool:
        return os.path.exists(os.path.join(self.root, ".git"))  # a worktree's is a file

    def _worktree(self) -> tuple[dict[str, bytes], list[Finding], ContractsConfig]:
        """As `baton scan PATH` reads them: the config, then the selected files."""
        path = os.path.join(self.root, CONFIG_PATH)
        text = None
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                text = handle.read(MAX_CONFIG_BYTES + 1)
        config = parse_config(text)
        if config.problems:
            raise ToolError(f"{CONFIG_PATH} is invalid: " + "; ".join(map(str, config.problems)))
        cc = config.contracts
        files, notices = read_worktree(self.root, lambda paths: select_paths(paths, cc))
        return files, notices, cc

    async def _files_at(self, ref: str) -> tuple[dict[str, bytes], list[Finding], ContractsConfig]:
        """A commit's selected files through GitHub: one tree, the blobs (kept by SHA)."""
        gh = self.gh()
        tree = await gh.get(f"/repos/{gh.repo}/git/trees/{{+ref}}{{?recursive}}",
                            f"read the files at {ref}", {"ref": ref, "recursive": 1})  # fmt: skip
        entries = {e["path"]: (e["sha"], int(e.get("size") or 0))
                   for e in tree.get("tree") or [] if e.get("type") == "blob"}  # fmt: skip
        # The config as `baton scan` of a checkout of `ref` reads it: the one at `ref`.
        text = await gh.blob(entries[CONFIG_PATH][0]) if CONFIG_PATH in entries else None
        cc = parse_config(text[: MAX_CONFIG_BYTES + 1] if text else None).contracts
        wanted, notices = select_blobs(
            entries, cc, max_file=MAX_FILE_BYTES, max_spec=MAX_SPEC_BYTES
        )
        fetching = asyncio.Semaphore(FETCHES)

        async def one(path: str, sha: str) -> tuple[str, bytes]:
            async with fetching:
                return path, await gh.blob(sha)

        files = dict(await asyncio.gather(*(one(p, s) for p, s in wanted.items())))
        return files, notices, cc

    async def _default_branch(self) -> str:
        gh = self.gh()
        data = await gh.get(f"/repos/{gh.repo}", "read the repository")
        return str(data.get("default_branch") or "main")

    # --- get_api_spec -----------------------------------------------------------------
    async def get_api_spec(self, ref: str | None = None) -> m.ApiSpec:
        try:
            if ref is None and self._local():
                files, _, cc = await asyncio.to_thread(self._worktree)
                source, commit = "working tree", None
            else:
                ref = ref or await self._default_branch()
                files, _, cc = await self._files_at(ref)
                source, commit = ref, None
        except (GitHubError, OSError) as exc:
            raise self._unread(exc) from None
        result = await asyncio.to_thread(scan, files, cc)
        document = openapi_export(result)  # as `baton scan --format openapi` writes it
        return m.ApiSpec(source=source, commit=commit, endpoints=len(result.endpoints),
                         document=document)  # fmt: skip

    # --- get_mismatches ---------------------------------------------------------------
    async def get_mismatches(
        self, ref: str | None = None, pr: int | None = None, new_only: bool = False
    ) -> m.Mismatches:
        if ref and pr:
            raise ToolError("Pass `ref` or `pr`, not both.")
        base_label: str | None = None
        run: Json | None = None
        try:
            if pr is not None:
                gh = self.gh()
                pull = await gh.get(f"/repos/{gh.repo}/pulls/{{n}}", f"read PR #{pr}", {"n": pr})
                head_sha, base_sha = str(pull["head"]["sha"]), str(pull["base"]["sha"])
                (files, notices, cc), (base, _, _) = await asyncio.gather(
                    self._files_at(head_sha), self._files_at(base_sha)
                )
                source, commit, base_label = f"PR #{pr}", head_sha, f"base {base_sha[:12]}"
                run = await self._run(head_sha, CONTRACTS_CHECK)
            elif ref is not None or not self._local():
                ref = ref or await self._default_branch()
                files, notices, cc = await self._files_at(ref)
                base = None
                if new_only:
                    default = await self._default_branch()
                    base, _, _ = await self._files_at(default)
                    base_label = f"default branch {default}"
                source, commit = ref, None
                run = await self._run(ref, CONTRACTS_CHECK)
                commit = str(run["head_sha"]) if run else None
            else:
                files, notices, cc = await asyncio.to_thread(self._worktree)
                base = None
                if new_only:
                    base, base_label = await asyncio.to_thread(self._local_base, cc)
                source, commit = "working tree", None
        except (GitHubError, OSError) as exc:
            raise self._unread(exc) from None
        result, base_result = await asyncio.to_thread(_scan, files, cc, base)
        result.findings = sorted([*notices, *result.findings],
                                 key=lambda f: (f.path, f.line, f.code))  # fmt: skip
        doc = json.loads(render(result, "json"))
        old = {f.key for f in base_result.findings} if base_result else None
        findings = [  # `new` said against this tool's own base (the scan's, when --base, too)
            m.Finding(
                **{k: v for k, v in f.items() if k != "new"},
                new=None if old is None else tuple(f["key"]) not in old,
            )
            for f in doc["findings"]
        ]
        if new_only and old is not None:
            findings = [f for f in findings if f.new]
        record = None
        if run is not None:
            record = m.CheckRunRecord(
                status=str(run.get("status")), conclusion=run.get("conclusion"),
                title=str((run.get("output") or {}).get("title") or ""), url=run.get("html_url"),
            )  # fmt: skip
        return m.Mismatches(
            source=source, commit=commit, base=base_label, version=doc["version"],
            summary={k: v for k, v in doc["summary"].items() if isinstance(v, int)},
            findings=findings, check_run=record,
        )  # fmt: skip

    def _local_base(self, cc: ContractsConfig) -> tuple[dict[str, bytes], str]:
        """The local default branch (`origin/HEAD`), else `HEAD`, read through git itself."""
        for ref in ("origin/HEAD", "HEAD"):
            try:
                files, _ = read_commit(self.root, ref, lambda paths: select_paths(paths, cc))
                return files, ref
            except GitError:
                continue
        raise ToolError("new_only needs a base: this checkout has no commit yet.")


def _scan(
    files: dict[str, bytes], cc: ContractsConfig, base: dict[str, bytes] | None
) -> tuple[ScanResult, ScanResult | None]:
    if base is None:
        return scan(files, cc), None
    return scan_pair(files, base, cc)

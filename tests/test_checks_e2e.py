"""The two PR checks end to end: people act in the sandbox, the real app posts check runs.

The tickets feature records claims and `/done` reports in the status comment; it handles a
delivery before the checks do (`app/features.py`), so a `/done` reaches the gate.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest

from app.checks import contracts_run
from app.checks.gate import verify
from app.checks.report import CONTRACTS_CHECK
from app.checks.verification import VERIFICATION_CHECK
from app.sandbox import APP_ID
from app.sandbox.people import Person
from app.sandbox.server import Delivery
from app.sandbox.state import CheckRun
from app.service.server import DISPATCHER
from app.tickets.messages import STATUS_MARKER
from app.tickets.store import load_status, save_status
from tests.conftest import REPO, Stack, running_stack
from tests.octokit import validate_request, validate_webhook

API = b"""from fastapi import FastAPI

app = FastAPI()


@app.get("/orders")
def list_orders():
    return []


@app.delete("/orders/{order_id}")
def cancel_order(order_id: int):
    return None
"""
WEB = b"""export function orders() {
  return fetch("/orders");
}

export function cancel(id) {
  return fetch(`/orders/${id}`, { method: "DELETE" });
}
"""
FILES = {"api/main.py": API, "web/api.js": WEB, "README.md": b"# shop\n"}
# A route and its caller, added together: no drift.
CLEAN = {
    "api/main.py": API + b'\n\n@app.get("/orders/{order_id}")\ndef get_order(order_id: int):\n'
    b"    return {}\n",
    "web/show.js": b"export const show = (id) => fetch(`/orders/${id}`);\n",
}
NO_DELETE = {"api/main.py": API.split(b"\n\n@app.delete")[0] + b"\n"}
SPEC = "We need orders.\n\n## Acceptance criteria\n- [x] orders are listed\n"
MARKS = {"✅": "pass", "⏳": "wait", "❌": "fail"}
CONDITIONS = ("ticket", "spec", "evidence", "claim", "contracts", "checks", "human review")


# --- reading the sandbox ------------------------------------------------------------------


def runs(stack: Stack, name: str, sha: str) -> list[CheckRun]:
    repo = stack.sandbox.world.repos[REPO]
    return sorted(
        (r for r in repo.check_runs.values() if r.name == name and r.head_sha == sha),
        key=lambda r: r.id,
    )


def latest(stack: Stack, name: str, sha: str) -> CheckRun:
    found = runs(stack, name, sha)
    assert found, f"no {name} run on {sha[:7]}"
    return found[-1]


def head(stack: Stack, number: int) -> str:
    return stack.sandbox.world.repos[REPO].issues[number].head_sha


def rows(run: CheckRun) -> dict[str, str]:
    """The gate's summary table: condition -> pass | wait | fail."""
    found = {}
    for line in str(run.output.get("summary", "")).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0] in MARKS:
            found[cells[1]] = MARKS[cells[0]]
    return found


def assert_blocked_only_by(run: CheckRun, *conditions: str) -> None:
    """`conditions` keep the gate from success, every other row holds (evidence aside when
    the tickets shell is missing: nobody records `/done` then)."""
    marks = rows(run)
    assert set(marks) == set(CONDITIONS), marks
    assert run.conclusion != "success", (run.status, run.conclusion, run.output)
    for name in CONDITIONS:
        if name in conditions:
            assert marks[name] != "pass", (name, marks)
        else:
            assert marks[name] == "pass", (name, marks, run.output.get("title"))


def assert_valid_requests(stack: Stack) -> None:
    problems = []
    for req in stack.sandbox.requests:
        url = req.path + ("?" + urlencode(req.query) if req.query else "")
        problems += validate_request(req.method, url, req.body)
    assert problems == []


def count(stack: Stack, method: str, fragment: str, since: int = 0) -> int:
    return sum(1 for r in stack.requests_since(since) if r.method == method and fragment in r.path)


# --- people and a ready-to-merge setting ---------------------------------------------------


class Shop:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        sandbox = stack.sandbox
        self.alice = sandbox.person("alice")
        self.bob = sandbox.person("bob")
        self.carol = sandbox.person("carol")
        self.ci = sandbox.person("ci-runner[bot]", "Bot")
        for login in ("alice", "bob", "carol"):
            sandbox.grant(REPO, login, "write")

    async def ticket(self, body: str = SPEC, holder: Person | None = None) -> int:
        """A specified ticket, claimed by `holder` (alice), who reports it done."""
        holder = holder or self.alice
        number = self.alice.open_issue(REPO, "List orders", body)
        await self.stack.settle()
        holder.assign(REPO, number)
        await self.stack.settle()
        holder.comment(REPO, number, "/done -- listed in the UI, tests pass")
        await self.stack.settle()
        return number

    async def pr(
        self,
        author: Person | None = None,
        body: str = "Fixes #1",
        changes: dict[str, bytes | None] | None = None,
        branch: str = "orders",
    ) -> int:
        author = author or self.alice
        number = author.open_pr(REPO, "Show one order", body, branch, changes or CLEAN)
        await self.stack.settle()
        return number

    async def green(self, number: int, ci: str | None = "success", approve: bool = True) -> None:
        """CI passes and bob approves the head."""
        if ci:
            self.ci.check(REPO, head(self.stack, number), "ci / test", ci)
        if approve:
            self.bob.review(REPO, number, "APPROVED")
        await self.stack.settle()

    def gate(self, number: int) -> CheckRun:
        return latest(self.stack, VERIFICATION_CHECK, head(self.stack, number))


@pytest.fixture
async def shop(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_stack(tmp_path, files=dict(FILES)) as stack:
        yield Shop(stack)
        assert_valid_requests(stack)


# --- Baton / contracts ---------------------------------------------------------------------


async def test_a_removed_route_still_called_fails_at_the_calling_line(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr(changes=NO_DELETE)
    run = latest(shop.stack, CONTRACTS_CHECK, head(shop.stack, number))
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert "1 new contract error" in str(run.output["title"])
    [note] = [a for a in run.annotations if a["title"] == "removed-endpoint"]
    assert (note["path"], note["start_line"], note["annotation_level"]) == (
        "web/api.js",
        6,
        "failure",
    )
    await shop.green(number)
    assert_blocked_only_by(shop.gate(number), "contracts")
    assert shop.gate(number).conclusion == "failure"


async def test_a_clean_pr_succeeds_and_old_drift_does_not_fail_it(tmp_path: Path) -> None:
    legacy = b'export const legacy = () => fetch("/legacy/report");\n'
    async with running_stack(tmp_path, files={**FILES, "web/legacy.js": legacy}) as stack:
        alice = stack.sandbox.person("alice")
        number = alice.open_pr(REPO, "Show one order", "", "orders", CLEAN)
        await stack.settle()
        run = latest(stack, CONTRACTS_CHECK, head(stack, number))
        assert (run.status, run.conclusion) == ("completed", "success")
        assert "(1 existing)" in str(run.output["title"])
        summary = str(run.output["summary"])
        assert "Existing drift" in summary
        assert "| error | `unknown-endpoint` | `web/legacy.js:1` |" in summary
        assert run.annotations == []  # existing drift on a file the PR did not touch
        # A PR that adds the same kind of drift does fail; the old drift on a line it changed
        # is annotated at the level the summary gives it, and says it is not new.
        bad = {
            "web/new.js": b'export const nope = () => fetch("/nope");\n',
            "web/legacy.js": b"// kept for reports\n" + legacy.replace(b"legacy =", b"old ="),
        }
        other = alice.open_pr(REPO, "Call nope", "", "nope", bad)
        await stack.settle()
        run = latest(stack, CONTRACTS_CHECK, head(stack, other))
        assert run.conclusion == "failure"
        found = {(a["path"], a["start_line"], a["annotation_level"], a["title"])
                 for a in run.annotations}  # fmt: skip
        assert found == {
            ("web/new.js", 1, "failure", "unknown-endpoint"),
            ("web/legacy.js", 2, "failure", "unknown-endpoint (already on base)"),
        }
        summary = str(run.output["summary"])
        assert "| error | `unknown-endpoint` | `web/legacy.js:2` |" in summary
        # Only a comment added above it: the old line is not annotated.
        moved = {"web/legacy.js": b"// kept for reports\n" + legacy}
        third = alice.open_pr(REPO, "Comment legacy", "", "comment", moved)
        await stack.settle()
        assert latest(stack, CONTRACTS_CHECK, head(stack, third)).annotations == []
        assert_valid_requests(stack)


async def test_120_findings_make_120_annotations_in_three_requests(shop: Shop) -> None:
    calls = "".join(f'export const c{i} = () => fetch("/missing/{i}");\n' for i in range(120))
    number = await shop.pr(body="", changes={"web/many.js": calls.encode()})
    sha = head(shop.stack, number)
    run = latest(shop.stack, CONTRACTS_CHECK, sha)
    assert run.conclusion == "failure"
    assert len(run.annotations) == 120
    assert sorted(a["start_line"] for a in run.annotations) == list(range(1, 121))
    posted = [
        r
        for r in shop.stack.sandbox.requests
        if (
            r.method == "POST"
            and r.path.endswith("/check-runs")
            and r.body["name"] == CONTRACTS_CHECK
        )
        or (r.method == "PATCH" and r.path.endswith(f"/check-runs/{run.id}"))
    ]
    # Created in progress before the scan (the Checks UI shows it running), then annotated.
    assert [r.method for r in posted] == ["POST", "PATCH", "PATCH", "PATCH"]
    assert [len(r.body["output"].get("annotations", [])) for r in posted] == [0, 50, 50, 20]
    assert [r.body.get("status") for r in posted] == ["in_progress", None, None, "completed"]


async def test_a_push_fetches_only_the_changed_blobs(tmp_path: Path) -> None:
    config = b"contracts:\n  provider: [api/**]\n  consumer: [web/**]\n"
    files = {f"assets/data/{i:04}.txt": f"row {i}\n".encode() for i in range(4989)}
    files.update(FILES)
    files.update({f"web/page{i}.js": f"export const p{i} = 0;\n".encode() for i in range(7)})
    files[".github/baton.yml"] = config
    assert len(files) == 5000
    async with running_stack(tmp_path, files=files) as stack:
        alice = stack.sandbox.person("alice")
        number = alice.open_pr(REPO, "Orders", "", "orders", {"web/page0.js": b"// v2\n"})
        await stack.settle()
        opened = (count(stack, "GET", "/git/trees/"), count(stack, "GET", "/git/blobs/"))
        assert opened[0] == 2 and opened[1] <= 11  # 10 selected files + the changed one
        mark = len(stack.sandbox.requests)
        alice.push(REPO, number, CLEAN | {"web/page1.js": b"export const p1 = 1;\n"})
        await stack.settle()
        trees, blobs = (
            count(stack, "GET", "/git/trees/", mark),
            count(stack, "GET", "/git/blobs/", mark),
        )
        assert trees <= 2 and blobs <= 3, (trees, blobs)
        assert latest(stack, CONTRACTS_CHECK, head(stack, number)).conclusion == "success"
        total = len(stack.requests_since(mark))
        assert total <= 12, [(r.method, r.path) for r in stack.requests_since(mark)]
        print(
            f"\nopened: trees+blobs {opened}; push: {trees} trees, {blobs} blobs, {total} requests"
        )
        assert_valid_requests(stack)


async def test_a_replayed_delivery_posts_one_run_per_name(shop: Shop) -> None:
    await shop.ticket()
    with shop.stack.sandbox.hold() as held:
        number = shop.alice.open_pr(REPO, "Show one order", "Fixes #1", "orders", CLEAN)
    [opened] = held
    await shop.stack.sandbox.post_delivery(opened)
    await shop.stack.settle()
    await shop.stack.sandbox.post_delivery(opened)  # same delivery id: not handled again
    again = Delivery(str(uuid.uuid4()), opened.event, opened.payload)  # a redelivery
    await shop.stack.sandbox.post_delivery(again)
    await shop.stack.settle()
    sha = head(shop.stack, number)
    assert len(runs(shop.stack, CONTRACTS_CHECK, sha)) == 1
    assert len(runs(shop.stack, VERIFICATION_CHECK, sha)) == 1


async def test_the_sweep_heals_a_missed_delivery_and_a_rerun_rescans(shop: Shop) -> None:
    with shop.stack.sandbox.hold():  # the delivery is lost
        number = shop.alice.open_pr(REPO, "Show one order", "", "orders", NO_DELETE)
    sha = head(shop.stack, number)
    assert runs(shop.stack, CONTRACTS_CHECK, sha) == []
    await shop.stack.sweep()
    first = latest(shop.stack, CONTRACTS_CHECK, sha)
    assert first.conclusion == "failure"
    assert latest(shop.stack, VERIFICATION_CHECK, sha).conclusion == "failure"
    mark = len(shop.stack.sandbox.requests)
    await shop.stack.sweep()  # nothing changed: nothing posted, nothing fetched
    assert count(shop.stack, "POST", "/check-runs", mark) == 0
    assert count(shop.stack, "PATCH", "/check-runs", mark) == 0
    assert count(shop.stack, "GET", "/git/", mark) == 0
    with shop.stack.sandbox.hold():  # CI's deliveries are lost
        shop.ci.check(REPO, sha, "ci / test", "success")
    await shop.stack.sweep()  # a failing gate is re-evaluated: it sees CI now
    summary = str(latest(shop.stack, VERIFICATION_CHECK, sha).output["summary"])
    assert "| ✅ | checks | 1 check run(s) passed |" in summary
    shop.bob.rerequest(REPO, first.id)
    await shop.stack.settle()
    rerun = latest(shop.stack, CONTRACTS_CHECK, sha)
    assert rerun.id != first.id and rerun.conclusion == "failure"
    assert len(rerun.annotations) == len(first.annotations) == 1


# --- Baton / verification: each condition alone keeps it from success --------------------


async def test_no_linked_ticket_blocks(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr(body="Some refactoring")
    await shop.green(number)
    gate = shop.gate(number)
    assert gate.conclusion == "failure"
    assert_blocked_only_by(gate, "ticket", "spec", "evidence", "claim")
    shop.alice.edit_issue(REPO, number, body="Some refactoring. Fixes #1")
    await shop.stack.settle()
    assert rows(shop.gate(number))["ticket"] == "pass"


async def test_a_ticket_without_criteria_waits_for_a_spec(shop: Shop) -> None:
    ticket = await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    shop.alice.edit_issue(REPO, ticket, body="We need orders. Criteria to follow.")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert gate.status == "in_progress"
    assert_blocked_only_by(gate, "spec")
    assert str(gate.output["title"]).startswith("Waiting for a spec on #1")


async def test_unticked_criteria_keep_the_evidence_row_waiting(shop: Shop) -> None:
    await shop.ticket(body=SPEC.replace("[x]", "[ ]"))
    number = await shop.pr()
    await shop.green(number)
    gate = shop.gate(number)
    assert_blocked_only_by(gate, "evidence")
    assert "criteria ticked on #1" in str(gate.output["title"])


async def test_a_pr_by_someone_else_than_the_holder_is_blocked(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr(author=shop.carol)
    await shop.green(number)
    gate = shop.gate(number)
    assert gate.conclusion == "failure"
    assert_blocked_only_by(gate, "claim")
    assert "#1 claimed" in str(gate.output["title"])


async def test_two_open_prs_of_the_holder_on_one_ticket_both_fail(shop: Shop) -> None:
    await shop.ticket()
    first = await shop.pr()
    await shop.green(first)
    assert rows(shop.gate(first))["claim"] == "pass"
    second = await shop.pr(branch="orders-2", changes={"README.md": b"# shop 2\n"})
    await shop.green(second)
    for number in (first, second):  # the first one learns of the rival via the open-PR list
        gate = shop.gate(number)
        assert gate.conclusion == "failure"
        assert_blocked_only_by(gate, "claim")
    shop.alice.close(REPO, second)  # closing the rival re-evaluates the first
    await shop.stack.settle()
    assert rows(shop.gate(first))["claim"] == "pass"


async def test_failing_or_pending_checks_block(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    shop.ci.check(REPO, head(shop.stack, number), "ci / test")  # started
    await shop.green(number, ci=None)
    gate = shop.gate(number)
    assert gate.status == "in_progress" and "ci / test" in str(gate.output["title"])
    assert_blocked_only_by(gate, "checks")
    shop.ci.check(REPO, head(shop.stack, number), "ci / test", "failure")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert gate.conclusion == "failure"
    assert_blocked_only_by(gate, "checks")


async def test_reviews_that_do_not_count(shop: Shop) -> None:
    shop.stack.sandbox.grant(REPO, "reviewer[bot]", "write")
    robot = shop.stack.sandbox.person("reviewer[bot]", "Bot")
    dave = shop.stack.sandbox.person("dave")  # read permission only
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number, approve=False)
    assert_blocked_only_by(shop.gate(number), "human review")
    robot.review(REPO, number, "APPROVED")  # an agent
    dave.review(REPO, number, "APPROVED")  # no write permission
    shop.alice.review(REPO, number, "APPROVED")  # the author
    await shop.stack.settle()
    assert_blocked_only_by(shop.gate(number), "human review")
    shop.bob.review(REPO, number, "APPROVED")
    await shop.stack.settle()
    assert rows(shop.gate(number))["human review"] == "pass"
    shop.alice.push(REPO, number, {"web/show.js": CLEAN["web/show.js"] + b"// tidy\n"})
    await shop.stack.settle()  # bob approved an older commit
    shop.ci.check(REPO, head(shop.stack, number), "ci / test", "success")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert_blocked_only_by(gate, "human review")
    assert "1 approval" in str(gate.output["title"])


async def test_a_change_request_blocks_until_that_human_approves(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    shop.carol.review(REPO, number, "CHANGES_REQUESTED", "Please paginate.")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert_blocked_only_by(gate, "human review")
    assert "@carol to approve" in str(gate.output["title"])
    shop.carol.review(REPO, number, "COMMENTED", "Still looking")
    await shop.stack.settle()
    assert_blocked_only_by(shop.gate(number), "human review")
    shop.carol.review(REPO, number, "APPROVED")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert (gate.status, gate.conclusion) == ("completed", "success"), gate.output
    assert gate.output["title"] == "All conditions hold"


async def test_a_dismissed_change_request_no_longer_blocks(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    review = shop.carol.review(REPO, number, "CHANGES_REQUESTED", "Please paginate.")
    await shop.stack.settle()
    assert rows(shop.gate(number))["human review"] == "wait"
    shop.bob.dismiss_review(REPO, number, review)
    await shop.stack.settle()
    assert rows(shop.gate(number))["human review"] == "pass"


async def test_done_turns_the_gate_green_and_a_merge_makes_the_ticket_done(shop: Shop) -> None:
    number_issue = shop.alice.open_issue(REPO, "List orders", SPEC)
    await shop.stack.settle()
    shop.alice.assign(REPO, number_issue)
    await shop.stack.settle()
    number = await shop.pr()
    await shop.green(number)
    assert_blocked_only_by(shop.gate(number), "evidence")
    shop.alice.comment(REPO, number_issue, "/done -- listed in the UI")
    await shop.stack.settle()
    assert shop.gate(number).conclusion == "success"
    shop.ci.check(REPO, head(shop.stack, number), "ci / lint")  # a late CI job starts
    await shop.stack.settle()
    assert shop.gate(number).status == "in_progress"
    shop.ci.check(REPO, head(shop.stack, number), "ci / lint", "success")
    await shop.stack.settle()
    assert shop.gate(number).conclusion == "success"
    shop.bob.merge(REPO, number)
    await shop.stack.settle()
    ticket = shop.stack.sandbox.world.repos[REPO].issues[number_issue]
    assert ticket.state == "closed"
    assert "status: done" in [lb.name for lb in ticket.labels]


async def test_an_agent_merging_a_verified_pr_closes_the_ticket_for_good(shop: Shop) -> None:
    """GitHub closes `Fixes #N` tickets itself at the merge, by the merger (here an agent),
    possibly before Baton hears of the merge: the closing guard must not reopen it."""
    bot = shop.stack.sandbox.person("merge-bot[bot]", "Bot")
    ticket = await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    assert shop.gate(number).conclusion == "success"
    with shop.stack.sandbox.hold() as held:
        bot.merge(REPO, number)
    issue_closed = [d for d in held if d.event == "issues"]
    assert issue_closed, "GitHub closes the linked ticket at the merge"
    # The ticket's `closed` reaches Baton before the PR's.
    shop.stack.sandbox.release(issue_closed + [d for d in held if d.event != "issues"])
    await shop.stack.settle()
    issue = shop.stack.sandbox.world.repos[REPO].issues[ticket]
    assert issue.state == "closed"
    assert [lb.name for lb in issue.labels] == ["status: done"]
    reopened = [e for e in shop.stack.sandbox.world.repos[REPO].events
                if e.issue_number == ticket and e.event == "reopened"]  # fmt: skip
    assert reopened == []


async def test_an_agent_merging_an_unverified_pr_gets_the_ticket_reopened(shop: Shop) -> None:
    bot = shop.stack.sandbox.person("merge-bot[bot]", "Bot")
    ticket = await shop.ticket()
    number = await shop.pr()
    await shop.green(number, approve=False)  # no human approval: the gate waits
    assert shop.gate(number).conclusion != "success"
    bot.merge(REPO, number)
    await shop.stack.settle()
    issue = shop.stack.sandbox.world.repos[REPO].issues[ticket]
    assert issue.state == "open"
    assert "status: done" not in [lb.name for lb in issue.labels]


async def test_a_role_label_on_the_ticket_re_evaluates_its_prs(shop: Shop) -> None:
    ticket = await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    shop.alice.label(REPO, ticket, "role: web")
    await shop.stack.settle()
    gate = shop.gate(number)
    assert gate.conclusion != "success"
    assert rows(gate)["evidence"] == "wait"
    assert "no /done from web" in str(gate.output["summary"])


def ticket_state(stack: Stack, number: int) -> dict:
    """The state JSON of the ticket's status comment, as agents read it."""
    [body] = [
        c.body
        for c in stack.sandbox.world.repos[REPO].comments.values()
        if c.issue_number == number and c.via_app and c.body.startswith(STATUS_MARKER)
    ]
    found = re.search(r"<!-- baton:state (\{.*\}) -->", body, re.S)
    assert found, body
    return json.loads(found[1])


async def test_the_status_comment_shows_the_linked_prs_checks(shop: Shop) -> None:
    ticket = await shop.ticket()
    number = await shop.pr()
    [pr] = ticket_state(shop.stack, ticket)["prs"]
    assert pr["number"] == number and "ci / test" not in pr["checks"]
    # A started CI job need not re-evaluate a waiting gate (it cannot change it); its result does.
    shop.ci.check(REPO, head(shop.stack, number), "ci / test")
    await shop.stack.settle()
    shop.ci.check(REPO, head(shop.stack, number), "ci / test", "success")
    await shop.stack.settle()
    [pr] = ticket_state(shop.stack, ticket)["prs"]
    assert pr["checks"]["ci / test"] == "success"
    assert pr["checks"][CONTRACTS_CHECK] == "success"
    assert pr["verification"] == "pending"  # waiting for a human review
    shop.bob.review(REPO, number, "APPROVED")
    await shop.stack.settle()
    [pr] = ticket_state(shop.stack, ticket)["prs"]
    assert (pr["verification"], pr["checks"]["ci / test"]) == ("success", "success")


async def test_plain_events_cost_a_handful_of_requests(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    sha = head(shop.stack, number)
    shop.ci.check(REPO, sha, "ci / test")
    await shop.stack.settle()
    costs = {}
    for name, act in (
        ("CI completes", lambda: shop.ci.check(REPO, sha, "ci / test", "success")),
        ("a review", lambda: shop.bob.review(REPO, number, "APPROVED")),
        ("a ticket edit", lambda: shop.alice.edit_issue(REPO, 1, title="List all orders")),
    ):
        mark = len(shop.stack.sandbox.requests)
        act()
        await shop.stack.settle()
        costs[name] = [f"{r.method} {r.path}" for r in shop.stack.requests_since(mark)]
    print({name: len(calls) for name, calls in costs.items()})
    # An evaluation is about 7 requests; telling the ticket (tickets shell) about 3 more.
    assert all(len(calls) <= 12 for calls in costs.values()), costs


async def test_a_ci_run_of_many_jobs_costs_at_most_two_evaluations(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number, ci=None)
    sha = head(shop.stack, number)
    mark = len(shop.stack.sandbox.requests)
    jobs = [f"ci / job {i}" for i in range(6)]
    for job in jobs:
        shop.ci.check(REPO, sha, job)
    await shop.stack.settle()
    for job in jobs:
        shop.ci.check(REPO, sha, job, "success")
        await shop.stack.settle()
    # Each evaluation reads the approver's permission (the reviews themselves are cached).
    evaluations = count(shop.stack, "GET", "/collaborators/bob/permission", mark)
    assert 1 <= evaluations <= 2, evaluations
    assert len(shop.stack.requests_since(mark)) <= 2 * len(jobs) + 2 * 12
    assert rows(shop.gate(number))["checks"] == "pass"


# --- bounds and races ------------------------------------------------------------------------


def listings(stack: Stack, fragment: str, since: int) -> int:
    """GET requests whose path ends with `fragment` (a listing, not one item)."""
    return sum(
        1 for r in stack.requests_since(since) if r.method == "GET" and r.path.endswith(fragment)
    )


async def app_context(stack: Stack):  # type: ignore[no-untyped-def]
    dispatcher = stack.app[DISPATCHER]
    [(installation_id, repo)] = await dispatcher.repositories()
    return await dispatcher.context(installation_id, repo)


async def test_two_evaluations_of_one_pr_at_once_post_one_gate_run(shop: Shop) -> None:
    await shop.ticket()
    with shop.stack.sandbox.hold():  # the PR's own deliveries are lost: no run yet
        number = shop.alice.open_pr(REPO, "Show one order", "Fixes #1", "orders", CLEAN)
    ctx = await app_context(shop.stack)
    pr = await ctx.gh.getitem(f"/repos/{REPO}/pulls/{number}")
    # As from a ticket event and the sweep (other delivery keys) at the same time.
    await asyncio.gather(verify(ctx, pr), verify(ctx, pr), verify(ctx, pr))
    await shop.stack.settle()
    assert len(runs(shop.stack, VERIFICATION_CHECK, head(shop.stack, number))) == 1


async def test_default_branch_ci_lists_no_pull_requests(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    main = shop.stack.sandbox.world.repos[REPO].branches["main"]
    mark = len(shop.stack.sandbox.requests)
    shop.ci.check(REPO, main, "ci / test")
    await shop.stack.settle()
    shop.ci.check(REPO, main, "ci / test", "failure")
    await shop.stack.settle()
    assert listings(shop.stack, "/pulls", mark) == 0
    assert count(shop.stack, "POST", "/check-runs", mark) == 0
    assert count(shop.stack, "PATCH", "/check-runs", mark) == 0
    assert rows(shop.gate(number))["checks"] == "pass"  # no CI on the PR's own head yet


async def test_a_rival_on_the_second_page_of_open_prs_blocks(shop: Shop) -> None:
    await shop.ticket()
    sandbox = shop.stack.sandbox
    with sandbox.hold():  # their deliveries are lost: only the open-PR listing knows them
        rival = shop.alice.open_pr(REPO, "Orders, take one", "Fixes #1", "old", CLEAN)
        for i in range(100):
            shop.carol.open_pr(REPO, f"Chore {i}", "", f"chore-{i}", {f"docs/{i}.md": b"x\n"})
    mark = len(sandbox.requests)
    number = await shop.pr()  # newest first: the rival is the 102nd open PR, on page 2
    listed = [r for r in shop.stack.requests_since(mark) if r.method == "GET"]
    pages = [r.query.get("page", "1") for r in listed if r.path.endswith("/pulls")]
    assert pages == ["1", "2"]
    await shop.green(number)
    gate = shop.gate(number)
    assert_blocked_only_by(gate, "claim")
    assert f"#{rival} also open for #1" in str(gate.output["summary"])
    assert rows(shop.gate(rival))["claim"] == "fail"  # re-evaluated from the same listing


async def test_reviews_and_done_take_rivals_from_the_status_comment(shop: Shop) -> None:
    await shop.ticket()
    first = await shop.pr()
    second = await shop.pr(branch="orders-2", changes={"README.md": b"# shop 2\n"})
    mark = len(shop.stack.sandbox.requests)
    shop.bob.review(REPO, first, "APPROVED")
    await shop.stack.settle()
    shop.alice.comment(REPO, 1, "/done -- listed again")
    await shop.stack.settle()
    assert listings(shop.stack, "/pulls", mark) == 0  # the open PRs were not listed
    for number in (first, second):  # each still sees the other as a rival
        gate = shop.gate(number)
        assert rows(gate)["claim"] == "fail", gate.output
        other = second if number == first else first
        assert f"#{other} also open for #1" in str(gate.output["summary"])
    shop.alice.close(REPO, second)
    await shop.stack.settle()
    assert rows(shop.gate(first))["claim"] == "pass"


async def test_events_on_an_issue_that_is_not_a_ticket_reach_no_gate(tmp_path: Path) -> None:
    config = b"tickets:\n  label: ticket\n"
    async with running_stack(tmp_path, files={**FILES, ".github/baton.yml": config}) as stack:
        shop = Shop(stack)
        number = shop.alice.open_issue(REPO, "A question", "How do refunds work?")
        shop.bob.comment(REPO, number, "Like this.")
        await stack.settle()
        mark = len(stack.sandbox.requests)
        shop.alice.edit_issue(REPO, number, title="A question on refunds")
        shop.alice.label(REPO, number, "question")
        shop.bob.comment(REPO, number, "/done -- answered")
        await stack.settle()
        assert listings(stack, "/comments", mark) == 0
        assert listings(stack, "/pulls", mark) == 0
        # A ticket that loses the label: its PR's gate loses the ticket.
        ticket = shop.alice.open_issue(REPO, "List orders", SPEC, ["ticket"])
        await stack.settle()
        pr = await shop.pr(body=f"Fixes #{ticket}")
        await shop.green(pr)
        assert rows(shop.gate(pr))["ticket"] == "pass"
        repo = stack.sandbox.world.repos[REPO]
        stack.sandbox.actions.remove_label(repo, repo.issues[ticket], shop.alice.user, "ticket")
        await stack.settle()
        assert rows(shop.gate(pr))["ticket"] == "fail"
        assert_valid_requests(stack)


async def test_the_status_comment_is_found_on_the_first_page(shop: Shop) -> None:
    number = await shop.ticket()
    for i in range(120):  # more than one page after the status comment
        shop.carol.comment(REPO, number, f"+1 ({i})")
    await shop.stack.settle()
    shop.stack.app[DISPATCHER].cache.clear()  # as after a restart
    mark = len(shop.stack.sandbox.requests)
    shop.alice.comment(REPO, number, "/done -- still listed")
    await shop.stack.settle()
    assert listings(shop.stack, f"/issues/{number}/comments", mark) == 1


async def test_a_missing_status_comment_is_looked_up_once(shop: Shop) -> None:
    number = shop.alice.open_issue(REPO, "A thought", "No spec.")
    shop.bob.comment(REPO, number, "Agreed.")
    await shop.stack.settle()
    ctx = await app_context(shop.stack)
    pr = await shop.pr(body="")  # a PR has no status comment
    issue = await ctx.gh.getitem(f"/repos/{REPO}/issues/{pr}")
    shop.bob.comment(REPO, pr, "Looks fine.")
    await shop.stack.settle()
    issue = await ctx.gh.getitem(f"/repos/{REPO}/issues/{pr}")
    mark = len(shop.stack.sandbox.requests)
    assert await load_status(ctx, pr, issue) == (None, None)
    assert await load_status(ctx, pr, issue) == (None, None)
    assert listings(shop.stack, f"/issues/{pr}/comments", mark) == 1
    await save_status(ctx, pr, None, STATUS_MARKER + "\nposted")  # the app posts one: found
    assert (await load_status(ctx, pr, issue))[1] == STATUS_MARKER + "\nposted"


async def test_files_over_the_scan_limits_say_which_limit(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contracts_run, "MAX_FILES", 2)  # three selected files a side
    number = await shop.pr(body="", changes=CLEAN)
    run = latest(shop.stack, CONTRACTS_CHECK, head(shop.stack, number))
    notes = {a["path"]: a for a in run.annotations if a["annotation_level"] == "notice"}
    skipped = [a for a in notes.values() if "limit of 2 files" in a["message"]]
    assert skipped, run.annotations
    assert all("bytes" not in a["message"] for a in skipped)


def rerequest_suite(shop: Shop, run: CheckRun) -> None:
    """Someone clicks `Re-run all checks` on the suite of `run` (a suite of one run here)."""
    sandbox = shop.stack.sandbox
    repo = sandbox.world.repos[REPO]
    suite = sandbox.render.check_suite(repo, run, latest_check_runs_count=1)
    for key in ("rerequestable", "runs_rerequestable"):  # not in the webhook's schema
        del suite[key]
    sandbox.actions.emit("check_suite", "rerequested", repo, shop.bob.user, {"check_suite": suite})


async def test_re_run_all_checks_rescans_and_re_evaluates(shop: Shop) -> None:
    await shop.ticket()
    number = await shop.pr()
    sha = head(shop.stack, number)
    first = latest(shop.stack, CONTRACTS_CHECK, sha)
    rerequest_suite(shop, first)
    await shop.stack.settle()
    again = latest(shop.stack, CONTRACTS_CHECK, sha)
    assert again.id != first.id and again.conclusion == first.conclusion == "success"
    # Another app's suite is its own business.
    ci = shop.ci.check(REPO, sha, "ci / test", "success")
    await shop.stack.settle()
    mark = len(shop.stack.sandbox.requests)
    rerequest_suite(shop, shop.stack.sandbox.world.repos[REPO].check_runs[ci])
    await shop.stack.settle()
    assert len(shop.stack.requests_since(mark)) == 0
    for delivery in shop.stack.sandbox.deliveries[-2:]:
        assert validate_webhook(delivery.event, delivery.payload) == []


# --- whose runs, commit statuses, exemptions (#9, #13) ------------------------------------


async def test_another_apps_run_named_like_ours_does_not_move_the_gate(shop: Shop) -> None:
    """Our runs are known by the App's id: CI posting `Baton / contracts` (e.g. `baton scan`
    in a workflow) and `Baton / verification` is one more CI check, never ours."""
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    sha = head(shop.stack, number)
    gate = shop.gate(number)
    assert gate.conclusion == "success"
    shop.ci.check(REPO, sha, CONTRACTS_CHECK, "success")
    shop.ci.check(REPO, sha, VERIFICATION_CHECK, "success")
    await shop.stack.settle()
    ours = [r for r in runs(shop.stack, VERIFICATION_CHECK, sha) if r.app_id == APP_ID]
    assert ours == [gate] and gate.conclusion == "success", gate.output
    summary = str(gate.output["summary"])
    assert "| ✅ | contracts | `Baton / contracts`: success |" in summary
    # A failing one fails the gate as any failing CI check, named with its app.
    shop.alice.push(REPO, number, {"web/show.js": CLEAN["web/show.js"] + b"// tidy\n"})
    await shop.stack.settle()
    shop.ci.check(REPO, head(shop.stack, number), CONTRACTS_CHECK, "failure")
    await shop.green(number)
    gate = shop.gate(number)
    assert gate.conclusion == "failure"
    assert_blocked_only_by(gate, "checks")
    assert "Baton / contracts (github-actions) failing" in str(gate.output["title"])


async def test_commit_statuses_hold_the_gate(shop: Shop) -> None:
    """CI that reports through the statuses API: pending waits, failure and error fail."""
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number)
    sha = head(shop.stack, number)
    assert shop.gate(number).conclusion == "success"
    jenkins = shop.stack.sandbox.person("jenkins")
    for state, expected in (("pending", None), ("error", "failure"), ("success", "success")):
        jenkins.status(REPO, sha, "jenkins/build", state)
        await shop.stack.settle()
        gate = shop.gate(number)
        assert gate.conclusion == expected, (state, gate.output)
        if expected != "success":
            assert_blocked_only_by(gate, "checks")
            assert "jenkins/build" in str(gate.output["title"])
    summary = str(shop.gate(number).output["summary"])
    assert "| ✅ | checks | 1 check run(s) and 1 status(es) passed |" in summary
    # A status on a commit without our gate (the default branch) lists no PRs.
    mark = len(shop.stack.sandbox.requests)
    main = shop.stack.sandbox.world.repos[REPO].branches["main"]
    jenkins.status(REPO, main, "jenkins/build", "failure")
    await shop.stack.settle()
    assert listings(shop.stack, "/pulls", mark) == 0
    assert count(shop.stack, "POST", "/check-runs", mark) == 0


async def test_no_ticket_is_said_once_and_exempt_prs_skip_it(tmp_path: Path) -> None:
    config = b'verification:\n  exempt_authors: ["dependabot[bot]"]\n  exempt_labels: [docs]\n'
    async with running_stack(tmp_path, files={**FILES, ".github/baton.yml": config}) as stack:
        shop = Shop(stack)
        bot = stack.sandbox.person("dependabot[bot]", "Bot")
        bump = bot.open_pr(REPO, "Bump orders", "", "bump", {"README.md": b"# shop 2\n"})
        await stack.settle()
        await shop.green(bump)
        gate = shop.gate(bump)
        assert gate.conclusion == "success", gate.output
        assert "exempt (author @dependabot[bot])" in str(gate.output["summary"])
        docs = await shop.pr(author=shop.carol, body="Typos", changes={"README.md": b"# Shop\n"})
        await shop.green(docs)
        gate = shop.gate(docs)
        assert gate.conclusion == "failure"
        assert gate.output["title"] == (
            "No linked ticket: add `Fixes #N` or `Refs #N` to the PR description"
        )
        assert_blocked_only_by(gate, "ticket", "spec", "evidence", "claim")
        assert [rows(gate)[n] for n in ("spec", "evidence", "claim")] == ["wait"] * 3
        shop.carol.label(REPO, docs, "docs")
        await stack.settle()
        assert shop.gate(docs).conclusion == "success"
        repo = stack.sandbox.world.repos[REPO]
        stack.sandbox.actions.remove_label(repo, repo.issues[docs], shop.carol.user, "docs")
        await stack.settle()
        assert shop.gate(docs).conclusion == "failure"
        mark = len(stack.sandbox.requests)
        shop.carol.label(REPO, docs, "typo")  # not an exempt label: nothing to re-evaluate
        await stack.settle()
        assert count(stack, "GET", "/reviews", mark) == 0
        assert_valid_requests(stack)


# --- the contracts run: running first, and on the default branch (#13, #12) ---------------


async def test_a_single_batch_contracts_run_is_created_running_then_completed(
    shop: Shop,
) -> None:
    number = await shop.pr(body="", changes=NO_DELETE)
    run = latest(shop.stack, CONTRACTS_CHECK, head(shop.stack, number))
    posted = [
        r.body
        for r in shop.stack.sandbox.requests
        if (r.method == "POST" and r.path.endswith("/check-runs") and r.body["name"] == run.name)
        or (r.method == "PATCH" and r.path.endswith(f"/check-runs/{run.id}"))
    ]
    assert [(b.get("status"), b.get("conclusion")) for b in posted] == [
        ("in_progress", None),
        ("completed", "failure"),
    ]
    assert len(posted[1]["output"]["annotations"]) == 1
    seen = [
        (d.payload["action"], d.payload["check_run"]["status"])
        for d in shop.stack.sandbox.deliveries
        if d.event == "check_run" and d.payload["check_run"]["id"] == run.id
    ]
    assert seen == [("created", "in_progress"), ("completed", "completed")]


async def test_a_push_to_the_default_branch_records_its_drift(shop: Shop) -> None:
    repo = shop.stack.sandbox.world.repos[REPO]
    before = repo.branches["main"]
    maya = shop.stack.sandbox.person("maya")
    mark = len(shop.stack.sandbox.requests)
    after = maya.push_to(REPO, "main", {"web/nope.js": b'export const n = () => fetch("/nope");\n'})
    await shop.stack.settle()
    run = latest(shop.stack, CONTRACTS_CHECK, after)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert [(a["path"], a["start_line"], a["annotation_level"]) for a in run.annotations] == [
        ("web/nope.js", 1, "failure")
    ]
    assert runs(shop.stack, VERIFICATION_CHECK, after) == []  # no PR, no gate
    assert runs(shop.stack, CONTRACTS_CHECK, before) == []
    assert listings(shop.stack, "/pulls", mark) == 0
    # The next push adds none: success, and the branch's drift stays on record in full.
    later = maya.push_to(REPO, "main", {"README.md": b"# shop, again\n"})
    await shop.stack.settle()
    run = latest(shop.stack, CONTRACTS_CHECK, later)
    assert run.conclusion == "success" and "(1 existing)" in str(run.output["title"])
    assert [a["title"] for a in run.annotations] == ["unknown-endpoint (already on base)"]
    # `Re-run` on the record scans the same pair again.
    maya.rerequest(REPO, run.id)
    await shop.stack.settle()
    again = latest(shop.stack, CONTRACTS_CHECK, later)
    assert again.id != run.id and again.conclusion == "success"
    assert again.output["title"] == run.output["title"]
    # A push to another branch is a PR's business, not the record's.
    other = maya.push_to(REPO, "topic", {"web/x.js": b'fetch("/x");\n'})
    await shop.stack.settle()
    assert runs(shop.stack, CONTRACTS_CHECK, other) == []
    for delivery in shop.stack.sandbox.deliveries:
        if delivery.event == "push":
            assert validate_webhook("push", delivery.payload) == []


# --- what the ticket reads (#13) -----------------------------------------------------------


async def test_the_ticket_shows_what_each_pr_waits_for(shop: Shop) -> None:
    ticket = await shop.ticket()
    number = await shop.pr()
    await shop.green(number, approve=False)
    [pr] = ticket_state(shop.stack, ticket)["prs"]
    assert pr["reason"] == shop.gate(number).output["title"] == "Waiting for 1 approval"
    intruder = await shop.pr(author=shop.carol, branch="mine", changes={"README.md": b"#\n"})
    await shop.green(intruder)
    prs = {p["number"]: p for p in ticket_state(shop.stack, ticket)["prs"]}
    assert prs[intruder]["reason"] == "Blocked: #1 claimed"
    shop.bob.review(REPO, number, "APPROVED")
    await shop.stack.settle()
    prs = {p["number"]: p for p in ticket_state(shop.stack, ticket)["prs"]}
    assert prs[number]["reason"] == "" and prs[number]["verification"] == "success"


async def test_reviews_and_statuses_are_read_again_only_when_they_change(shop: Shop) -> None:
    """The gate keeps a PR's reviews and a head's commit statuses until an event says they
    changed (a review, a status) or the sweep reads everything afresh."""
    await shop.ticket()
    number = await shop.pr()
    await shop.green(number, approve=False)
    sha = head(shop.stack, number)

    def reads(mark: int) -> tuple[int, int]:
        return (
            count(shop.stack, "GET", f"/pulls/{number}/reviews", mark),
            count(shop.stack, "GET", f"/commits/{sha}/status", mark),
        )

    mark = len(shop.stack.sandbox.requests)
    shop.alice.comment(REPO, 1, "/done -- again")  # re-evaluates: nothing read again
    await shop.stack.settle()
    assert reads(mark) == (0, 0)
    mark = len(shop.stack.sandbox.requests)
    shop.bob.review(REPO, number, "APPROVED")
    await shop.stack.settle()
    assert reads(mark) == (1, 0) and shop.gate(number).conclusion == "success"
    mark = len(shop.stack.sandbox.requests)
    shop.stack.sandbox.person("jenkins").status(REPO, sha, "jenkins", "failure")
    await shop.stack.settle()
    assert reads(mark) == (0, 1) and shop.gate(number).conclusion == "failure"
    # Missed deliveries: the sweep reads both afresh and heals the gate.
    with shop.stack.sandbox.hold():
        shop.stack.sandbox.person("jenkins").status(REPO, sha, "jenkins", "success")
    mark = len(shop.stack.sandbox.requests)
    await shop.stack.sweep()
    assert reads(mark) == (1, 1) and shop.gate(number).conclusion == "success"

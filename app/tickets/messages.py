"""Labels, their colours, and every text the bot posts on tickets, in one place."""

from __future__ import annotations

import enum

STATUS_PREFIX = "status: "
ROLE_PREFIX = "role: "
# A ticket without `role:` labels has one role with this (empty) name.
UNNAMED_ROLE = ""


class StatusLabel(enum.Enum):
    """The status labels; exactly one is on an open ticket. Value: the label name."""

    NEEDS_SPEC = "status: needs-spec"
    READY = "status: ready"
    IN_PROGRESS = "status: in-progress"
    VALIDATION = "status: validation"
    DONE = "status: done"

    @property
    def short(self) -> str:
        """The name without the prefix, as the state JSON stores it: `in-progress`."""
        return self.value.removeprefix(STATUS_PREFIX)

    @property
    def color(self) -> str:
        return _COLORS[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @classmethod
    def from_name(cls, name: str) -> StatusLabel | None:
        """A label name (any case, with or without the prefix) -> member, else None."""
        wanted = name.strip().lower()
        for member in cls:
            if wanted in (member.value, member.short):
                return member
        return None


# Label colours are six hex digits without `#`, as the labels API takes them.
_COLORS = {
    StatusLabel.NEEDS_SPEC: "d93f0b",
    StatusLabel.READY: "0e8a16",
    StatusLabel.IN_PROGRESS: "1d76db",
    StatusLabel.VALIDATION: "fbca04",
    StatusLabel.DONE: "5319e7",
}
_DESCRIPTIONS = {
    StatusLabel.NEEDS_SPEC: "Baton: the ticket needs acceptance criteria",
    StatusLabel.READY: "Baton: specified and free to claim",
    StatusLabel.IN_PROGRESS: "Baton: claimed and being worked on",
    StatusLabel.VALIDATION: "Baton: a pull request or done reports await review",
    StatusLabel.DONE: "Baton: merged with a passing verification",
}

STATUS_MARKER = "<!-- baton:status -->"


def who(login: str) -> str:
    return f"@{login}"


def role_name(role: str) -> str:
    return f"role `{role}`" if role else "this ticket"


def spec_missing(heading: str, has_heading: bool) -> str:
    missing = (
        f"the heading **{heading}** has no task items under it"
        if has_heading
        else f"there is no **{heading}** heading followed by task items"
    )
    return (
        f"This ticket is not ready to be claimed: {missing}. "
        "Please edit the description and add the criteria as a task list, for example:\n\n"
        f"```markdown\n## {heading}\n- [ ] The first observable result\n"
        "- [ ] The second observable result\n```\n\n"
        "It becomes `status: ready` as soon as the description has them."
    )


def claim_held(claimant: str, role: str, holder: str, note: str) -> str:
    text = f"{who(claimant)}, {role_name(role)} is already claimed by {who(holder)}"
    text += f" (note: {note})." if note else "."
    return text + " Your claim was not taken; ask them or a maintainer to `/handoff` it."


def claim_no_free_role(claimant: str, holders: list[tuple[str, str, str]]) -> str:
    listed = "; ".join(
        f"`{r or 'unnamed'}` by {who(h)}" + (f" ({n})" if n else "") for r, h, n in holders
    )
    return (
        f"{who(claimant)}, every role of this ticket is claimed: {listed}. "
        "Your claim was not taken."
    )


def claim_limit(claimant: str, limit: int, current: list[str]) -> str:
    listed = "\n".join(f"- {c}" for c in current) or "- (none listed)"
    return (
        f"{who(claimant)}, agents may hold at most {limit} open claims in this repository, "
        f"and you hold:\n{listed}\n\nRelease one (`/release`) before claiming another."
    )


def displaced(old: str, new: str, role: str, by: str) -> str:
    return (
        f"{who(old)}, {role_name(role)} was handed off to {who(new)} by {who(by)}; "
        f"you no longer hold it. {who(new)}, it is yours now."
    )


def handed(new: str, role: str, by: str) -> str:
    return f"{who(new)}, {who(by)} handed {role_name(role)} to you."


def stale_warning(holder: str, role: str, idle_since: str, release_at: str) -> str:
    return (
        f"{who(holder)}, there has been no activity on your claim of {role_name(role)} "
        f"since {idle_since}. It will be released at {release_at} unless you comment here "
        "or push to a linked pull request."
    )


def stale_released(holder: str, role: str, idle_since: str) -> str:
    return (
        f"{who(holder)}, your claim of {role_name(role)} was released: no activity "
        f"since {idle_since}. Anyone may `/claim` it now."
    )


def released_on_close(holders: list[str]) -> str:
    return "Closed as not planned: released the claims of " + ", ".join(map(who, holders)) + "."


def reopened(closer: str, reason: str) -> str:
    return (
        f"Reopened: {who(closer)} closed this ticket as completed, but {reason}. "
        "A ticket closes as completed when a linked pull request with a passing "
        "`Baton / verification` is merged, or when a maintainer closes it. "
        "To drop it, close it as not planned."
    )


REOPEN_REASON_AGENT = "agents may not close tickets without a merged, verified pull request"
REOPEN_REASON_PERMISSION = (
    "only maintainers may close a ticket without a merged, verified pull request"
)


def not_allowed(actor: str) -> str:
    return (
        f"{who(actor)}, only maintainers (write permission), agents and the ticket's author "
        "can use Baton commands here."
    )


def not_holder(actor: str, role: str, holder: str | None) -> str:
    held = f"is held by {who(holder)}" if holder else "is not claimed"
    return f"{who(actor)}, {role_name(role)} {held}; only its holder or a maintainer can do that."


def not_claimed(actor: str, role: str) -> str:
    return f"{who(actor)}, {role_name(role)} is not claimed: there is nothing to release."


def ticket_closed(actor: str) -> str:
    return f"{who(actor)}, this ticket is closed; reopen it before claiming or reporting on it."


def done_recorded(actor: str, role: str, evidence: str) -> str:
    text = f"{who(actor)} reported {role_name(role)} done."
    return text + (f"\n\nEvidence:\n\n> {evidence}" if evidence else "")


def workload(login: str, items: list[str]) -> str:
    if not items:
        return f"{who(login)} holds no open claims in this repository."
    return f"Open claims of {who(login)} in this repository:\n" + "\n".join(f"- {i}" for i in items)


USAGE = (
    "Baton commands (each at the start of a line):\n"
    "- `/claim [ROLE] [-- NOTE]`: claim the ticket (or one of its roles)\n"
    "- `/release [ROLE]`: give your claim up\n"
    "- `/handoff @LOGIN [ROLE] [-- NOTE]`: pass a claim to someone else\n"
    "- `/done [ROLE] [-- EVIDENCE]`: report a role done, with evidence\n"
    "- `/workload [@LOGIN]`: list open claims\n"
    "- `/status`: refresh the status comment"
)


def usage(problem: str, roles: tuple[str, ...]) -> str:
    named = [r for r in roles if r]
    text = problem + "\n\n" + USAGE
    if named:
        text += "\n\nRoles of this ticket: " + ", ".join(f"`{r}`" for r in named) + "."
    return text


# The commands that change a ticket's claims or evidence (and so its verification).
CLAIM_COMMANDS = frozenset({"claim", "release", "handoff", "done"})


def no_ticket(actor: str, command: str) -> str:
    return (
        f"{who(actor)}, this pull request links no ticket, so `/{command}` has nothing to act on. "
        "Link one in its description with `Fixes #N` or `Refs #N`, or comment on the ticket."
    )

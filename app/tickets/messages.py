"""Labels, their colours, and every text the bot posts on tickets, in one place."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from app.markdown import code, inert

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

# Messages mention only the people they are about (the actor, the holder, the new holder):
# `who`. Anyone else, and everything users wrote, is shown inert: `name`, `inert`, `code`.


_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")


def who(login: str) -> str:
    """A mention of a party to the message; anything that is not a GitHub login is inert."""
    return "@" + login if _LOGIN.fullmatch(login) else name(login)


def name(login: str) -> str:
    """A login shown without mentioning it."""
    return inert("@" + login, 60)


def span(seconds: float) -> str:
    """A duration for people: `45 seconds`, `3 hours`, `2 days`."""
    seconds = max(0.0, seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"


def ago(seconds: float) -> str:
    """`3 hours ago`; `just now` under a minute."""
    return "just now" if seconds < 60 else span(seconds) + " ago"


def role_name(role: str) -> str:
    return f"role {code(role, 60)}" if role else "this ticket"


def spec_missing(heading: str, has_heading: bool) -> str:
    shown = inert(heading, 100)
    missing = (
        f"the heading **{shown}** has no task items under it"
        if has_heading
        else f"there is no **{shown}** heading followed by task items"
    )
    fenced = _flat_heading(heading)
    return (
        f"This ticket is not ready to be claimed: {missing}. "
        "Please edit the description and add the criteria as a task list, for example:\n\n"
        f"```markdown\n## {fenced}\n- [ ] The first observable result\n"
        "- [ ] The second observable result\n```\n\n"
        "It becomes `status: ready` as soon as the description has them."
    )


def _flat_heading(heading: str) -> str:
    # Inside the fence only a line of backticks could end it early.
    return " ".join(heading.split())[:100].replace("`", "'")


def claim_held(claimant: str, role: str, holder: str, note: str) -> str:
    text = f"{who(claimant)}, {role_name(role)} is already claimed by {who(holder)}"
    text += f" (note: {inert(note)})." if note else "."
    return text + " Your claim was not taken; ask them or a maintainer to `/handoff` it."


def claim_no_free_role(claimant: str, holders: list[tuple[str, str, str]]) -> str:
    listed = "; ".join(
        f"{code(r or 'unnamed', 60)} by {name(h)}" + (f" ({inert(n, 100)})" if n else "")
        for r, h, n in holders
    )
    return (
        f"{who(claimant)}, every role of this ticket is claimed: {listed}. "
        "Your claim was not taken."
    )


def claim_limit(claimant: str, limit: int, current: list[str]) -> str:
    """`current`: list items already safe (`WorkItem.describe`)."""
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


def stale(
    warned: Sequence[tuple[str, str, str]], released: Sequence[tuple[str, str, str]],
    release_in: str,
) -> str:
    """One comment per ticket: every (holder, role, idle for) it warns about or releases."""
    lines = []
    if released:
        lines.append("Released for inactivity; anyone may `/claim` these now:")
        lines += [f"- {who(h)} on {role_name(r)} (no activity for {t})" for h, r, t in released]
    if warned:
        if lines:
            lines.append("")
        lines.append(
            f"No activity for a while; these claims will be released in {release_in} unless "
            "their holder comments here or pushes to a linked pull request:"
        )
        lines += [f"- {who(h)} on {role_name(r)} (no activity for {t})" for h, r, t in warned]
    return "\n".join(lines)


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
    held = f"is held by {name(holder)}" if holder else "is not claimed"
    return (
        f"{who(actor)}, {role_name(role)} {held}; only its holder or a maintainer (a person "
        "with write permission, not an agent) can do that."
    )


def not_claimed(actor: str, role: str) -> str:
    return f"{who(actor)}, {role_name(role)} is not claimed: there is nothing to release."


def ticket_closed(actor: str) -> str:
    return f"{who(actor)}, this ticket is closed; reopen it before claiming or reporting on it."


def done_recorded(actor: str, role: str, evidence: str) -> str:
    text = f"{who(actor)} reported {role_name(role)} done."
    return text + (f"\n\nEvidence:\n\n> {inert(evidence)}" if evidence else "")


def workload(login: str, items: list[str], actor: str) -> str:
    """`login`'s open claims (`items`: already safe, `WorkItem.describe`); `login` is mentioned
    only when the actor asked about themselves."""
    shown = who(login) if login.lower() == actor.lower() else name(login)
    if not items:
        return f"{shown} holds no open claims in this repository."
    listed = "\n".join(f"- {i}" for i in items)
    return f"Open claims of {shown} in this repository:\n{listed}"


USAGES = {
    "claim": "`/claim [ROLE] [-- NOTE]`: claim the ticket (or one of its roles)",
    "release": "`/release [ROLE]`: give your claim up",
    "handoff": "`/handoff @LOGIN [ROLE] [-- NOTE]`: pass a claim to someone else",
    "done": "`/done [ROLE] [-- EVIDENCE]`: report a role done, with evidence",
    "workload": "`/workload [@LOGIN]`: list open claims",
    "status": "`/status`: refresh the status comment",
}


def usage(command: str, problem: str, roles: tuple[str, ...]) -> str:
    """That command's usage, after what was wrong with it (`problem` is the bot's own text;
    user text in it is already inert)."""
    text = f"{problem} Usage: {USAGES.get(command, '')}."
    named = [r for r in roles if r]
    if named and command in ("claim", "release", "handoff", "done"):
        text += " Roles of this ticket: " + ", ".join(code(r, 60) for r in named) + "."
    return text


# The commands that change a ticket's claims or evidence (and so its verification).
CLAIM_COMMANDS = frozenset({"claim", "release", "handoff", "done"})


def no_ticket(actor: str, command: str) -> str:
    return (
        f"{who(actor)}, this pull request links no ticket, so `/{command}` has nothing to act on. "
        "Link one in its description with `Fixes #N` or `Refs #N`, or comment on the ticket."
    )

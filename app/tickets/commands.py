"""Slash commands in comments: parsing, who may use them, and what each does. Pure.

A command is `/NAME` at the start of a line of a paragraph in the comment's prose, as
markdown-it-py reads it: never in code (fenced, indented or inline), quotes or HTML comments.
Only Baton's commands are kept (`/lgtm`, `/cc`: other bots' commands, ignored silently).
Several commands in one comment are handled in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from app.config import RepoConfig
from app.markdown import code, command_lines
from app.tickets import messages as msg
from app.tickets.board import ACCEPTED, REFUSED, USAGE, Board
from app.tickets.claims import MAX_NOTE, Actor, Claim, WorkItem, has_write
from app.tickets.status_comment import DoneReport

KNOWN = ("claim", "release", "handoff", "done", "workload", "status")
MAX_BODY = 65_536  # GitHub's own limit on a comment
MAX_COMMANDS = 10  # per comment; the rest are ignored
MAX_LINE = 1_000

# `/name` then whitespace or end: `/usr/bin` and `/path/to` are prose, not commands.
_COMMAND = re.compile(r"^/([A-Za-z][\w-]*)(?:[ \t]+(.*))?$")
_NOTE_SEP = re.compile(r"(?:^|\s)--(?:\s|$)")
_LOGIN = re.compile(r"^@([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)$")

@dataclass(frozen=True)
class Command:
    """One parsed Baton command. `error` is set when the arguments are unusable."""

    name: str  # lower case, one of KNOWN
    role: str | None = None  # None when not given
    login: str | None = None  # /handoff, /workload target, without `@`
    text: str = ""  # NOTE or EVIDENCE after ` -- `
    line: str = ""
    error: str | None = None


@dataclass(frozen=True)
class CommandEvent:
    """A command with where and when it was written (the comment's `created_at`)."""

    command: Command
    actor: Actor
    created_at: datetime
    comment_id: int = 0
    pr: int | None = None  # set when the comment is on a linked pull request


def parse_commands(body: str | None) -> list[Command]:
    """Baton's commands in the prose of `body`, at most MAX_COMMANDS."""
    found: list[Command] = []
    for raw in command_lines(body, MAX_BODY):
        line = raw[:MAX_LINE].strip()
        match = _COMMAND.match(line)
        if match and match.group(1).lower() in KNOWN:
            found.append(_parse_one(match.group(1).lower(), match.group(2) or "", line))
            if len(found) >= MAX_COMMANDS:
                break
    return found


def _parse_one(name: str, rest: str, line: str) -> Command:
    sep = _NOTE_SEP.search(rest)
    args, text = (rest[: sep.start()], rest[sep.end() :]) if sep else (rest, "")
    words = args.split()
    text = text.strip()[:MAX_NOTE]
    login = None
    if name in ("handoff", "workload") and words and words[0].startswith("@"):
        handle = _LOGIN.match(words[0])
        if not handle:
            return Command(name, line=line, error=f"{code(words[0], 60)} is not a GitHub login.")
        login, words = handle.group(1), words[1:]
    role = " ".join(words) or None
    if name == "handoff" and login is None:
        return Command(name, line=line, error="`/handoff` needs a login to hand off to.")
    if name in ("workload", "status") and role is not None:
        return Command(name, line=line, error=f"`/{name}` takes no role.")
    return Command(name, role, login, text if name in ("claim", "handoff", "done") else "", line)


def from_comment(
    body: str | None,
    actor: Actor,
    created_at: datetime,
    comment_id: int = 0,
    pr: int | None = None,
) -> list[CommandEvent]:
    return [CommandEvent(c, actor, created_at, comment_id, pr) for c in parse_commands(body)]


def permission_needed(actor: Actor, author: str, config: RepoConfig) -> bool:
    """Whether the permission rule needs a lookup: agents and the author pass without one."""
    return not (config.is_agent(actor.login, actor.type) or actor.key == author.lower())


def may_command(
    actor: Actor, author: str, config: RepoConfig, permissions: Mapping[str, str]
) -> bool:
    """Users with write permission, agents, or the ticket's author."""
    if not permission_needed(actor, author, config):
        return True
    return has_write(permissions.get(actor.key))


def match_role(wanted: str, roles: tuple[str, ...]) -> str | None:
    """The ticket's role named `wanted` (case-insensitive), else None."""
    folded = wanted.strip().lower()
    return next((r for r in roles if r.lower() == folded), None)


def apply_command(board: Board, event: CommandEvent) -> None:
    """One command's effect on the ticket's claims, done reports and replies, and its
    outcome (accepted, refused, wrong usage) for the acknowledgement on its comment."""
    cmd, actor = event.command, event.actor
    board.types.setdefault(actor.key, actor.type)
    board.active[actor.key] = max(event.created_at, board.active.get(actor.key, event.created_at))

    def answer(outcome: str, reply: str | None = None) -> None:
        board.acknowledge(event.comment_id, outcome)  # type: ignore[arg-type]
        if reply is not None:
            board.comments.append(reply)

    needed = permission_needed(actor, board.ticket.author.login, board.config)
    if needed and not board.people.writer(actor.login):
        if board.people.known(actor.login):  # else: the handler looks it up and plans again
            answer(REFUSED, msg.not_allowed(actor.login))
        return
    if cmd.error:
        answer(USAGE, msg.usage(cmd.name, cmd.error, board.roles))
        return
    role = None
    if cmd.role is not None:
        role = match_role(cmd.role, board.roles)
        if role is None:
            problem = f"{code(cmd.role, 60)} is not a role of this ticket."
            answer(USAGE, msg.usage(cmd.name, problem, board.roles))
            return
    current = board.resolution()
    mine = current.held_by(actor.login)
    if cmd.name == "status":
        board.force_status = True
        answer(ACCEPTED)
    elif cmd.name == "workload":
        login = cmd.login or actor.login
        items = [
            w.describe() for w in board.people.workload(login) if w.ticket != board.ticket.number
        ]
        here = WorkItem(board.ticket.number, board.ticket.title)
        items += [here.describe(c.role) for c in current.held_by(login)]
        answer(ACCEPTED, msg.workload(login, items, actor.login))
    elif cmd.name == "claim":
        answer(ACCEPTED)  # a claim that loses is refused once the claims are resolved
        held = [c for c in mine if role is None or c.role == role]
        if held:  # already yours: a repeated or redelivered /claim only updates the note
            if cmd.text and held[0].note != cmd.text:
                board.update(held[0], cmd.text)
            return
        claim = Claim(
            role or board.roles[0],
            actor.login,
            event.created_at,
            cmd.text,
            "command",
            pinned=role is not None,
            ref=event.comment_id,
            ticket=board.ticket.number,
        )
        board.add(claim)
    else:
        if role is None:  # the one role the actor holds, or the ticket's only role
            role = mine[0].role if len(mine) == 1 else None
            role = board.roles[0] if role is None and len(board.roles) == 1 else role
        if role is None:
            answer(USAGE, msg.usage(cmd.name, f"`/{cmd.name}`: name the role.", board.roles))
            return
        holder = current.holders.get(role)
        holder_login = holder.holder if holder else None
        if not board.may_act(actor.login, holder_login):
            answer(REFUSED, msg.not_holder(actor.login, role, holder_login))
            return
        _act(board, role, holder, event)


def _act(board: Board, role: str, holder: Claim | None, event: CommandEvent) -> None:
    """/release, /handoff, /done on `role`, by its holder or a maintainer."""
    cmd, actor = event.command, event.actor
    board.acknowledge(event.comment_id, ACCEPTED)
    if cmd.name == "release":
        if holder is None:
            board.acknowledge(event.comment_id, REFUSED)
            board.comments.append(msg.not_claimed(actor.login, role))
        else:
            board.drop([holder])
            board.end(holder, event.created_at)
    elif cmd.name == "handoff":
        target = cmd.login or ""
        if holder and holder.key == target.lower():
            return
        board.types.setdefault(target.lower(), "Bot" if target.endswith("[bot]") else "User")
        claim = Claim(
            role,
            target,
            event.created_at,
            cmd.text,
            "command",
            override=True,
            pinned=True,
            ref=event.comment_id,
            ticket=board.ticket.number,
        )
        board.handed_by[(claim.key, claim.ref)] = actor.login
        board.add(claim)
    elif cmd.name == "done":
        report = DoneReport(role, actor.login, event.created_at, cmd.text, event.comment_id)
        if report not in board.done:  # a redelivered /done changes nothing
            board.done = [d for d in board.done if d.role != role] + [report]
            if event.pr is not None:  # the evidence lands in the ticket's thread too
                board.comments.append(msg.done_recorded(actor.login, role, cmd.text))

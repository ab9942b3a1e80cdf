"""The `Baton / contracts` check run: new vs existing findings, summary, annotations, bodies."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.config import ConfigProblem
from app.contracts.model import Finding, ScanResult
from app.markdown import table_cell

CONTRACTS_CHECK = "Baton / contracts"

MAX_SUMMARY = 65_535  # GitHub's limit for output.summary and output.text
MAX_TITLE = 200
MAX_ANNOTATIONS = 500  # 10 PATCH requests at most; the summary counts the rest
ANNOTATIONS_PER_REQUEST = 50  # GitHub's limit per create/update request
MAX_MESSAGE = 4_000
MAX_DIFF_LINES = 20_000  # a longer file's changed lines are not computed: all count as changed
_LEVEL = {"error": "failure", "warning": "warning", "notice": "notice"}
_RANK = {"error": 0, "warning": 1, "notice": 2}


@dataclass(frozen=True)
class ContractsReport:
    new: tuple[Finding, ...]  # in head, key not in base
    existing: tuple[Finding, ...]  # in head, key also in base: drift that already existed
    conclusion: str  # success | failure
    title: str
    summary: str

    @property
    def output(self) -> dict[str, str]:
        return {"title": self.title, "summary": self.summary}


def _sorted(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(sorted(findings, key=lambda f: (_RANK.get(f.severity, 3), f.path, f.line, f.code)))


def _count(findings: Sequence[Finding], severity: str) -> int:
    return sum(1 for f in findings if f.severity == severity)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def compare(
    head: ScanResult,
    base: ScanResult | None,
    problems: Sequence[ConfigProblem] = (),
) -> ContractsReport:
    """Split head findings into new and existing; fail only on new errors."""
    base_keys = {f.key for f in base.findings} if base is not None else set()
    new = _sorted(f for f in head.findings if f.key not in base_keys)
    existing = _sorted(f for f in head.findings if f.key in base_keys)
    new_errors = _count(new, "error")
    conclusion = "failure" if new_errors else "success"
    if new_errors:
        title = f"{_plural(new_errors, 'new contract error')}"
    elif new:
        title = f"No new contract errors; {_plural(len(new), 'new finding')}"
    else:
        title = "No new contract drift"
    if existing:
        title += f" ({len(existing)} existing)"
    if problems:
        title += "; .github/baton.yml invalid, defaults used"
    summary = render_summary(head, new, existing, problems)
    return ContractsReport(new, existing, conclusion, title[:MAX_TITLE], summary)


def _finding_row(f: Finding) -> str:
    what = f"{f.method} {f.endpoint}".strip()
    where, message = table_cell(f"{f.path}:{f.line}"), table_cell(f.message[:500])
    return f"| {f.severity} | `{f.code}` | `{where}` | {table_cell(what)} | {message} |"


def render_summary(
    head: ScanResult,
    new: Sequence[Finding],
    existing: Sequence[Finding],
    problems: Sequence[ConfigProblem] = (),
    limit: int = MAX_SUMMARY,
) -> str:
    """Markdown summary; rows beyond `limit` characters are left out with a note saying so."""
    counts = ", ".join(
        _plural(n, s) for s in ("error", "warning", "notice") if (n := _count(new, s))
    )
    head_lines = [
        f"**New:** {counts or 'nothing'}. **Already on the base branch:** {len(existing)}.",
        "",
        f"Scanned {_plural(head.files_scanned, 'file')}: {_plural(len(head.endpoints), 'endpoint')}"
        f" provided, {_plural(len(head.calls), 'call')} made.",
    ]
    if problems:
        head_lines += ["", "### Configuration problems (defaults in force)"]
        head_lines += [f"- {table_cell(str(p))[:500]}" for p in problems[:50]]
    table = ["| severity | code | where | endpoint | message |", "|---|---|---|---|---|"]
    sections = [
        ("### New findings", new),
        (
            "### Existing drift (also on the base branch, not failing this check)\n\n"
            "On a pull request, annotated only where it changed the line.",
            existing,
        ),
    ]
    out = "\n".join(head_lines)
    left_out = 0
    for heading, findings in sections:
        if not findings:
            continue
        block = "\n".join(["", "", heading, "", *table])
        if len(out) + len(block) > limit - 200:
            left_out += len(findings)
            continue
        out += block
        for i, f in enumerate(findings):
            row = "\n" + _finding_row(f)
            if len(out) + len(row) > limit - 200:  # room for the note below
                left_out += len(findings) - i
                break
            out += row
    if left_out:
        out += (
            f"\n\n_{_plural(left_out, 'more finding')} not shown: the summary is limited in size._"
        )
    return out[:limit]


def annotation(f: Finding, existing: bool = False) -> dict[str, Any]:
    """One check-run annotation, at the level of the finding's severity as the summary lists
    it (error: failure); existing drift says so in its title."""
    level = _LEVEL.get(f.severity, "notice")
    line = max(1, f.line)
    title = f"{f.code} (already on base)" if existing else f.code
    return {
        "path": f.path,
        "start_line": line,
        "end_line": line,
        "annotation_level": level,
        "message": f.message[:MAX_MESSAGE] or f.code,
        "title": title[:255],
    }


Changed = Mapping[str, frozenset[int] | None]  # path -> changed lines in head; None: all


def changed_lines(base: bytes | None, head: bytes) -> frozenset[int] | None:
    """The lines of `head` (1-based) that differ from `base`: inserted or replaced. None when
    every line counts as changed (a new file, or one too long to compare)."""
    if base is None:
        return None
    old, new = base.splitlines(), head.splitlines()
    if max(len(old), len(new)) > MAX_DIFF_LINES:
        return None
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return frozenset(
        line + 1
        for op, _, _, j1, j2 in matcher.get_opcodes()
        if op in ("replace", "insert")
        for line in range(j1, j2)
    )


def touched(f: Finding, changed: Changed) -> bool:
    """Whether the change touched the finding's line (its file is in `changed`)."""
    if f.path not in changed:
        return False
    lines = changed[f.path]
    return lines is None or f.line in lines


def annotation_batches(
    new: Sequence[Finding], existing: Sequence[Finding] = (), changed: Changed | None = None
) -> list[list[dict[str, Any]]]:
    """Annotations in request-sized batches of 50, new findings first, at most 500 in all.
    Existing drift is annotated only on lines the change touched (`changed`); every one of
    it when `changed` is None (a default-branch push records the branch's whole drift)."""
    shown = [f for f in existing if changed is None or touched(f, changed)]
    items = [annotation(f) for f in new] + [annotation(f, existing=True) for f in shown]
    items = items[:MAX_ANNOTATIONS]
    n = ANNOTATIONS_PER_REQUEST
    return [items[i : i + n] for i in range(0, len(items), n)]


def _timestamp(now: datetime | None) -> str:
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _output(
    output: dict[str, Any] | None, annotations: list[dict[str, Any]] | None
) -> dict[str, Any]:
    out = dict(output or {})
    out["summary"] = str(out.get("summary", ""))[:MAX_SUMMARY]
    if "text" in out:
        out["text"] = str(out["text"])[:MAX_SUMMARY]
    if annotations:
        out["annotations"] = annotations[:ANNOTATIONS_PER_REQUEST]
    return out


def update_body(
    status: str | None = None,
    conclusion: str | None = None,
    output: dict[str, Any] | None = None,
    *,
    external_id: str | None = None,
    annotations: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Body for PATCH /repos/{owner}/{repo}/check-runs/{id}.

    A conclusion means completed (with completed_at); without one the run is never sent as
    completed, which GitHub would reject. Output needs a title and summary; annotations ride
    on the output and are appended by GitHub to those already posted.
    """
    body: dict[str, Any] = {}
    if conclusion is not None:
        body.update(status="completed", conclusion=conclusion, completed_at=_timestamp(now))
    elif status is not None:
        if status == "completed":
            raise ValueError("a completed check run needs a conclusion")
        body["status"] = status
    if external_id is not None:
        body["external_id"] = external_id
    if output is not None or annotations:
        if output is None or not output.get("title") or "summary" not in output:
            raise ValueError("check-run output needs a title and a summary")
        body["output"] = _output(output, annotations)
    return body


def create_body(
    name: str,
    head_sha: str,
    status: str = "in_progress",
    conclusion: str | None = None,
    output: dict[str, Any] | None = None,
    external_id: str | None = None,
    *,
    annotations: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Body for POST /repos/{owner}/{repo}/check-runs."""
    body: dict[str, Any] = {"name": name, "head_sha": head_sha}
    body.update(
        update_body(
            status,
            conclusion,
            output,
            external_id=external_id,
            annotations=annotations,
            now=now,
        )
    )
    if body.get("status") == "in_progress":
        body["started_at"] = _timestamp(now)
    return body

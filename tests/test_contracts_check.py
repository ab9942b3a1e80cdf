"""The `Baton / contracts` check run: new vs existing drift, summary, annotations, bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.checks.report import (
    ANNOTATIONS_PER_REQUEST,
    CONTRACTS_CHECK,
    MAX_ANNOTATIONS,
    MAX_DIFF_LINES,
    MAX_SUMMARY,
    annotation,
    annotation_batches,
    changed_lines,
    compare,
    create_body,
    update_body,
)
from app.checks.verification import VERIFICATION_CHECK
from app.config import ConfigProblem
from app.contracts.model import Endpoint, Finding, ScanResult
from tests.octokit import validate_request

NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


def finding(
    n: int = 0, severity: str = "error", code: str = "unknown-endpoint", line: int = 3
) -> Finding:
    return Finding(
        code=code,
        severity=severity,  # type: ignore[arg-type]
        path=f"web/src/api{n}.ts",
        line=line,
        message=f"GET /users/{n} is not provided by any backend",
        method="GET",
        endpoint=f"/users/{n}",
    )


def scan(*findings: Finding) -> ScanResult:
    return ScanResult(
        findings=list(findings), files_scanned=4, endpoints=[Endpoint("GET", "/", "a", 1)]
    )


def test_check_names() -> None:
    assert CONTRACTS_CHECK == "Baton / contracts"
    assert VERIFICATION_CHECK == "Baton / verification"


def test_new_error_fails() -> None:
    report = compare(scan(finding(1)), scan())
    assert report.conclusion == "failure"
    assert [f.key for f in report.new] == [finding(1).key]
    assert report.existing == ()
    assert "1 new contract error" in report.title


def test_pre_existing_drift_does_not_fail() -> None:
    # Same key at another line: still the same drift.
    report = compare(scan(finding(1, line=40)), scan(finding(1, line=3)))
    assert report.conclusion == "success"
    assert report.new == () and len(report.existing) == 1
    assert "already on the base branch" in report.summary.lower()
    assert "Existing drift" in report.summary


def test_new_warnings_and_notices_do_not_fail() -> None:
    report = compare(scan(finding(1, "warning"), finding(2, "notice")), scan())
    assert report.conclusion == "success"
    assert len(report.new) == 2
    assert "1 warning, 1 notice" in report.summary


def test_no_base_scan_means_everything_is_new() -> None:
    assert compare(scan(finding(1)), None).conclusion == "failure"


def test_clean_scan() -> None:
    report = compare(scan(), scan(finding(1)))
    assert report.conclusion == "success"
    assert report.title == "No new contract drift"
    assert report.output == {"title": report.title, "summary": report.summary}


def test_config_problems_are_shown_with_their_line() -> None:
    problems = (ConfigProblem("unknown key 'verfication'", 7),)
    report = compare(scan(), scan(), problems)
    assert ".github/baton.yml:7: unknown key 'verfication'" in report.summary
    assert "baton.yml" in report.title


def test_summary_is_bounded_and_says_what_it_left_out() -> None:
    long = "x" * 2000
    head = [
        Finding("unknown-endpoint", "error", f"f{i}.ts", i, long, "GET", f"/p{i}")
        for i in range(3000)
    ]
    report = compare(scan(*head), scan())
    assert len(report.summary) <= MAX_SUMMARY
    assert "more findings not shown" in report.summary
    assert report.summary.count("\n| error |") < 3000


def test_summary_cells_are_escaped() -> None:
    f = Finding("unknown-endpoint", "error", "a.ts", 1, "bad | pipe\nnewline", "GET", "/x")
    report = compare(scan(f), scan())
    row = next(line for line in report.summary.splitlines() if line.startswith("| error"))
    assert "bad \\| pipe newline" in row
    f = Finding("unknown-endpoint", "error", "a.ts", 1, "<!-- not\r\nHTML", "GET", "/x")
    report = compare(scan(f), scan())
    assert "&lt;!-- not HTML |" in report.summary and "<!-- not" not in report.summary


def test_120_findings_make_3_batches_new_first() -> None:
    new = [finding(i) for i in range(100)]
    existing = [finding(i, "warning") for i in range(100, 120)]
    batches = annotation_batches(new, existing)
    assert [len(b) for b in batches] == [50, 50, 20]
    assert all(a["annotation_level"] == "failure" for a in batches[0])
    assert batches[2][0]["title"].endswith("(already on base)")


def test_annotations_are_capped() -> None:
    batches = annotation_batches([finding(i) for i in range(MAX_ANNOTATIONS + 70)])
    assert sum(map(len, batches)) == MAX_ANNOTATIONS
    assert max(map(len, batches)) == ANNOTATIONS_PER_REQUEST
    assert annotation_batches([]) == []


@pytest.mark.parametrize(
    ("severity", "level"), [("error", "failure"), ("warning", "warning"), ("notice", "notice")]
)
def test_annotation_shape(severity: str, level: str) -> None:
    a = annotation(finding(1, severity, line=0))
    assert a == {
        "path": "web/src/api1.ts",
        "start_line": 1,  # GitHub needs a line >= 1
        "end_line": 1,
        "annotation_level": level,
        "message": "GET /users/1 is not provided by any backend",
        "title": "unknown-endpoint",
    }


@pytest.mark.parametrize(("severity", "level"), [("error", "failure"), ("warning", "warning")])
def test_annotation_levels_are_the_summarys_severities(severity: str, level: str) -> None:
    """Existing drift keeps its level (an error is not shown as a warning): the summary's
    severity column and the annotations agree; its title says it is not new."""
    f = finding(1, severity)
    report = compare(scan(f, finding(2)), scan(f))
    assert f"| {severity} | `unknown-endpoint` | `web/src/api1.ts:3` |" in report.summary
    [[note, old]] = annotation_batches(report.new, report.existing, {f.path: None})
    assert (old["annotation_level"], old["title"]) == (level, "unknown-endpoint (already on base)")
    assert note["annotation_level"] == "failure" and note["path"] == "web/src/api2.ts"


def test_existing_drift_is_annotated_only_on_changed_lines() -> None:
    new = [finding(0)]
    old = [finding(1, line=3), finding(2, line=7), finding(3, line=9)]
    # api1: line 3 changed; api2: lines 1-2 changed, not 7; api3: not in the change.
    changed = {old[0].path: frozenset({3}), old[1].path: frozenset({1, 2})}
    [batch] = annotation_batches(new, old, changed)
    assert [(a["path"], a["start_line"]) for a in batch] == [
        ("web/src/api0.ts", 3),
        ("web/src/api1.ts", 3),
    ]
    # A whole file counts as changed (new, or too long to compare): all of it is annotated.
    [batch] = annotation_batches([], old, {old[2].path: None})
    assert [a["path"] for a in batch] == ["web/src/api3.ts"]
    # No change map (a default-branch push, the branch's record): every finding.
    assert len(annotation_batches(new, old)[0]) == 4
    assert annotation_batches([], old, {}) == []


def test_changed_lines_are_the_inserted_and_replaced_lines_of_head() -> None:
    base = b"a\nb\nc\nd\n"
    assert changed_lines(base, base) == frozenset()
    assert changed_lines(base, b"a\nB\nc\nd\n") == {2}
    assert changed_lines(base, b"new\na\nb\nc\nd\n") == {1}  # the rest only moved
    assert changed_lines(base, b"a\nd\n") == frozenset()  # deletions touch no head line
    assert changed_lines(base, b"a\nb\nc\nd\ne\nf\n") == {5, 6}
    assert changed_lines(None, b"a\n") is None  # a new file: every line
    big = b"x\n" * (MAX_DIFF_LINES + 1)
    assert changed_lines(big, big + b"y\n") is None  # too long to compare: every line


# --- request bodies ---


def test_create_in_progress_has_no_conclusion() -> None:
    body = create_body(VERIFICATION_CHECK, "a" * 40, "in_progress", now=NOW)
    assert body == {
        "name": VERIFICATION_CHECK,
        "head_sha": "a" * 40,
        "status": "in_progress",
        "started_at": "2026-11-25T18:00:00Z",
    }


def test_create_completed_carries_conclusion_and_completed_at() -> None:
    output = {"title": "t", "summary": "s"}
    body = create_body(CONTRACTS_CHECK, "a" * 40, "completed", "success", output, "ext-1", now=NOW)
    assert body["status"] == "completed"
    assert body["conclusion"] == "success"
    assert body["completed_at"] == "2026-11-25T18:00:00Z"
    assert body["external_id"] == "ext-1"
    assert body["output"] == output


def test_completed_without_conclusion_is_refused() -> None:
    with pytest.raises(ValueError, match="conclusion"):
        create_body(CONTRACTS_CHECK, "a" * 40, "completed")


def test_output_needs_title_and_summary() -> None:
    with pytest.raises(ValueError, match="title"):
        update_body("in_progress", output={"summary": "s"})
    with pytest.raises(ValueError, match="title"):
        update_body(annotations=[annotation(finding(1))])


def test_update_with_annotations_and_trimmed_summary() -> None:
    batch = annotation_batches([finding(i) for i in range(60)])[1]
    body = update_body(output={"title": "t", "summary": "s" * 70_000}, annotations=batch)
    assert set(body) == {"output"}
    assert len(body["output"]["summary"]) == MAX_SUMMARY
    assert len(body["output"]["annotations"]) == 10


def test_update_in_progress_drops_nothing_invalid() -> None:
    body = update_body("in_progress", output={"title": "t", "summary": "s"})
    assert body == {"status": "in_progress", "output": {"title": "t", "summary": "s"}}
    assert "conclusion" not in body and "completed_at" not in body


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "/repos/o/r/check-runs", create_body(CONTRACTS_CHECK, "a" * 40, "queued")),
        ("POST", "/repos/o/r/check-runs", create_body(VERIFICATION_CHECK, "a" * 40, now=NOW)),
        (
            "POST",
            "/repos/o/r/check-runs",
            create_body(
                CONTRACTS_CHECK,
                "a" * 40,
                "completed",
                "failure",
                compare(scan(finding(1)), scan()).output,
                "pr-1",
                annotations=annotation_batches([finding(1)])[0],
                now=NOW,
            ),
        ),
        (
            "PATCH",
            "/repos/o/r/check-runs/5",
            update_body(
                "in_progress", output={"title": "Waiting for 1 approval", "summary": "| a |"}
            ),
        ),
        (
            "PATCH",
            "/repos/o/r/check-runs/5",
            update_body(conclusion="success", output={"title": "ok", "summary": "s"}, now=NOW),
        ),
        (
            "PATCH",
            "/repos/o/r/check-runs/5",
            update_body(
                output={"title": "t", "summary": "s"},
                annotations=annotation_batches([finding(i) for i in range(70)])[1],
            ),
        ),
    ],
)
def test_bodies_are_valid_for_github(method: str, url: str, body: dict) -> None:
    assert validate_request(method, url, body) == []

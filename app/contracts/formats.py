"""Render a ScanResult as text, JSON, SARIF 2.1.0 or Markdown.

JSON schema (`--format json`, version 1; keys are stable, new keys may be added):

    {
      "version": 1,
      "summary": {"files": int, "bytes": int, "endpoints": int, "calls": int,
                  "errors": int, "warnings": int, "notices": int},
      "endpoints": [{"method": "GET", "path": "/users/{}", "raw_path": "/users/:id",
                     "file": "api/users.js", "line": 12, "source": "express"}],
      "calls": [{"method": "GET", "path": "/users/{}", "raw_path": "/users/{id}",
                 "file": "web/src/api.ts", "line": 40, "client": "axios"}],
      "findings": [{"code": "unknown-endpoint", "severity": "error", "file": "web/src/api.ts",
                    "line": 40, "message": "...", "method": "GET", "endpoint": "/users/{}",
                    "key": ["unknown-endpoint", "web/src/api.ts", "GET", "/users/{}"]}]
    }

`method` is upper case or "*" (any/unknown); `path` is normalised (parameters as `{}`, no
query string, no trailing slash); `key` identifies a finding across scans (no line number).
Finding codes: unknown-endpoint, method-not-allowed, removed-endpoint (error);
breaking-change (error when called, else warning); unused-endpoint, unresolved-call,
oversized-file, unparsable-file, invalid-encoding, invalid-path, too-many-files (notice).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from .model import Finding, ScanResult

MARKDOWN_LIMIT = 65_000
_SARIF_LEVEL = {"error": "error", "warning": "warning", "notice": "note"}
_RANK = {"error": 0, "warning": 1, "notice": 2}
_RULES = {
    "unknown-endpoint": "A call to a path no provider serves",
    "method-not-allowed": "A call with a method the endpoint does not allow",
    "removed-endpoint": "An endpoint removed while still called",
    "breaking-change": "An incompatible change to an API operation",
    "unused-endpoint": "An endpoint no consumer in the repository calls",
    "unresolved-call": "An HTTP call whose URL could not be worked out",
}


def counts(result: ScanResult) -> Counter[str]:
    return Counter(f.severity for f in result.findings)


def render(result: ScanResult, fmt: str, *, max_chars: int | None = None) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return json.dumps(sarif(result), indent=2)
    if fmt == "markdown":
        return render_markdown(result, max_chars or MARKDOWN_LIMIT)
    if fmt == "text":
        return render_text(result, max_chars)
    raise ValueError(f"unknown format {fmt!r}: use text, json, sarif or markdown")


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "code": f.code,
        "severity": f.severity,
        "file": f.path,
        "line": f.line,
        "message": f.message,
        "method": f.method,
        "endpoint": f.endpoint,
        "key": list(f.key),
    }


def render_json(result: ScanResult) -> str:
    c = counts(result)
    return json.dumps(
        {
            "version": 1,
            "summary": {
                "files": result.files_scanned,
                "bytes": result.bytes_scanned,
                "endpoints": len(result.endpoints),
                "calls": len(result.calls),
                "errors": c["error"],
                "warnings": c["warning"],
                "notices": c["notice"],
            },
            "endpoints": [
                {
                    "method": e.method,
                    "path": e.path,
                    "raw_path": e.raw_path,
                    "file": e.file,
                    "line": e.line,
                    "source": e.source,
                }
                for e in result.endpoints
            ],
            "calls": [
                {
                    "method": k.method,
                    "path": k.path,
                    "raw_path": k.raw_path,
                    "file": k.file,
                    "line": k.line,
                    "client": k.client,
                }
                for k in result.calls
            ],
            "findings": [_finding_json(f) for f in result.findings],
        },
        indent=2,
    )


def _summary(result: ScanResult) -> str:
    c = counts(result)
    return (
        f"{result.files_scanned} files, {len(result.endpoints)} endpoints, "
        f"{len(result.calls)} calls: "
        f"{c['error']} errors, {c['warning']} warnings, {c['notice']} notices"
    )


def render_text(result: ScanResult, max_chars: int | None = None) -> str:
    lines = [
        f"{f.path}:{f.line}: {f.severity} [{f.code}] {f.message}"
        for f in sorted(result.findings, key=lambda f: (_RANK[f.severity], f.path, f.line))
    ]
    lines.append(_summary(result))
    text = "\n".join(lines) + "\n"
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(0, max_chars - 40)].rsplit("\n", 1)[0] + "\n… output truncated\n"
    return text


def sarif(result: ScanResult) -> dict[str, Any]:
    codes = sorted({f.code for f in result.findings} | set(_RULES))
    rules = [
        {
            "id": code,
            "name": "".join(p.title() for p in code.split("-")),
            "shortDescription": {"text": _RULES.get(code, "A file the scan could not read fully")},
            "helpUri": "https://github.com/baton-app/baton#contracts",
        }
        for code in codes
    ]
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in result.findings:
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": index[f.code],
                "level": _SARIF_LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": max(1, f.line)},
                        }
                    }
                ],
                "partialFingerprints": {"batonFindingKey/v1": "|".join(f.key)},
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Baton contracts",
                        "version": "0.1.0",
                        "informationUri": "https://github.com/baton-app/baton",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: ScanResult, max_chars: int = MARKDOWN_LIMIT) -> str:
    """The check-run summary; rows are dropped (errors last) to stay under max_chars."""
    head = [f"**Contracts:** {_summary(result)}", ""]
    if not result.findings:
        return "\n".join([*head, "No drift between providers and consumers."]) + "\n"
    head += ["| Severity | Code | Where | Message |", "|---|---|---|---|"]
    ordered = sorted(result.findings, key=lambda f: (_RANK[f.severity], f.path, f.line))
    rows = [
        f"| {f.severity} | `{f.code}` | `{_cell(f.path)}:{f.line}` | {_cell(f.message)} |"
        for f in ordered
    ]
    body = "\n".join(head) + "\n"
    kept = 0
    budget = max_chars - len(body) - 120
    for row in rows:
        if budget - len(row) - 1 < 0:
            break
        body += row + "\n"
        budget -= len(row) + 1
        kept += 1
    if kept < len(rows):
        hidden = len(rows) - kept
        body += f"\n_{hidden} more findings not shown (summary limit); run `baton scan` for all._\n"
    return body

"""Render a ScanResult as text, JSON, SARIF 2.1.0 (sarif.py), Markdown or OpenAPI (export.py).

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
breaking-change (error at each calling line, else warning); trailing-slash (warning);
unused-endpoint, unresolved-call, partially-resolved, oversized-file, unparsable-file,
invalid-encoding, invalid-path, too-many-files (notice). Calls also carry "host"; with a base,
each finding has "new" (bool) and the summary "new_errors", "new_warnings", "new_notices".
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from .export import openapi_export
from .model import Finding, ScanResult
from .sarif import sarif

MARKDOWN_LIMIT = 65_000
_RANK = {"error": 0, "warning": 1, "notice": 2}


def counts(result: ScanResult) -> Counter[str]:
    return Counter(f.severity for f in result.findings)


def _new_counts(result: ScanResult) -> dict[str, int]:
    new = Counter(f.severity for f in result.findings if result.is_new(f))
    return {
        "new_errors": new["error"],
        "new_warnings": new["warning"],
        "new_notices": new["notice"],
    }


# Control characters (a newline in a file name) must never start a line of their own.
_CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def escape(text: str) -> str:
    return _CONTROL.sub(
        lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 256 else f"\\u{ord(m[0]):04x}", text
    )


def render(result: ScanResult, fmt: str, *, max_chars: int | None = None) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "sarif":
        return json.dumps(sarif(result), indent=2)
    if fmt == "markdown":
        return render_markdown(result, max_chars or MARKDOWN_LIMIT)
    if fmt == "text":
        return render_text(result, max_chars)
    if fmt == "openapi":
        return json.dumps(openapi_export(result), indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}: use text, json, sarif, markdown or openapi")


def _finding_json(f: Finding, new: bool | None) -> dict[str, Any]:
    out = {
        "code": f.code,
        "severity": f.severity,
        "file": f.path,
        "line": f.line,
        "message": f.message,
        "method": f.method,
        "endpoint": f.endpoint,
        "key": list(f.key),
    }
    if new is not None:
        out["new"] = new  # with `--base`: the base did not have it
    return out


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
                **(_new_counts(result) if result.baseline is not None else {}),
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
                    "host": k.host,
                }
                for k in result.calls
            ],
            "findings": [_finding_json(f, result.is_new(f)) for f in result.findings],
        },
        indent=2,
    )


def _summary(result: ScanResult) -> str:
    c = counts(result)
    text = (
        f"{result.files_scanned} files, {len(result.endpoints)} endpoints, "
        f"{len(result.calls)} calls: "
        f"{c['error']} errors, {c['warning']} warnings, {c['notice']} notices"
    )
    if result.baseline is not None:
        new = _new_counts(result)
        text += f" ({new['new_errors']} new errors, {new['new_warnings']} new warnings)"
    return text


def render_text(result: ScanResult, max_chars: int | None = None) -> str:
    def mark(f: Finding) -> str:
        new = result.is_new(f)
        return "" if new is None else "(new) " if new else "(existing) "

    lines = [
        f"{escape(f.path)}:{f.line}: {f.severity} [{f.code}] {mark(f)}{escape(f.message)}"
        for f in sorted(result.findings, key=lambda f: (_RANK[f.severity], f.path, f.line))
    ]
    lines.append(_summary(result))
    text = "\n".join(lines) + "\n"
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(0, max_chars - 40)].rsplit("\n", 1)[0] + "\n… output truncated\n"
    return text


def _cell(text: str) -> str:
    return escape(text.replace("\n", " ")).replace("|", "\\|")


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

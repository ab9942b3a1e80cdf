"""Pattern 8 of #10 and the SARIF of #13: with `--base` every output says which findings are
new, exit 1 only on new errors; SARIF as code scanning wants it; no line injection in text."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import jsonschema

from app.config import ContractsConfig
from app.contracts import render, scan
from app.contracts.model import Finding, ScanResult

from .helpers import commit, make_repo, run_scan

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())

SERVER = """const express = require('express');
const app = express();
app.get('/api/users/:id', h);
app.get('/api/tags', h);
"""
CLIENT = """export const user = (id) => fetch(`/api/users/${id}`);
export const old = () => fetch('/api/legacy');
"""
PAGE = "export const tags = () => fetch('/api/tags');\n"


def _repo(tmp_path: Path) -> Path:
    repo = make_repo(
        tmp_path,
        {"server/app.js": SERVER, "web/src/api.js": CLIENT, "web/src/routes/[id]/page.js": PAGE},
    )
    commit(repo, {"server/app.js": SERVER.replace("'/api/tags'", "'/api/labels'")}, "head")
    return repo


def test_base_marks_new_and_existing_in_json_sarif_and_text(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    proc = run_scan("scan", str(repo), "--base", "HEAD~1", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    errors = {
        (f["code"], f["file"], f["line"], f["new"])
        for f in report["findings"]
        if f["severity"] == "error"
    }
    assert errors == {
        ("unknown-endpoint", "web/src/api.js", 2, False),
        ("removed-endpoint", "web/src/routes/[id]/page.js", 1, True),
    }
    summary = report["summary"]
    assert (summary["new_errors"], summary["new_warnings"], summary["new_notices"]) == (1, 0, 1)

    sarif = json.loads(run_scan("scan", str(repo), "--base", "HEAD~1", "--format", "sarif").stdout)
    jsonschema.validate(sarif, SCHEMA)
    states = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r[
            "baselineState"
        ]
        for r in sarif["runs"][0]["results"]
        if r["level"] == "error"
    }
    assert states == {
        ("unknown-endpoint", "web/src/api.js"): "unchanged",
        ("removed-endpoint", "web/src/routes/%5Bid%5D/page.js"): "new",
    }

    text = run_scan("scan", str(repo), "--base", "HEAD~1").stdout
    assert "web/src/api.js:2: error [unknown-endpoint] (existing) " in text
    assert "web/src/routes/[id]/page.js:1: error [removed-endpoint] (new) " in text
    assert "(1 new errors, 0 new warnings)" in text


def test_only_existing_errors_exit_0_with_base(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/api.js": CLIENT})
    commit(repo, {"web/src/api.js": CLIENT + "// a comment\n"}, "head")
    assert run_scan("scan", str(repo), "--base", "HEAD~1").returncode == 0
    assert run_scan("scan", str(repo)).returncode == 1  # without a base every error counts


def test_sarif_rules_help_version_and_uris() -> None:
    files = {
        "server/app.js": SERVER.encode(),
        "web/src/routes/[id]/my page.js": b"fetch('/api/nope');\n",
    }
    log = json.loads(render(scan(files, ContractsConfig()), "sarif"))
    jsonschema.validate(log, SCHEMA)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["version"] == version("baton")
    for rule in driver["rules"]:
        assert rule["fullDescription"]["text"] and rule["help"]["text"] and rule["help"]["markdown"]
        assert "helpUri" not in rule  # no placeholder: the docs have no public address yet
    uris = {
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
        for loc in r["locations"]
    }
    assert "web/src/routes/%5Bid%5D/my%20page.js" in uris
    assert all("baselineState" not in r for r in log["runs"][0]["results"])  # no base, no state


def test_control_characters_in_file_names_cannot_inject_lines() -> None:
    evil = "web/evil\nweb/x.js:1: error [fake] injected\r\u2028.js"
    result = ScanResult(
        findings=[Finding("invalid-path", "notice", evil, 1, f"The path {evil} is odd.")]
    )
    text = render(result, "text")
    lines = text.splitlines()
    assert len(lines) == 2 and not any(line.startswith("web/x.js") for line in lines)
    assert "web/evil\\x0aweb/x.js:1: error [fake] injected\\x0d\\u2028.js:1: notice" in text
    assert len(render(result, "markdown").splitlines()) == 5  # heading, blank, table of one

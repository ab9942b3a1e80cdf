"""`baton scan` end to end: a subprocess on git repositories made here, with `--base` diffs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from .helpers import commit, git, make_repo, run_scan, write

SERVER = """\
const express = require('express');
const app = express();
const users = express.Router();

users.get('/:id', (req, res) => res.json({}));
users.delete('/:id', (req, res) => res.sendStatus(204));
users.get('/:id/posts', (req, res) => res.json([]));

app.use('/api/users', users);
app.listen(3000);
"""

CLIENT = """\
import axios from 'axios';

const api = axios.create({ baseURL: '/api' });

export const getUser = (id) => api.get(`/users/${id}`);

export async function removeUser(id) {
  return api.delete(`/users/${id}`);
}
"""

SPEC = """\
openapi: 3.0.3
info: {title: Shop, version: '1'}
servers: [{url: /api}]
paths:
  /orders:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [item]
              properties:
                item: {type: string}
                note: {type: string}
      responses:
        '201': {description: Created}
  /orders/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  total: {type: number}
"""

SHOP_CLIENT = """\
export async function placeOrder(item) {
  const res = await fetch('/api/orders', { method: 'POST', body: JSON.stringify({ item }) });
  return res.json();
}
"""


def _json(stdout: str) -> dict:
    return json.loads(stdout)


def _errors(report: dict) -> list[tuple[str, str, int]]:
    return [
        (f["code"], f["file"], f["line"]) for f in report["findings"] if f["severity"] == "error"
    ]


def test_clean_repository_exits_0(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT})
    proc = run_scan("scan", str(repo), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = _json(proc.stdout)
    assert report["summary"]["errors"] == 0
    assert {(c["method"], c["path"], c["line"]) for c in report["calls"]} == {
        ("GET", "/api/users/{}", 5),
        ("DELETE", "/api/users/{}", 8),
    }


def test_removed_route_still_called_is_reported_at_the_call(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT})
    write(
        repo,
        {
            "server/app.js": SERVER.replace(
                "users.delete('/:id', (req, res) => res.sendStatus(204));\n", ""
            )
        },
    )
    proc = run_scan("scan", str(repo), "--base", "main", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert _errors(_json(proc.stdout)) == [("removed-endpoint", "web/src/users.js", 8)]
    # Without --base the same call is an unknown... no: a method the endpoint does not allow.
    plain = run_scan("scan", str(repo), "--format", "json")
    assert _errors(_json(plain.stdout)) == [("method-not-allowed", "web/src/users.js", 8)]


def test_base_read_from_git_not_the_worktree(tmp_path: Path) -> None:
    """Head committed on a branch, base is main: both trees come from git objects."""
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT})
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        {"server/app.js": SERVER.replace("users.get('/:id', ", "users.get('/:id/profile', ")},
        "move",
    )
    proc = run_scan("scan", str(repo), "--base", "main", "--format", "json")
    assert proc.returncode == 1
    assert _errors(_json(proc.stdout)) == [("removed-endpoint", "web/src/users.js", 5)]


def test_renamed_path_parameter_alone_gives_nothing(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {
            "server/app.js": SERVER,
            "web/src/users.js": CLIENT,
            "api/openapi.yaml": SPEC,
            "web/src/shop.js": SHOP_CLIENT,
        },
    )
    write(
        repo,
        {
            "server/app.js": SERVER.replace(":id", ":userId"),
            "api/openapi.yaml": SPEC.replace("{id}", "{orderId}").replace(
                "name: id", "name: orderId"
            ),
        },
    )
    proc = run_scan("scan", str(repo), "--base", "main", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    codes = {f["code"] for f in _json(proc.stdout)["findings"]}
    assert not codes & {"removed-endpoint", "breaking-change", "unknown-endpoint"}


def test_new_required_body_field_is_a_breaking_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"api/openapi.yaml": SPEC, "web/src/shop.js": SHOP_CLIENT})
    write(
        repo,
        {
            "api/openapi.yaml": SPEC.replace(
                "required: [item]", "required: [item, currency]"
            ).replace(
                "note: {type: string}",
                "note: {type: string}\n                currency: {type: string}",
            )
        },
    )
    proc = run_scan("scan", str(repo), "--base", "main", "--format", "json")
    assert proc.returncode == 1
    report = _json(proc.stdout)
    [finding] = [f for f in report["findings"] if f["code"] == "breaking-change"]
    assert (finding["severity"], finding["file"], finding["line"]) == (
        "error",
        "web/src/shop.js",
        2,
    )  # at the calling line
    assert "new required request body field currency" in finding["message"]
    assert "api/openapi.yaml:6" in finding["message"]


def test_uncalled_breaking_change_is_a_warning(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"api/openapi.yaml": SPEC, "web/src/shop.js": SHOP_CLIENT})
    write(
        repo, {"api/openapi.yaml": SPEC.replace("total: {type: number}", "total: {type: string}")}
    )
    proc = run_scan("scan", str(repo), "--base", "main", "--format", "json")
    assert proc.returncode == 0
    [finding] = [f for f in _json(proc.stdout)["findings"] if f["code"] == "breaking-change"]
    assert finding["severity"] == "warning"
    assert "response field total changed type from number to string" in finding["message"]


def test_usage_and_input_errors_exit_2(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"web/src/shop.js": SHOP_CLIENT})
    assert run_scan("scan", str(tmp_path / "missing")).returncode == 2
    assert run_scan("scan", str(repo), "--format", "xml").returncode == 2
    assert run_scan("scan", str(repo), "--base", "no-such-ref").returncode == 2
    assert run_scan("scan", str(repo), "--config", str(tmp_path / "none.yml")).returncode == 2
    bad = tmp_path / "bad.yml"
    bad.write_text("contracts:\n  provider: 3\n")
    proc = run_scan("scan", str(repo), "--config", str(bad))
    assert proc.returncode == 2
    assert "contracts.provider" in proc.stderr


def test_config_file_overrides_globs(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT})
    config = tmp_path / "baton.yml"
    config.write_text("contracts:\n  provider: ['server/**']\n  consumer: ['nothing/**']\n")
    report = _json(run_scan("scan", str(repo), "--config", str(config), "--format", "json").stdout)
    assert report["calls"] == []
    assert report["summary"]["endpoints"] == 3


def test_sarif_validates_against_the_2_1_0_schema(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT})
    write(
        repo,
        {
            "web/src/users.js": CLIENT + "export const bad = () => api.post('/accounts/search');\n",
            "server/huge.js": "x" * (3 * 1024 * 1024),
        },
    )
    proc = run_scan("scan", str(repo), "--format", "sarif")
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    schema = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    levels = {(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]}
    assert ("unknown-endpoint", "error") in levels and ("oversized-file", "note") in levels


def test_text_and_markdown_formats(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path, {"server/app.js": SERVER, "web/src/users.js": CLIENT + "api.put('/users/1');\n"}
    )
    text = run_scan("scan", str(repo))
    assert text.returncode == 1
    assert "web/src/users.js:10: error [method-not-allowed]" in text.stdout
    markdown = run_scan("scan", str(repo), "--format", "markdown").stdout
    assert markdown.startswith("**Contracts:**") and "`method-not-allowed`" in markdown

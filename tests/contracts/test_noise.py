"""Pattern 7 of #10: no noise. Only documents declaring `openapi`/`swagger` are specs; calls to
third-party hosts are not checked; a rename is paired, not two unrelated findings."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

TSCONFIG = b"""{
  // editor settings, with comments: JSON5, not an API description
  "compilerOptions": { "strict": true, },
}
"""

SERVER = b"""const express = require('express');
const app = express();
app.get('/api/articles', h);
app.get('/api/tags', h);
"""

CLIENT = b"""const API = 'https://api.example.org/api';
const GITHUB = 'https://api.github.com';

export const articles = () => fetch(`${API}/articles`);
export const stars = (repo) => fetch(`${GITHUB}/repos/${repo}/stargazers`);
export const user = (u) => fetch(GITHUB + '/users/' + u);
export const typo = () => fetch(`${API}/tag`);
"""


def test_only_declared_specs_are_read() -> None:
    config = ContractsConfig(provider=("**/*.json", "**/*.js"))
    files = {"tsconfig.json": TSCONFIG, "api/openapi.json": b'{"openapi": "3.0.0", "paths": {'}
    result = scan(files, config)
    assert [(f.code, f.path) for f in result.findings] == [("unparsable-file", "api/openapi.json")]


def test_calls_to_other_hosts_are_not_checked() -> None:
    result = scan({"server/app.js": SERVER, "web/src/api.js": CLIENT}, ContractsConfig())
    assert {(c.path, c.host, c.line) for c in result.calls} == {
        ("/api/articles", "api.example.org", 4),
        ("/repos/{}/stargazers", "api.github.com", 5),
        ("/users/{}", "api.github.com", 6),
        ("/api/tag", "api.example.org", 7),
    }
    assert [(f.code, f.line) for f in result.findings if f.severity == "error"] == [
        ("unknown-endpoint", 7)
    ]


def test_a_rename_is_paired() -> None:
    base = {
        "server/app.js": SERVER,
        "web/src/api.js": b"export const tags = () => fetch('/api/tags');\n",
    }
    head = {**base, "server/app.js": SERVER.replace(b"'/api/tags'", b"'/api/labels'")}
    result = scan(head, ContractsConfig(), base_files=base)
    found = {(f.code, f.path, f.line): f.message for f in result.findings}
    assert set(found) == {
        ("removed-endpoint", "web/src/api.js", 1),
        ("unused-endpoint", "server/app.js", 3),
        ("unused-endpoint", "server/app.js", 4),
    }
    assert (
        "Renamed to /api/labels (server/app.js:4)?"
        in found["removed-endpoint", "web/src/api.js", 1]
    )
    assert "Renamed from GET /api/tags?" in found["unused-endpoint", "server/app.js", 4]
    assert "Renamed" not in found["unused-endpoint", "server/app.js", 3]

"""Pattern 3 of #10: a URL that takes several values is each of them; an unknown piece that
stands for a whole segment is a weak match, reported as partially resolved."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

SERVER = b"""const express = require('express');
const app = express();
app.get('/api/articles', h);
app.get('/api/articles/feed', h);
app.get('/api/tags', h);
app.get('/api/user', h);
"""

CLIENT = b"""import axios from 'axios';
const api = axios.create({ baseURL: '/api' });

export function articles(type) {
  return api.get('/articles' + (type === 'feed' ? '/feed' : ''));
}

export function list(tab) {
  const endpoint = tab === 'feed' ? 'articles/feed' : 'articles';
  return api.get(endpoint);
}

export function branches(mine) {
  let url;
  if (mine) {
    url = '/user';
  } else {
    url = '/tags';
  }
  return api.get(url);
}

export function anything(what) {
  return api.get(`/${what}`);
}
"""

JOBS_PY = b"""import requests

BASE = "http://localhost:3000/api"


def sync(feed, admin):
    path = "/articles/feed" if feed else "/articles"
    requests.get(BASE + path)
    if admin:
        target = "/user"
    else:
        target = "/tags"
    requests.get(BASE + target)
"""


def test_each_alternative_is_a_call_and_wildcards_are_partial() -> None:
    files = {"server/app.js": SERVER, "web/src/api.js": CLIENT, "jobs/sync.py": JOBS_PY}
    config = ContractsConfig(consumer=("web/**", "jobs/**"))
    result = scan(files, config)
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("GET", "/api/articles", "web/src/api.js", 5),
        ("GET", "/api/articles/feed", "web/src/api.js", 5),
        ("GET", "/api/articles", "web/src/api.js", 10),
        ("GET", "/api/articles/feed", "web/src/api.js", 10),
        ("GET", "/api/user", "web/src/api.js", 20),
        ("GET", "/api/tags", "web/src/api.js", 20),
        ("GET", "/api/{}", "web/src/api.js", 24),
        ("GET", "/api/articles", "jobs/sync.py", 8),
        ("GET", "/api/articles/feed", "jobs/sync.py", 8),
        ("GET", "/api/user", "jobs/sync.py", 13),
        ("GET", "/api/tags", "jobs/sync.py", 13),
    }
    assert [(f.code, f.severity, f.path, f.line) for f in result.findings] == [
        ("partially-resolved", "notice", "web/src/api.js", 24)
    ]
    [weak] = [f for f in result.findings if f.code == "partially-resolved"]
    assert "GET /api/{what}" in weak.message

"""Pattern 6 of #10: a trailing slash that differs from the route's is a `trailing-slash`
warning where the provider's framework answers it with a 404 or a redirect; not for Express."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

FLASK = b"""from flask import Flask
app = Flask(__name__)


@app.route("/articles", methods=["GET", "POST"])
def articles(): ...
"""

FASTAPI = b"""from fastapi import APIRouter, FastAPI
app = FastAPI()
router = APIRouter(prefix="/tags")


@router.get("/")
def tags(): ...


app.include_router(router)
"""

EXPRESS = b"""const express = require('express');
const app = express();
app.get('/users', h);
"""

CLIENT = b"""const BASE = '/';
const get = (path) => fetch(`${BASE}${path}/`);

export const create = () => fetch('/articles/', { method: 'POST' });
export const list = () => fetch('/articles');
export const tags = () => get('tags');
export const tagsNoSlash = () => fetch('/tags');
export const users = () => fetch('/users/');
"""


def test_trailing_slash_warnings_follow_the_framework() -> None:
    files = {
        "flask_app/app.py": FLASK,
        "fastapi_app/main.py": FASTAPI,
        "server/app.js": EXPRESS,
        "web/src/api.js": CLIENT,
    }
    result = scan(files, ContractsConfig())
    assert {(c.method, c.path, c.raw_path, c.line) for c in result.calls} == {
        ("POST", "/articles", "/articles/", 4),
        ("GET", "/articles", "/articles", 5),
        ("GET", "/tags", "/tags/", 6),
        ("GET", "/tags", "/tags", 7),
        ("GET", "/users", "/users/", 8),
    }
    assert [(f.code, f.severity, f.path, f.line) for f in result.findings] == [
        ("trailing-slash", "warning", "web/src/api.js", 4),
        ("trailing-slash", "warning", "web/src/api.js", 7),
    ]
    flask, fastapi = (f.message for f in result.findings)
    assert "Flask answers 404" in flask and "flask_app/app.py:5" in flask
    assert "FastAPI answers with a 307 redirect" in fastapi and "/tags/" in fastapi

"""Pattern 1 of #10: values followed without running anything (settings objects, class
attribute defaults, functions returning a constant, environment reads with a default)."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

CONFIG_PY = b"""import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings


class Settings(BaseSettings):
    api_prefix: str = "/api"
    admin_prefix: str = Field(default="/admin")
    reports: str = os.environ.get("REPORTS_PREFIX", "/reports")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def health_path() -> str:
    return "/health"


TAGS = os.getenv("TAGS_PATH", "/tags")
"""

MAIN_PY = b"""from fastapi import APIRouter, FastAPI

from app.core.config import TAGS, get_settings, health_path

settings = get_settings()
app = FastAPI()
api_router = APIRouter()


class Paths:
    USERS = "/users"


@api_router.get("/articles")
def list_articles(): ...


@api_router.get(Paths.USERS)
def users(): ...


@api_router.get(TAGS)
def tags(): ...


@app.get(health_path())
def health(): ...


app.include_router(api_router, prefix=settings.api_prefix)
app.include_router(api_router, prefix=get_settings().admin_prefix)
app.include_router(api_router, prefix=settings.reports)
"""

WEB_CONFIG_JS = b"""export const API = process.env.REACT_APP_API_URL || 'http://localhost:8000/api';
export const apiBase = () => import.meta.env.VITE_API_BASE ?? '/api';
export class Routes {
  static HEALTH = '/health';
}
"""

WEB_API_JS = b"""import { API, apiBase, Routes } from './config';
const ADMIN = import.meta.env.VITE_ADMIN ?? '/admin';

export const articles = () => fetch(`${API}/articles`);
export const users = () => fetch(ADMIN + '/users');
export const tags = () => fetch(`${apiBase()}/tags`);
export const health = () => fetch(Routes.HEALTH);
export const reports = () => fetch(`${process.env.REPORTS_URL ?? '/reports'}/users`);
"""


def test_settings_class_defaults_functions_and_environment_defaults() -> None:
    files = {
        "backend/app/core/config.py": CONFIG_PY,
        "backend/app/main.py": MAIN_PY,
        "web/src/config.js": WEB_CONFIG_JS,
        "web/src/api.js": WEB_API_JS,
    }
    result = scan(files, ContractsConfig())
    main = "backend/app/main.py"
    assert {(e.method, e.path, e.file, e.line) for e in result.endpoints} == {
        ("GET", f"{prefix}{path}", main, line)
        for prefix in ("/api", "/admin", "/reports")
        for path, line in (("/articles", 14), ("/users", 18), ("/tags", 22))
    } | {("GET", "/health", main, 26)}
    assert {(c.method, c.path, c.file, c.line) for c in result.calls} == {
        ("GET", "/api/articles", "web/src/api.js", 4),
        ("GET", "/admin/users", "web/src/api.js", 5),
        ("GET", "/api/tags", "web/src/api.js", 6),
        ("GET", "/health", "web/src/api.js", 7),
        ("GET", "/reports/users", "web/src/api.js", 8),
    }
    assert [f for f in result.findings if f.severity != "notice"] == []
    assert not any("{}" in e.path for e in result.endpoints)  # never a wildcard prefix


def test_django_settings_and_values_reassigned_in_sequence() -> None:
    files = {
        "site/ui/settings.py": b"API_URL = 'http://127.0.0.1:5555/api/subnets'\n",
        "site/route_manager/client.py": b"""from django.conf import settings
import requests


def add(ip):
    return requests.post(settings.API_URL, json={'ip': ip})


def remove(ident):
    return requests.delete(settings.API_URL + "/" + ident)
""",
        "api/routes.py": b"""def create_routes(api):
    route = '/api/subnets'
    api.add_resource(Subnets, route)
    route = '/api/exabgp'
    api.add_resource(Exabgp, '{}/<cmd>'.format(route))


class Subnets:
    def post(self): ...
    def delete(self): ...


class Exabgp:
    def post(self, cmd): ...
""",
        "api/app.py": b"""from flask import Flask
from flask_restful import Api
from api.routes import create_routes

app = Flask(__name__)
api = Api(app)
create_routes(api)
""",
    }
    config = ContractsConfig(provider=("api/**",), consumer=("site/**",))
    result = scan(files, config)
    assert {(e.method, e.path, e.line) for e in result.endpoints} == {
        ("POST", "/api/subnets", 3),
        ("DELETE", "/api/subnets", 3),
        ("POST", "/api/exabgp/{}", 5),
    }
    assert {(c.method, c.path, c.line) for c in result.calls} == {
        ("POST", "/api/subnets", 6),
        ("DELETE", "/api/subnets/{}", 10),
    }
    assert [(f.code, f.line) for f in result.findings if f.severity == "error"] == [
        ("unknown-endpoint", 10)
    ]

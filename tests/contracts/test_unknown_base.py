"""A URL whose base is a value Baton cannot know (#10, cause D3 of bench/corpus): SvelteKit's
`$env/static/private`, an environment variable without a default. The base may be the
provider's or another service's; its calls tell which, and a wrong guess never gives an error."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

SERVER = b"""import { json } from '@sveltejs/kit';
import { BASE_URL } from '$env/static/private';

export const GET = async ({ fetch }) => {
  const response = await fetch(`${BASE_URL}/all`);
  return json(await response.json());
};

export const PATCH = async ({ request, fetch }) => {
  await fetch(`${BASE_URL}/isdoneedit`, { method: 'PATCH' });
  return json({});
};
"""

PAGE = b"""export const load = async ({ fetch }) => {
  const todos = await fetch('/api/todo');
  return { todos: await todos.json() };
};
"""


def test_an_unknown_base_none_of_whose_calls_reach_the_provider_is_another_service() -> None:
    files = {"src/routes/api/todo/+server.ts": SERVER, "src/routes/+page.ts": PAGE}
    result = scan(files, ContractsConfig())
    server = "src/routes/api/todo/+server.ts"
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("GET", "/all", server, 5),
        ("GET", "/api/todo", "src/routes/+page.ts", 2),
        ("PATCH", "/isdoneedit", server, 10),
    ]
    assert [f for f in result.findings if f.severity == "error"] == []  # not GET /all unknown


BACKEND = b"""from fastapi import FastAPI

app = FastAPI()


@app.get("/items")
def items(): ...


@app.post("/items")
def create(): ...
"""


def test_an_unknown_base_whose_calls_reach_the_provider_is_the_providers() -> None:
    web = b"""const API = process.env.API_URL;
export const items = () => fetch(`${API}/items`);
export const create = () => fetch(`${API}/items`, { method: 'POST' });
export const tags = () => fetch(`${API}/tags`);
"""
    result = scan({"web/src/api.js": web, "api/main.py": BACKEND}, ContractsConfig())
    assert [
        (f.code, f.method, f.endpoint, f.line) for f in result.findings if f.severity == "error"
    ] == [("unknown-endpoint", "GET", "/tags", 4)]


def test_an_unknown_base_is_checked_when_nothing_shows_the_provider_elsewhere() -> None:
    web = b"export const tags = () => fetch(`${process.env.API_URL}/tags`);\n"
    result = scan({"web/src/api.js": web, "api/main.py": BACKEND}, ContractsConfig())
    assert [
        (f.code, f.method, f.endpoint, f.line) for f in result.findings if f.severity == "error"
    ] == [("unknown-endpoint", "GET", "/tags", 1)]


def test_drift_under_an_unknown_base_is_caught_against_the_base_branch() -> None:
    web = b"""export const items = () => fetch(`${process.env.API_URL}/items`);
export const local = () => fetch('/health');
"""
    base = {
        "web/src/api.js": web,
        "api/main.py": BACKEND + b'\n\n@app.get("/health")\ndef h(): ...\n',
    }
    head = dict(base)
    head["api/main.py"] = base["api/main.py"].replace(b'"/items"', b'"/products"')
    result = scan(head, ContractsConfig(), base_files=base)
    errors = [
        (f.code, f.method, f.endpoint, f.line) for f in result.findings if f.severity == "error"
    ]
    assert errors == [("removed-endpoint", "GET", "/items", 1)]

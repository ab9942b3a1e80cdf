"""Calls to another service on the same machine (#10, cause E of bench/corpus): a Next.js app
on :3000 that also calls json-server on :4000. The port tells the services apart."""

from __future__ import annotations

from app.config import ContractsConfig
from app.contracts import scan

ROUTE = b"""export async function GET() {
  const response = await fetch("http://localhost:4000/todos");
  return Response.json(await response.json());
}

export async function POST(request) {
  const response = await fetch("http://127.0.0.1:4000/todos", { method: "POST" });
  return Response.json(await response.json());
}
"""

ITEM = b"""export async function DELETE(request, { params }) {
  await fetch(`http://localhost:4000/todos/${params.id}`, { method: "DELETE" });
  return new Response(null, { status: 204 });
}
"""

LIST = b"""export async function load() {
  const todos = await fetch(`http://localhost:3000/api/todos`);
  const gone = await fetch(`http://localhost:3000/api/todos/${id}`, { method: "DELETE" });
  const info = await fetch("http://localhost:4000/companyInfo");
  return { todos, gone, info };
}
"""


def _files() -> dict[str, bytes]:
    return {
        "src/app/api/todos/route.ts": ROUTE,
        "src/app/api/todos/[id]/route.ts": ITEM,
        "src/components/TodoList.tsx": LIST,
    }


def test_a_local_port_none_of_whose_calls_reach_the_provider_is_another_service() -> None:
    result = scan(_files(), ContractsConfig())
    assert sorted((c.method, c.path, c.file, c.line) for c in result.calls) == [
        ("DELETE", "/api/todos/{}", "src/components/TodoList.tsx", 3),
        ("DELETE", "/todos/{}", "src/app/api/todos/[id]/route.ts", 2),
        ("GET", "/api/todos", "src/components/TodoList.tsx", 2),
        ("GET", "/companyInfo", "src/components/TodoList.tsx", 4),
        ("GET", "/todos", "src/app/api/todos/route.ts", 2),
        ("POST", "/todos", "src/app/api/todos/route.ts", 7),
    ]
    # :4000 (json-server) is not checked against the Next.js routes; :3000's calls are
    assert [f for f in result.findings if f.severity == "error"] == []


def test_the_providers_port_stays_checked_when_every_call_to_it_breaks() -> None:
    base = _files()
    head = {p.replace("api/todos", "api/tasks"): data for p, data in base.items()}
    result = scan(head, ContractsConfig(), base_files=base)
    errors = sorted(
        (f.code, f.method, f.path, f.line) for f in result.findings if f.severity == "error"
    )
    assert errors == [
        ("removed-endpoint", "DELETE", "src/components/TodoList.tsx", 3),
        ("removed-endpoint", "GET", "src/components/TodoList.tsx", 2),
    ]


def test_a_local_port_is_the_provider_without_evidence_or_on_the_frameworks_port() -> None:
    server = b"""from flask import Flask
app = Flask(__name__)

@app.get('/api/items')
def items():
    return []
"""
    lone = b"export const items = () => fetch('http://localhost:5555/api/itemz')\n"
    result = scan({"web/src/api.js": lone, "server/app.py": server}, ContractsConfig())
    # nothing shows the provider elsewhere: the only call is checked, and it is wrong
    assert [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"] == [
        ("unknown-endpoint", "web/src/api.js", 1)
    ]
    flask_port = b"""export const items = () => fetch('/api/items')
export const typo = () => fetch('http://localhost:5000/api/itemz')
export const other = () => fetch('http://localhost:9000/metrics')
"""
    result = scan({"web/src/api.js": flask_port, "server/app.py": server}, ContractsConfig())
    # :5000 is where `flask run` serves; :9000 is another service
    assert [(f.code, f.path, f.line) for f in result.findings if f.severity == "error"] == [
        ("unknown-endpoint", "web/src/api.js", 2)
    ]

"""bench/corpus.py: the scoring of the contract scan against hand-labelled projects.

The pure parts (path normalisation, which route a call reaches, where a drift rename goes, how a
miss is classified) are checked directly; one run over a tiny project made in tmp_path checks
the whole script without network.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from app.config import ContractsConfig
from app.contracts.model import Call, Finding, ScanResult

_PATH = Path(__file__).resolve().parents[1] / "bench" / "corpus.py"
_SPEC = importlib.util.spec_from_file_location("bench_corpus", _PATH)
assert _SPEC and _SPEC.loader
corpus = importlib.util.module_from_spec(_SPEC)
sys.modules["bench_corpus"] = corpus
_SPEC.loader.exec_module(corpus)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("/users/{user_id}", "/users/{}"),
        ("/users/<int:id>/", "/users/{}"),
        ("/users/:id", "/users/{}"),
        ("/api/users/[userId]", "/api/users/{}"),
        ("http://localhost:5001/books/${id}?x=1", "/books/{}"),
        ("/showRides/:dateOne.:dateTwo", "/showRides/{}"),
        ("/showRides/{}.{}", "/showRides/{}"),
        ("/api/auth/[...nextauth]", "/api/auth/{*}"),
        ("*", "/{*}"),
        ("/api/v1/items/", "/api/v1/items"),
        ("", "/"),
    ],
)
def test_paths_are_normalised_alike_on_both_sides(raw: str, want: str) -> None:
    assert corpus.norm_path(raw) == want


def _route(method: str, path: str, file: str = "app.py", line: int = 1) -> Any:
    return corpus.Route(method, path, file, line)


def _site(method: str, path: str, file: str = "ui.js", line: int = 1) -> Any:
    return corpus.Site(method, path, file, line)


def test_a_call_reaches_the_most_specific_route_only() -> None:
    top, by_id = _route("GET", "/products/top"), _route("GET", "/products/:id")
    routes = [top, by_id, _route("GET", "/*")]
    to_id, to_top = _site("GET", "/products/{}"), _site("GET", "/products/top")
    post = _site("POST", "/products/{}")
    assert corpus.callers(by_id, routes, [to_id, to_top, post]) == [to_id]
    assert corpus.callers(top, routes, [to_id, to_top, post]) == [to_top]


def test_a_renamed_route_still_reached_through_a_parameter_is_shadowed() -> None:
    top, by_id = _route("GET", "/products/top"), _route("GET", "/products/:id")
    spa = _route("GET", "/*")
    call = _site("GET", "/products/top")
    assert corpus.shadowed(top, "top", [top, by_id, spa], call)
    # The SPA fallback alone does not hide the drift.
    assert not corpus.shadowed(top, "top", [top, spa], call)


def _rename(route: Any, files: dict[str, str], provider: tuple[str, ...] = ("**",)) -> Any:
    plan = corpus.plan_rename(
        route, {k: v.encode() for k, v in files.items()}, ContractsConfig(provider=provider)
    )
    assert plan is not None
    head, how, seg = plan
    return {k: v.decode() for k, v in head.items()}, how, seg


def test_rename_goes_where_the_segment_is_written() -> None:
    # On the decorator's own line.
    head, how, seg = _rename(
        _route("GET", "/books/<id>", line=2),
        {"app.py": "x = 1\n@app.route('/books/<id>')\ndef f(): ...\n"},
    )
    assert head["app.py"].splitlines()[1] == "@app.route('/books-renamed/<id>')"
    assert (how, seg) == ("books -> books-renamed at app.py:2", "books")
    # In a router prefix above the route (the route's own path has only a parameter).
    head, how, _ = _rename(
        _route("GET", "/api/items/{id}", "items.py", 3),
        {"items.py": "router = APIRouter(prefix='/items')\n\n@router.get('/{id}')\n"},
    )
    assert "prefix='/items-renamed'" in head["items.py"]
    # In a mount line of another provider file; comments are never renamed.
    head, how, _ = _rename(
        _route("GET", "/api/products", "routes/p.js", 2),
        {
            "routes/p.js": "// GET /api/products\nrouter.route('/').get(list)\n",
            "server.js": "// mounts /api/products\napp.use('/api/products', p)\n",
        },
    )
    assert head["server.js"].splitlines() == [
        "// mounts /api/products",
        "app.use('/api/products-renamed', p)",
    ]
    assert head["routes/p.js"].startswith("// GET /api/products\n")
    # A file-based route: its directory, even when the handler's body holds the same word.
    head, how, _ = _rename(
        _route("GET", "/api/todos", "src/app/api/todos/route.ts", 1),
        {"src/app/api/todos/route.ts": "export async function GET() { fetch('http://x/todos') }"},
    )
    assert list(head) == ["src/app/api/todos-renamed/route.ts"]
    assert "x/todos'" in head["src/app/api/todos-renamed/route.ts"]


def test_misses_are_classified_by_what_the_scanner_saw() -> None:
    result = ScanResult(
        calls=[
            Call("GET", "/api/products", "a.js", 33),
            Call("GET", "/api/{}", "b.js", 5),
            Call("*", "/api/users", "c.js", 7),
        ],
        findings=[Finding("unresolved-call", "notice", "d.js", 9, "Could not work out the URL")],
    )
    site = corpus.Site
    assert corpus.classify_call(site("GET", "/api/products", "a.js", 33), result) == ("exact", "")
    assert corpus.classify_call(site("GET", "/api/products", "a.js", 34), result) == (
        "line",
        "found at line 33",
    )
    assert corpus.classify_call(site("GET", "/api/products", "a.js", 34, (33,)), result)[0] == (
        "exact"
    )
    assert corpus.classify_call(site("GET", "/api/feed", "b.js", 5), result) == (
        "path",
        "found as GET /api/{}",
    )
    assert corpus.classify_call(site("GET", "/api/users", "c.js", 7), result)[0] == "method"
    assert corpus.classify_call(site("GET", "/x", "d.js", 9), result)[0] == "unresolved"
    assert corpus.classify_call(site("GET", "/x", "e.js", 1), result)[0] == "missing"


def test_the_script_scores_a_small_project(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = tmp_path / "sources" / "tiny"
    (src / "server").mkdir(parents=True)
    (src / "client").mkdir()
    (src / "server" / "app.py").write_text(
        "from flask import Flask\n"
        "app = Flask(__name__)\n"
        "\n"
        "@app.route('/api/books', methods=['GET'])\n"
        "def books():\n"
        "    return []\n"
        "\n"
        "@app.route('/api/authors/<int:id>', methods=['DELETE'])\n"
        "def author(id):\n"
        "    return {}\n"
    )
    (src / "client" / "api.js").write_text(
        "export const books = () => fetch('/api/books');\n"
        "export const drop = (id) => fetch(`/api/authors/${id}`, { method: 'DELETE' });\n"
    )
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "tiny.json").write_text(
        json.dumps(
            {
                "project": "tiny",
                "repository": "example/tiny",
                "commit": "0" * 40,
                "contracts": {"provider": ["server/**"], "consumer": ["client/**"]},
                "routes": [
                    ["GET", "/api/books", "server/app.py", 4],
                    ["DELETE", "/api/authors/<int:id>", "server/app.py", 8],
                    ["GET", "/health", "server/app.py", 1, "not in the code: a route miss"],
                ],
                "calls": [
                    ["GET", "/api/books", "client/api.js", 1],
                    ["DELETE", "/api/authors/{}", "client/api.js", 2],
                ],
            }
        )
    )
    argv = ["--sources", str(tmp_path / "sources"), "--truth", str(truth), "--json"]
    assert corpus.main(argv) == 0
    report = json.loads(capsys.readouterr().out)["projects"][0]
    assert report["source"] == "example/tiny@" + "0" * 40
    assert (report["routes"]["found"], report["routes"]["total"]) == (2, 3)
    assert report["routes"]["misses"][0]["route"] == "GET /health"
    assert (report["calls"]["found"], report["calls"]["total"]) == (2, 2)
    assert report["false_errors"] == []
    drift = report["drift"]
    assert (drift["routes"], drift["sites"], drift["caught"]) == (2, 2, 2)
    assert drift["misses"] == []

    assert corpus.main(argv[:-1]) == 0  # the table
    table = capsys.readouterr().out
    assert "tiny" in table and "TOTAL" in table and "2/3" in table

    assert corpus.main(["--setup", "/tmp/src", "--truth", str(truth)]) == 0
    assert "archive " + "0" * 40 in capsys.readouterr().out

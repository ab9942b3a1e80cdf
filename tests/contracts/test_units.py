"""The pure pieces: URL templates, path matching, globs, OpenAPI diffs, formats, the cache."""

from __future__ import annotations

import pytest

from app.config import ContractsConfig
from app.contracts import render, scan, select_paths
from app.contracts.breaking import operation_changes
from app.contracts.documents import load_yaml
from app.contracts.engine import _CACHE, extract
from app.contracts.match import paths_match
from app.contracts.model import Finding, ScanResult
from app.contracts.openapi import operations
from app.contracts.urls import Arg, Hole, Ref, bind_args, join_base, normalize_route, template_path


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("/users/{user_id}", "/users/{}"),
        ("/users/:id", "/users/{}"),
        ("/users/:id(\\d+)?/", "/users/{}"),
        ("/users/<int:id>/", "/users/{}"),
        ("/files/<path:rest>", "/files/{*}"),
        ("/static/*", "/static/{*}"),
        ("//api//v1/", "/api/v1"),
        ("", "/"),
    ],
)
def test_normalize_route(raw: str, norm: str) -> None:
    assert normalize_route(raw) == norm


@pytest.mark.parametrize(
    ("template", "path"),
    [
        (("/api/users/", Hole("id"), "?expand=1"), "/api/users/{}"),
        (("https://api.example.com/v1/items/",), "/v1/items"),
        ((Hole("base"), "/items/", Hole("id")), "/items/{}"),
        (("/api/v1/items/{item_id}",), "/api/v1/items/{}"),
        (("/search", Hole("qs")), "/search{}"),
        ((Hole("url"),), None),
        (("?page=2",), None),
    ],
)
def test_template_path(template: tuple, path: str | None) -> None:
    shape = template_path(template)
    assert (shape[0] if shape else None) == path


def test_join_base_has_exactly_one_slash() -> None:
    assert join_base(("/api/",), ("/users",)) == ("/api/users",)
    assert join_base(("/api",), ("users",)) == ("/api/users",)
    assert join_base(("/api",), ("https://x.org/a",)) == ("https://x.org/a",)


def test_bind_args_tells_wrappers_from_parameters() -> None:
    wrapper = (Ref("./config", "API"), Arg(0, name="url"))
    assert bind_args(wrapper) == wrapper
    assert bind_args(("https://h/api/", Arg(0, "path", name="path"))) == (
        "https://h/api/",
        Arg(0, "path", name="path"),
    )
    assert bind_args(("/items/", Arg(0, name="id"))) == ("/items/", Hole("id"))


@pytest.mark.parametrize(
    ("call", "endpoint", "ok"),
    [
        ("/users/{}", "/users/{}", True),
        ("/users/42", "/users/{}", True),
        ("/users/{}", "/users/me", True),
        ("/users/{}/posts", "/users/{}", False),
        ("/articles{}", "/articles", True),
        ("/files/a/b/c", "/files/{*}", True),
        ("/users", "/users/{}", False),
    ],
)
def test_paths_match(call: str, endpoint: str, ok: bool) -> None:
    assert paths_match(call, endpoint) is ok


def test_select_paths_defaults_and_ignore() -> None:
    paths = [
        "web/src/api.ts",
        "web/node_modules/axios/index.js",
        "web/dist/app.js",
        "app/main.py",
        "api/openapi.yaml",
        "web/src/api.test.ts",
        "web/public/jquery.min.js",
        "README.md",
        "tests/test_api.py",
        "web/src/App.vue",
    ]
    assert select_paths(paths, ContractsConfig()) == [
        "api/openapi.yaml",
        "app/main.py",
        "web/src/App.vue",
        "web/src/api.ts",
    ]
    config = ContractsConfig(
        provider=("api/*.yaml",), consumer=("web/**/*.ts",), ignore=("web/src/api.ts",)
    )
    assert select_paths(paths, config) == ["api/openapi.yaml"]


def _op(spec: str):
    doc, lines = load_yaml(spec)
    [op] = operations(doc, lines)
    return op


BASE = """openapi: 3.1.0
paths:
  /pets:
    post:
      parameters:
        - {name: kind, in: query, schema: {type: string, enum: [cat, dog, bird]}}
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Pet'}}}
components:
  schemas:
    Pet: {type: object, required: [name], properties: {name: {type: string}, age: {type: integer}}}
"""


def test_operation_changes() -> None:
    base = _op(BASE)
    assert operation_changes(base, base) == []
    head = _op(
        BASE.replace("cat, dog, bird", "cat, dog")
        .replace("required: [name]", "required: [name, age]")
        .replace("{name: kind, in: query,", "{name: kind, in: query, required: true,")
    )
    changes = operation_changes(base, head)
    assert 'parameter query:kind no longer accepts "bird"' in changes
    assert "now required parameter query:kind" in changes
    assert "now required request body field age" in changes
    removed = _op(BASE.replace("age: {type: integer}", "born: {type: string}"))
    assert "response field age was removed" in operation_changes(base, removed)
    grown = _op(BASE.replace("age: {type: integer}", "age: {type: integer}, color: {type: string}"))
    assert operation_changes(base, grown) == []  # a new optional field is compatible


def test_markdown_stays_under_the_limit() -> None:
    findings = [
        Finding("unknown-endpoint", "error", f"web/f{i}.js", i, "x" * 200, "GET", f"/p{i}")
        for i in range(2000)
    ]
    text = render(ScanResult(findings=findings), "markdown")
    assert len(text) < 65_535
    assert "more findings not shown" in text
    assert len(render(ScanResult(findings=findings), "markdown", max_chars=5000)) <= 5000


def test_extraction_is_cached_by_content() -> None:
    data = b"import axios from 'axios'\naxios.get('/api/cached-once')\n"
    first = extract("a/x.js", data)
    assert extract("b/y.js", data) is first  # same bytes, same kind: no second parse
    assert extract("b/y.ts", data) is not first  # another parser, another entry
    assert len(_CACHE) <= _CACHE.maxsize


FASTAPI = b"from fastapi import FastAPI\napp = FastAPI()\n@app.get('/x')\ndef f(): ...\n"


def test_base_path_config() -> None:
    files = {
        "app/main.py": FASTAPI.replace(b"/x", b"/items"),
        "web/a.js": b"fetch('/api/items')\n",
    }
    assert [f.code for f in scan(files, ContractsConfig()).findings if f.severity == "error"] == [
        "unknown-endpoint"
    ]
    assert not [
        f for f in scan(files, ContractsConfig(base_path="/api")).findings if f.severity == "error"
    ]


def test_no_provider_means_no_unknown_endpoint_noise() -> None:
    result = scan({"web/a.js": b"fetch('/api/items')\n"}, ContractsConfig())
    assert [c.path for c in result.calls] == ["/api/items"] and result.findings == []


def test_unresolved_call_is_a_notice() -> None:
    result = scan(
        {
            "web/a.js": b"export function go(u) { return fetch(getUrl(u)) }\n",
            "app/main.py": FASTAPI,
        },
        ContractsConfig(),
    )
    assert [(f.code, f.path, f.line) for f in result.findings if f.code == "unresolved-call"] == [
        ("unresolved-call", "web/a.js", 1)
    ]


def test_rescan_sees_a_changed_import() -> None:
    """Memoised call resolution is invalidated when a module the file imports changes."""
    files = {
        "web/config.js": b"export const BASE = '/api/v1';\n",
        "web/users.js": b"import { BASE } from './config';\nfetch(`${BASE}/users`);\n",
    }
    assert [c.path for c in scan(files, ContractsConfig()).calls] == ["/api/v1/users"]
    files["web/config.js"] = b"export const BASE = '/api/v2';\n"
    assert [c.path for c in scan(files, ContractsConfig()).calls] == ["/api/v2/users"]
    files["web/config.ts"] = files.pop("web/config.js")  # the import now lands elsewhere
    assert [c.path for c in scan(files, ContractsConfig()).calls] == ["/api/v2/users"]


def test_inline_urls_of_other_hosts_are_not_calls() -> None:
    js = b"""import axios from 'axios';
const API = 'https://api.myapp.com';
const api = axios.create({ baseURL: API });
export const a = (u) => fetch(`https://api.github.com/users/${u}`);
export const b = () => fetch(`${API}/users`);
export const c = () => api.get('https://hooks.slack.com/services/x');
export const d = (p) => fetch(`http://localhost:8000/api/${p}`);
async function getJson(url) { return (await fetch(url)).json(); }
getJson('https://cdn.example.com/x.json');
getJson('/api/config');
"""
    py = b"""import requests
BASE = "https://billing.internal"
requests.get(f"https://api.stripe.com/v1/charges/{cid}")
requests.post(f"{BASE}/invoices")
"""
    config = ContractsConfig(consumer=("**/*.js", "**/*.py"))
    calls = scan({"web/ext.js": js, "jobs/bill.py": py}, config).calls
    assert sorted((c.file, c.line, c.path) for c in calls) == [
        ("jobs/bill.py", 4, "/invoices"),
        ("web/ext.js", 5, "/users"),
        ("web/ext.js", 7, "/api/{}"),
        ("web/ext.js", 10, "/api/config"),
    ]


def test_python_wrappers_and_clients_across_modules() -> None:
    files = {
        "svc/settings.py": b'class Settings:\n    API_URL = "http://localhost:8000/api/v1"\n\n\n'
        b"settings = Settings()\n",
        "svc/clients/api.py": b"""import httpx
import requests

from svc.settings import settings

client = httpx.Client(base_url=settings.API_URL)


def get_json(path, **params):
    return requests.get(settings.API_URL + path, params=params, timeout=5).json()


def post_json(path, body):
    return requests.post(f"{settings.API_URL}{path}", json=body, timeout=5).json()
""",
        "svc/jobs/nightly.py": b"""from svc.clients import api
from svc.clients.api import client, get_json


def run(user_id):
    users = get_json("/users", active=True)
    api.post_json(f"/users/{user_id}/notify", {"kind": "nightly"})
    client.delete(f"/users/{user_id}/sessions")
    get_json("https://example.org/status")
    return users
""",
    }
    calls = scan(files, ContractsConfig(consumer=("**/*.py",))).calls
    assert sorted((c.method, c.path, c.file, c.line) for c in calls) == [
        ("DELETE", "/api/v1/users/{}/sessions", "svc/jobs/nightly.py", 8),
        ("GET", "/api/v1/users", "svc/jobs/nightly.py", 6),
        ("POST", "/api/v1/users/{}/notify", "svc/jobs/nightly.py", 7),
    ]


def test_express_app_passed_to_a_routes_function() -> None:
    ts = b"""import { Express, Request, Response } from 'express';
import { createUserHandler } from './controller/user.controller';

function routes(app: Express) {
  app.get('/healthcheck', (req: Request, res: Response) => res.sendStatus(200));
  app.post('/api/users', createUserHandler);
}

export default routes;
"""
    endpoints = scan({"src/routes.ts": ts}, ContractsConfig()).endpoints
    assert [(e.method, e.path, e.line, e.source) for e in endpoints] == [
        ("GET", "/healthcheck", 5, "express"),
        ("POST", "/api/users", 6, "express"),
    ]


def test_router_subclasses_are_routers() -> None:
    """Real apps name their APIRouter/Blueprint subclasses for the base (Prefect, Airflow)."""
    files = {
        "srv/flows.py": b"""from srv.routing import PrefectRouter
router: PrefectRouter = PrefectRouter(prefix="/flows", tags=["Flows"])
@router.get("/{id}")
def read_flow(id: str): ...
""",
        "srv/app.py": b"""from fastapi import FastAPI
from cadwyn import VersionedAPIRouter
from srv import flows
api = VersionedAPIRouter()
api.include_router(flows.router, prefix="/v1")
app = FastAPI()
app.include_router(api, prefix="/api")
""",
        "srv/web.py": b"""from srv.bp import ApiBlueprint
bp = ApiBlueprint("items", __name__, url_prefix="/items")
@bp.route("/<int:id>", methods=["DELETE"])
def drop(id): ...
""",
    }
    endpoints = scan(files, ContractsConfig()).endpoints
    assert sorted((e.method, e.path, e.source) for e in endpoints) == [
        ("DELETE", "/items/{}", "flask"),
        ("GET", "/api/v1/flows/{}", "fastapi"),
    ]


def test_data_and_blob_urls_are_not_calls() -> None:
    js = b"""const PIXEL = "data:image/webp;base64,UklGRh4AAABXRUJQ";
fetch(PIXEL).then(r => r.blob());
fetch("data:image/avif;base64,AAAAIGZ0eXBh");
fetch(URL_BLOB);
fetch('/api/items');
"""
    result = scan({"web/a.js": js, "app/main.py": FASTAPI}, ContractsConfig())
    assert [c.path for c in result.calls] == ["/api/items"]
    assert [f.code for f in result.findings if f.severity == "error"] == ["unknown-endpoint"]


def test_compiled_commonjs_express_routers() -> None:
    """tsc output as npm packages ship it: interop helpers, `(0, f)()`, `.default`, arrays."""
    routes = b"""var __importDefault = (this && this.__importDefault) || function (m) { return m; };
Object.defineProperty(exports, "__esModule", { value: true });
const express_1 = __importDefault(require("express"));
const items_1 = __importDefault(require("./items"));
const router = express_1.default.Router();
router.use('/items', items_1.default);
exports.default = router;
"""
    items = b"""const express_1 = require("express");
const router = (0, express_1.Router)();
router.get(['/', '/:id'], h);
exports.default = router;
"""
    client = b"""const axios_1 = __importDefault(require("axios"));
axios_1.default.get('/items/7');
axios_1.default.post('/items/7');
"""
    result = scan(
        {"lib/routes/index.js": routes, "lib/routes/items.js": items, "web/c.js": client},
        ContractsConfig(),
    )
    assert sorted((e.method, e.path) for e in result.endpoints) == [
        ("GET", "/items"),
        ("GET", "/items/{}"),
    ]
    assert [(f.code, f.line) for f in result.findings if f.severity == "error"] == [
        ("method-not-allowed", 3)
    ]


def test_origin_with_an_unknown_scheme_is_dropped() -> None:
    assert template_path((Hole("protocol"), "://", Hole("host"), ":", Hole("port"), "/health")) == (
        "/health",
        "/health",
    )


@pytest.mark.parametrize("imp", ["from pkg.routes import xcoms", "from . import xcoms"])
def test_package_init_including_its_own_submodule(imp: str) -> None:
    """Airflow's `routes/__init__.py` imports its submodules and mounts their routers."""
    init = f"""{imp}
from fastapi import APIRouter
api = APIRouter()
api.include_router(xcoms.router, prefix="/xcoms")
"""
    sub = b"from fastapi import APIRouter\nrouter = APIRouter()\n@router.get('/{k}')\ndef g(): ..."
    files = {"src/pkg/routes/__init__.py": init.encode(), "src/pkg/routes/xcoms.py": sub}
    assert [e.path for e in scan(files, ContractsConfig()).endpoints] == ["/xcoms/{}"]


def test_mounted_sub_app_serves_only_under_its_prefix() -> None:
    js = b"""import express from 'express';
const admin = express();
admin.get('/users', h);
const app = express();
app.use('/admin', admin);
app.get('/health', h);
"""
    endpoints = scan({"server/app.js": js}, ContractsConfig()).endpoints
    assert sorted(e.path for e in endpoints) == ["/admin/users", "/health"]


def test_scan_pair_gives_what_two_scans_give() -> None:
    from app.config import ContractsConfig
    from app.contracts import scan, scan_pair

    base = {
        "api/main.py": b'from fastapi import FastAPI\napp = FastAPI()\n\n@app.get("/a")\n'
        b'def a(): ...\n\n@app.get("/b")\ndef b(): ...\n',
        "web/api.js": b'export const a = () => fetch("/a");\nexport const b = () => fetch("/b");\n',
    }
    head = {**base, "api/main.py": base["api/main.py"].split(b'\n\n@app.get("/b")')[0] + b"\n"}
    config = ContractsConfig()
    pair = scan_pair(head, base, config)
    single = scan(head, config, base_files=base)
    assert single.baseline == frozenset(f.key for f in pair[1].findings)
    single.baseline = None  # scan_pair leaves the comparison to its caller
    assert pair == (single, scan(base, config))
    assert [f.code for f in pair[0].findings if f.severity == "error"] == ["removed-endpoint"]


def test_select_blobs_bounds_files_specs_count_and_bytes() -> None:
    from app.contracts.selection import select_blobs

    entries = {
        "api/a.py": ("a", 10), "api/big.py": ("b", 101), "openapi.yaml": ("s", 500),
        "api/c.py": ("c", 10), "api/d.py": ("d", 10), "README.md": ("r", 1),
    }  # fmt: skip
    wanted, notices = select_blobs(
        entries, ContractsConfig(), max_file=100, max_spec=1000, max_files=3, max_bytes=10_000
    )
    assert wanted == {"api/a.py": "a", "api/c.py": "c", "api/d.py": "d"}  # in path order
    assert {(f.code, f.path) for f in notices} == {
        ("oversized-file", "api/big.py"), ("too-many-files", "openapi.yaml"),
    }  # fmt: skip
    wanted, notices = select_blobs(entries, ContractsConfig(), max_file=100, max_spec=1000)
    assert set(wanted) == {"api/a.py", "api/c.py", "api/d.py", "openapi.yaml"}
    assert [f.code for f in notices] == ["oversized-file"]

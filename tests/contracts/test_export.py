"""`scan --format openapi` (SPEC 6, #10): the provided endpoints as an OpenAPI 3.1 document that
validates, with each operation's source; read back as a spec it gives the same endpoints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from app.config import ContractsConfig
from app.contracts import openapi_export, scan

from .helpers import load_fixture, make_repo, run_scan


@pytest.mark.parametrize("name", ["fastapi_react", "flask_vue", "express_react"])
def test_export_validates_and_round_trips(name: str) -> None:
    files, config = load_fixture(name)
    result = scan(files, config)
    code = [e for e in result.endpoints if e.source != "openapi"]
    assert code
    doc = openapi_export(result)
    OpenAPIV31SpecValidator(doc).validate()
    again = scan({"openapi.json": json.dumps(doc).encode()}, ContractsConfig())
    assert {(e.method, e.path) for e in again.endpoints} == {(e.method, e.path) for e in code}
    sources = {
        (op["x-baton-source"]["file"], op["x-baton-source"]["line"])
        for item in doc["paths"].values()
        for key, op in item.items()
        if not key.startswith("x-")
    }
    assert sources == {(e.file, e.line) for e in code}


def test_export_names_path_parameters_from_the_code() -> None:
    flask = b"""from flask import Flask
app = Flask(__name__)


@app.route("/users/<int:user_id>/files/<path:rest>")
def files(user_id, rest): ...


@app.route("/any", methods=ANY)
def anything(): ...
"""
    doc = openapi_export(scan({"app.py": flask}, ContractsConfig()))
    OpenAPIV31SpecValidator(doc).validate()
    item = doc["paths"]["/users/{user_id}/files/{rest}"]
    assert item["x-baton-wildcard"] == "rest"
    assert [p["name"] for p in item["get"]["parameters"]] == ["user_id", "rest"]
    assert item["get"]["x-baton-source"] == {"file": "app.py", "line": 5}
    assert doc["paths"]["/any"]["post"]["x-baton-any-method"] is True


def test_a_spec_in_the_repository_is_the_contract(tmp_path: Path) -> None:
    spec = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /pets/{petId}:\n    get: {}\n"
    server = "const app = require('express')();\napp.get('/internal', h);\n"
    repo = make_repo(tmp_path, {"api/openapi.yaml": spec, "server/app.js": server})
    proc = run_scan("scan", str(repo), "--format", "openapi")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    OpenAPIV31SpecValidator(doc).validate()
    assert list(doc["paths"]) == ["/pets/{petId}"]
    assert doc["paths"]["/pets/{petId}"]["get"]["x-baton-source"] == {
        "file": "api/openapi.yaml",
        "line": 5,
    }

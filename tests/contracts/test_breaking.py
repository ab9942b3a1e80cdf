"""Pattern 9 of #10: OpenAPI changes that break callers (oasdiff's error-level classes), each
reported at the calling lines, or as a warning at the operation when nothing calls it."""

from __future__ import annotations

import pytest

from app.config import ContractsConfig
from app.contracts import scan
from app.contracts.breaking import operation_changes
from app.contracts.documents import load_yaml
from app.contracts.openapi import operations

BASE = """openapi: 3.0.3
info: {title: t, version: '1'}
security: []
paths:
  /articles/{slug}:
    delete:
      responses:
        '200':
          description: the deleted article
          content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
    put:
      parameters:
        - {name: mode, in: query, schema: {type: string, enum: [draft, live], default: live}}
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
      requestBody:
        content:
          application/json: {schema: {$ref: '#/components/schemas/Article'}}
          application/x-www-form-urlencoded: {schema: {$ref: '#/components/schemas/Article'}}
      responses:
        '200':
          description: ok
          headers: {X-Version: {required: true, schema: {type: string}}}
          content: {application/json: {schema: {$ref: '#/components/schemas/Article'}}}
components:
  securitySchemes:
    token: {type: apiKey, in: header, name: Authorization}
  schemas:
    Article:
      type: object
      required: [title, body]
      properties:
        title: {type: string, maxLength: 200}
        body: {type: string}
        tag: {type: string, nullable: true}
        views: {type: integer}
"""

CHANGES = [
    # (what changes in the document, the phrase the finding must carry)
    (
        (
            "'200':\n          description: the deleted article\n"
            "          content: {application/json: "
            "{schema: {$ref: '#/components/schemas/Article'}}}",
            "'204': {description: gone}",
        ),
        "DELETE",
        "success status 200 no longer returned (now 204)",
    ),
    (
        ("enum: [draft, live]", "enum: [draft]"),
        "PUT",
        'parameter query:mode no longer accepts "live"',
    ),
    (("default: live", "default: draft"), "PUT", "parameter query:mode default changed"),
    (
        ("maximum: 100", "maximum: 50"),
        "PUT",
        "parameter query:limit maximum tightened from 100 to 50",
    ),
    (
        ("schema: {type: integer, maximum: 100}}", "required: true, schema: {type: integer}}"),
        "PUT",
        "now required parameter query:limit",
    ),
    (
        ("required: [title, body]", "required: [title, body, views]"),
        "PUT",
        "now required request body field views",
    ),
    (
        ("tag: {type: string, nullable: true}", "tag: {type: string}"),
        "PUT",
        "request body field tag no longer accepts null",
    ),
    (
        ("views: {type: integer}", "views: {type: string}"),
        "PUT",
        "response field views changed type from integer to string",
    ),
    (
        ("views: {type: integer}", "hits: {type: integer}"),
        "PUT",
        "response field views was removed",
    ),
    (
        (
            "          application/x-www-form-urlencoded:"
            " {schema: {$ref: '#/components/schemas/Article'}}\n",
            "",
        ),
        "PUT",
        "request content type application/x-www-form-urlencoded no longer accepted",
    ),
    (
        (
            "headers: {X-Version: {required: true, schema: {type: string}}}",
            "headers: {X-Version: {schema: {type: string}}}",
        ),
        "PUT",
        "response header x-version may now be absent",
    ),
    (
        ("security: []", "security: [{token: []}]"),
        "PUT",
        "security now requires token (was nothing)",
    ),
]


def _ops(text: str) -> dict[str, object]:
    doc, lines = load_yaml(text)
    return {op.method: op for op in operations(doc, lines)}


@pytest.mark.parametrize(("edit", "method", "phrase"), CHANGES, ids=[c[2][:40] for c in CHANGES])
def test_each_breaking_class(edit: tuple[str, str], method: str, phrase: str) -> None:
    assert edit[0] in BASE
    head = BASE.replace(*edit)
    changes = operation_changes(_ops(BASE)[method], _ops(head)[method])
    assert any(phrase in c for c in changes), changes


def test_compatible_changes_are_not_breaking() -> None:
    grown = BASE.replace("maximum: 100", "maximum: 500").replace(
        "views: {type: integer}", "views: {type: integer}\n        likes: {type: integer}"
    )
    base, head = _ops(BASE), _ops(grown)
    assert operation_changes(base["PUT"], head["PUT"]) == []
    assert operation_changes(base["DELETE"], head["DELETE"]) == []


CLIENT = b"""export const drop = (slug) => fetch(`/articles/${slug}`, { method: 'DELETE' })
  .then((r) => r.json());
export const dropAgain = (slug) => fetch(`/articles/${slug}`, { method: 'DELETE' });
"""


def test_reported_at_each_calling_line_or_as_a_warning_at_the_operation() -> None:
    head = BASE.replace(*CHANGES[0][0]).replace("maximum: 100", "maximum: 50")
    base_files = {"api/openapi.yaml": BASE.encode(), "web/api.js": CLIENT}
    head_files = {"api/openapi.yaml": head.encode(), "web/api.js": CLIENT}
    result = scan(head_files, ContractsConfig(), base_files=base_files)
    got = [(f.code, f.severity, f.path, f.line) for f in result.findings if f.severity != "notice"]
    assert got == [
        ("breaking-change", "warning", "api/openapi.yaml", 9),  # `put:` in head
        ("breaking-change", "error", "web/api.js", 1),
        ("breaking-change", "error", "web/api.js", 3),
    ]
    [first] = [f for f in result.findings if (f.path, f.line) == ("web/api.js", 1)]
    assert "success status 200 no longer returned (now 204)" in first.message
    assert "operation at api/openapi.yaml:6" in first.message

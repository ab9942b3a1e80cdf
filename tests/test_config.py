"""`.github/baton.yml` parsing and process settings: pure, no I/O."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import jwt
import pytest

from app.config import (
    _SCHEMA,
    DEFAULT,
    ClaimsConfig,
    ContractsConfig,
    TicketsConfig,
    VerificationConfig,
    parse_config,
    parse_duration,
)
from app.sandbox.server import _key_pair
from app.service.github import app_jwt, rate_limit_wait
from app.service.settings import Settings, SettingsError, load_settings

PEM, _PUBLIC = _key_pair()
PEM = PEM.strip()


def test_missing_file_and_empty_file_give_defaults() -> None:
    assert parse_config(None) == DEFAULT
    assert parse_config("") == DEFAULT


def test_keys_are_merged_over_defaults() -> None:
    config = parse_config(
        "tickets: {label: ticket}\nagents: [claude, Codex]\n"
        "claims: {max_per_agent: 2, stale_after: 90m, release_after: 2d}\n"
        "contracts: {provider: 'api/**/*.py', consumer: [web/src/**], base_path: /api}\n"
        "verification: {required_approvals: 2}\n"
    )
    assert not config.problems
    assert config.tickets.label == "ticket"
    assert config.tickets.criteria_heading == "Acceptance criteria"
    assert config.claims.max_per_agent == 2
    assert (config.claims.stale_after, config.claims.release_after) == (5400, 172800)
    assert config.contracts.provider == ("api/**/*.py",)
    assert config.verification.required_approvals == 2
    assert config.verification.require_checks is True
    assert config.is_agent("codex") and config.is_agent("anyone", "Bot")
    assert not config.is_agent("maya")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("claims:\n  max_per_agent: lots\n", 2, "claims.max_per_agent"),
        ("tickets: {}\nverification:\n  require_ticket: 3\n", 3, "require_ticket"),
        ("claims: {stale_after: soon}\n", 1, "stale_after"),
        ("colour: blue\n", 1, "unknown key"),
        ("tickets: [1, 2\n", 2, "invalid YAML"),
        ("- a list\n", 1, "mapping"),
    ],
)
def test_an_invalid_file_falls_back_to_defaults_and_says_where(
    text: str, line: int, fragment: str
) -> None:
    config = parse_config(text)
    assert config.claims == DEFAULT.claims and config.tickets == DEFAULT.tickets
    [problem] = config.problems
    assert problem.line == line
    assert fragment in str(problem)
    assert str(problem).startswith(f".github/baton.yml:{line}: ")


def test_hostile_yaml_is_refused_without_blowing_up() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    assert parse_config(laughs).problems
    assert parse_config("x: !!python/object/apply:os.system ['true']\n").problems
    assert parse_config("a: " + "[" * 10000).problems
    assert parse_config("k: v\n" * 20000).problems  # over the size bound


def test_durations() -> None:
    assert parse_duration("24h") == 86400
    assert parse_duration(30) == 30
    with pytest.raises(ValueError):
        parse_duration("tomorrow")


def test_settings_name_every_problem_on_its_own_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"APP_ID": "abc", "PORT": "99999", "LOG_FORMAT": "xml"}, None)
    names = [p.split(":")[0] for p in err.value.problems]
    assert names == [
        "APP_ID", "PRIVATE_KEY or PRIVATE_KEY_PATH", "WEBHOOK_SECRET", "PORT", "LOG_FORMAT",
    ]  # fmt: skip


def test_settings_read_dotenv_under_the_environment_and_hide_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    escaped = PEM.replace("\n", "\\n")
    env_file.write_text(
        f'APP_ID=12\nexport WEBHOOK_SECRET="from-file"\nPRIVATE_KEY="{escaped}"\n'
        "# a comment\nPORT=8080\n"
    )
    settings = load_settings({"PORT": "9000"}, env_file)
    assert isinstance(settings, Settings)
    assert (settings.app_id, settings.port, settings.webhook_secret) == ("12", 9000, "from-file")
    assert settings.private_key == PEM
    assert "from-file" not in repr(settings) and "PRIVATE KEY" not in repr(settings)


def test_app_jwt_is_backdated_and_short_lived() -> None:
    private, public = _key_pair()
    claims = jwt.decode(app_jwt("7", private, now=1_000_000), public, algorithms=["RS256"],
                        options={"verify_exp": False, "verify_iat": False})  # fmt: skip
    assert claims["iss"] == "7"
    assert claims["iat"] == 1_000_000 - 60
    assert claims["exp"] - 1_000_000 <= 600


def test_rate_limit_waits() -> None:
    assert rate_limit_wait(403, {"retry-after": "7"}, 0) == 7
    assert (
        rate_limit_wait(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "130"}, 100) == 30
    )
    assert rate_limit_wait(429, {}, 0) == 60
    assert rate_limit_wait(403, {}, 0) is None  # a permission error, not a rate limit
    assert rate_limit_wait(404, {"retry-after": "1"}, 0) is None


def test_a_secondary_rate_limit_without_retry_after_waits_a_minute() -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    assert rate_limit_wait(403, {}, 0, message) == 60


def test_settings_read_the_key_from_private_key_path(tmp_path: Path) -> None:
    (tmp_path / "app.pem").write_text(PEM + "\n")
    env = {"APP_ID": "3", "WEBHOOK_SECRET": "s", "PRIVATE_KEY_PATH": str(tmp_path / "app.pem")}
    assert load_settings(env, None).private_key == PEM
    with pytest.raises(SettingsError) as err:
        load_settings({**env, "PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")}, None)
    assert err.value.problems[0].startswith("PRIVATE_KEY_PATH: cannot read")


def test_a_key_that_only_looks_like_pem_is_refused_at_start() -> None:
    fake = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----"
    with pytest.raises(SettingsError) as err:
        load_settings({"APP_ID": "3", "WEBHOOK_SECRET": "s", "PRIVATE_KEY": fake}, None)
    assert err.value.problems == ["PRIVATE_KEY: not a PEM private key"]


# --- per-key defaults and bounds (SPEC 8, #9.5, #13) -----------------------------------------


def test_one_invalid_key_keeps_its_default_and_every_other_key_applies() -> None:
    config = parse_config(
        "tickets: {label: ticket}\n"
        "claims:\n  max_per_agent: lots\n  stale_after: 2h\n"
        "verification: {required_approvals: 2, exempt_authors: ['dependabot[bot]']}\n"
        "colour: blue\n"
    )
    assert config.tickets.label == "ticket"  # a typo elsewhere does not turn the label off
    assert config.claims.max_per_agent == DEFAULT.claims.max_per_agent
    assert config.claims.stale_after == 7200
    assert config.verification.required_approvals == 2
    assert config.verification.exempt_authors == ("dependabot[bot]",)
    assert [(p.line, p.message.split()[0]) for p in config.problems] == [
        (3, "claims.max_per_agent"), (6, "unknown"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "value",
    [".inf", "-.inf", ".nan", "99999999999999d", "366d", "0", "0s", "-5", "1e400", "0.5s"],
)
def test_durations_out_of_bounds_are_config_errors(value: str) -> None:
    config = parse_config(f"claims:\n  release_after: {value}\n")
    assert config.claims.release_after == DEFAULT.claims.release_after
    [problem] = config.problems
    assert problem.line == 2 and "release_after" in problem.message


def test_durations_at_the_bounds() -> None:
    assert parse_duration("1s") == 1 and parse_duration("365d") == 365 * 86400
    assert parse_duration("52w") == 52 * 604800
    for bad in (float("inf"), float("nan"), 0, 10**30, True, "1y"):
        with pytest.raises(ValueError):
            parse_duration(bad)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("claims.max_per_agent", "-1"), ("claims.max_per_agent", "10000000000000"),
        ("claims.max_per_agent", "true"), ("verification.required_approvals", "11"),
        ("verification.required_approvals", "-1"), ("verification.exempt_labels", "{a: 1}"),
        ("tickets.criteria_heading", "''"), ("tickets.label", "[a]"),
    ],
)  # fmt: skip
def test_numbers_and_strings_are_bounded(key: str, value: str) -> None:
    section, name = key.split(".")
    config = parse_config(f"{section}:\n  {name}: {value}\n")
    assert getattr(getattr(config, section), name) == getattr(getattr(DEFAULT, section), name)
    assert [p.line for p in config.problems] == [2]


def test_a_bad_glob_is_a_config_error_with_its_line() -> None:
    config = parse_config(
        "contracts:\n  base_path: /api\n  provider: ['src/[z-a]*.js']\n  consumer: [web/**]\n"
    )
    assert config.contracts.provider == DEFAULT.contracts.provider
    assert config.contracts.consumer == ("web/**",) and config.contracts.base_path == "/api"
    [problem] = config.problems
    assert problem.line == 3 and "src/[z-a]*.js" in str(problem)


def test_a_file_that_is_not_yaml_gives_all_defaults() -> None:
    for text in ("tickets: [1, 2\n", "\t\x00: :\n", b"\xff\xfe garbage"):
        config = parse_config(text)
        assert replace(config, problems=()) == DEFAULT and config.problems


def test_every_section_key_has_a_converter() -> None:
    sections = {
        "tickets": TicketsConfig, "claims": ClaimsConfig,
        "contracts": ContractsConfig, "verification": VerificationConfig,
    }  # fmt: skip
    for name, cls in sections.items():
        assert set(_SCHEMA[name]) == {f.name for f in fields(cls)}

"""SARIF 2.1.0 of a scan, as GitHub code scanning ingests it: every rule with a full description
and help, the tool's installed version, locations as valid URI references, and with `--base`
each result's `baselineState` (new or unchanged)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import quote

from .model import ScanResult

_LEVEL = {"error": "error", "warning": "warning", "notice": "note"}
_FILE_HELP = (
    "Add the file to `contracts.ignore` in `.github/baton.yml` if it is generated or vendored; "
    "otherwise fix what the message says so the scan can read it."
)
# code -> (level, short description, full description, what to do)
RULES: dict[str, tuple[str, str, str, str]] = {
    "unknown-endpoint": (
        "error",
        "A call to a path no provider serves",
        "A consumer calls a method and path that none of the repository's providers (OpenAPI "
        "documents, FastAPI, Flask, Express, file-based routes) serves: at run time it gets a 404.",
        "Fix the URL of the call, or add the endpoint to the provider.",
    ),
    "method-not-allowed": (
        "error",
        "A call with a method the endpoint does not allow",
        "The path is served, but not for this HTTP method: at run time the call gets a 405.",
        "Change the method of the call, or add a handler for it.",
    ),
    "removed-endpoint": (
        "error",
        "An endpoint removed while still called",
        "An endpoint the base branch provided is gone on this branch, and a consumer still calls "
        "it. When a new endpoint differs from it in one segment, the finding says so (a rename).",
        "Restore the endpoint (or keep the old path as an alias), or change the call.",
    ),
    "breaking-change": (
        "error",
        "An incompatible change to an API operation",
        "An OpenAPI operation changed in a way that breaks existing callers: a success status "
        "or response field removed, a type changed, a new required parameter or body field, an "
        "enum value or content type removed, a new security requirement. An error at each "
        "calling line; a warning at the operation when nothing in the repository calls it.",
        "Keep the change backward compatible (optional fields, a new version), or update every "
        "consumer in the same change.",
    ),
    "trailing-slash": (
        "warning",
        "A trailing slash that differs from the route's",
        "The call's URL ends with a slash and the route's does not, or the other way round, "
        "and the provider's framework (Flask, FastAPI, Django) answers that with a 404 or a "
        "redirect.",
        "Write the URL as the route is written.",
    ),
    "unused-endpoint": (
        "note",
        "An endpoint no consumer in the repository calls",
        "Reported only when the repository has consumer calls: the endpoint may be dead, or "
        "called from outside the repository.",
        "Remove the endpoint if it is dead, or add it to `contracts.ignore`.",
    ),
    "unresolved-call": (
        "note",
        "An HTTP call whose URL could not be worked out",
        "Baton follows literals, template literals, concatenation, constants, settings and "
        "imports without running code; this call's URL is built in a way it cannot follow.",
        "Build the URL from literals and constants, or add the file to `contracts.ignore`.",
    ),
    "partially-resolved": (
        "note",
        "A call matched only through an unknown part of its URL",
        "An unknown piece of the URL stands for a whole segment the endpoint spells out, so the "
        "match is weak and drift there would go unseen.",
        "Build the URL from literals and constants.",
    ),
    "oversized-file": ("note", "A file over the size limit", "The file was skipped.", _FILE_HELP),
    "unparsable-file": ("note", "A file that could not be parsed", "Skipped.", _FILE_HELP),
    "invalid-encoding": ("note", "A file that is not UTF-8", "The file was skipped.", _FILE_HELP),
    "invalid-path": ("note", "A path outside the repository", "Skipped.", _FILE_HELP),
    "too-many-files": ("note", "Over the file limit", "The rest were skipped.", _FILE_HELP),
    "unreadable-file": ("note", "A file that could not be read", "Skipped.", _FILE_HELP),
}


def tool_version() -> str:
    try:
        return version("baton")
    except PackageNotFoundError:
        return "0.0.0"


def artifact_uri(path: str) -> str:
    """A repository path as a relative URI reference: `[id]`, spaces, `%`, `#` encoded."""
    return quote(path, safe="/-._~!$&'()*+,;=:@")


def _rule(code: str) -> dict[str, Any]:
    level, short, full, todo = RULES.get(
        code, ("note", "A file the scan could not read fully", "Skipped.", _FILE_HELP)
    )
    return {
        "id": code,
        "name": "".join(p.title() for p in code.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": f"{full} {todo}", "markdown": f"**{short}.** {full}\n\n{todo}"},
        "defaultConfiguration": {"level": level},
    }


def sarif(result: ScanResult) -> dict[str, Any]:
    codes = sorted({f.code for f in result.findings} | set(RULES))
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for f in result.findings:
        item: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(f.path), "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": max(1, f.line)},
                    }
                }
            ],
            "partialFingerprints": {"batonFindingKey/v1": "|".join(f.key)},
        }
        new = result.is_new(f)
        if new is not None:
            item["baselineState"] = "new" if new else "unchanged"
        results.append(item)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Baton contracts",
                        "version": tool_version(),
                        "rules": [_rule(code) for code in codes],
                    }
                },
                "results": results,
            }
        ],
    }

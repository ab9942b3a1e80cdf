"""Plain data of the contract scan: endpoints provided, calls expected, findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, order=True)
class Endpoint:
    """A route the backend provides. `path` is normalised: `/users/{}/posts`."""

    method: str  # upper case; "*" for any method
    path: str  # normalised template, parameters as {}
    file: str
    line: int
    raw_path: str = ""  # as written, e.g. /users/{user_id}
    source: str = ""  # openapi | fastapi | flask | express


@dataclass(frozen=True, order=True)
class Call:
    """An HTTP call the frontend (or another service) makes."""

    method: str  # upper case; "*" when unknown
    path: str  # normalised template, parameters as {}
    file: str
    line: int
    raw_path: str = ""
    client: str = ""  # fetch | axios | ky | requests | httpx | ...
    host: str = ""  # the URL's host when written with one that is not local


@dataclass(frozen=True, order=True)
class Finding:
    code: str  # unknown-endpoint | method-not-allowed | removed-endpoint | breaking-change
    #            | unused-endpoint | unresolved-call | unparsable-file | oversized-file ...
    severity: Severity
    path: str  # file the finding is reported at
    line: int
    message: str  # says what to change
    method: str = ""
    endpoint: str = ""  # normalised path template the finding is about

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity across two scans (base vs head): line numbers move, this does not."""
        return (self.code, self.path, self.method, self.endpoint)


@dataclass
class ScanResult:
    endpoints: list[Endpoint] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files_scanned: int = 0
    bytes_scanned: int = 0
    # Keys of the findings the base already had (`--base`); None when not compared to a base.
    baseline: frozenset[tuple[str, str, str, str]] | None = None

    def is_new(self, finding: Finding) -> bool | None:
        """Whether the base lacked this finding; None without a base to compare with."""
        return None if self.baseline is None else finding.key not in self.baseline

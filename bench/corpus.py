"""Score the contract scanner against a hand-labelled corpus of real applications (issue #10).

The ground truth is `bench/corpus/<project>.json`, read by hand from each project's source
before the scanner was run on it: every route the backend provides and every HTTP call site
in the frontend (method, path, file, line). Only the ground truth is kept here, never the
projects' code. Each file says where its source comes from:

    {"project": NAME, "repository": "owner/name", "commit": SHA,   (or "package": "x@1.2")
     "contracts": {provider, consumer, base_path}   # the `.github/baton.yml` block to scan with
     "routes": [[METHOD, path, file, line, note?, {"rename": [[file, line], ...]}?], ...],
     "calls": [[METHOD, path, file, line, [other acceptable lines]?, note?], ...],
     "app_calls": [...],       # generated clients: where the app calls the generated method
     "external_calls": [...]}  # calls to other services: must raise no error

A call's line is the line where its URL argument is written in the call (for a multi-line call,
the URL's line, not the callee's); the optional list holds the line where that URL's literal is
written when it reaches the call through a variable or a function (`const path = '...'`).

Getting the sources (one directory per project under SOURCES, named by "project"):

    git clone https://github.com/OWNER/NAME /tmp/src && \\
      git -C /tmp/src archive COMMIT | tar -x -C SOURCES/PROJECT
    # `.venv/bin/python bench/corpus.py --setup SOURCES` prints these commands for every project

Run: `.venv/bin/python bench/corpus.py --sources SOURCES [--project NAME] [--json] [--misses]`.

Measured per project, scanning in process exactly as `baton scan` does (same file selection,
`scan(files, config, base_files)`):
- routes: ground-truth routes found among the scanner's endpoints (method + normalised path);
- calls: call sites found with the same method, normalised path, file and line (line +-0);
  a call found at another line is reported as `line` (not counted), with the other misses;
- false errors: error findings on the unmodified project (its ground truth has no drift);
- drift: for every called route, a head version of the backend with one segment of that route
  renamed (`items` -> `items-renamed`, where the segment is written), scanned against the
  original as base like `baton scan --base`; caught when each calling line has a new error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import ContractsConfig
from app.contracts import scan, select_paths
from app.contracts.gitread import read_worktree
from app.contracts.model import ScanResult

TRUTH_DIR = Path(__file__).resolve().parent / "corpus"
RENAMED = "-renamed"

# --- ground truth -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as written in the ground truth, e.g. /users/{user_id}
    file: str
    line: int
    note: str = ""
    rename: tuple[tuple[str, int], ...] = ()  # where the drift experiment renames a segment

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, norm_path(self.path))


@dataclass(frozen=True)
class Site:
    method: str
    path: str
    file: str
    line: int
    also: tuple[int, ...] = ()
    note: str = ""

    @property
    def lines(self) -> tuple[int, ...]:
        return (self.line, *self.also)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Truth:
    project: str
    source: str  # owner/name@commit or package@version
    config: ContractsConfig
    routes: list[Route]
    calls: list[Site]
    app_calls: list[Site] = field(default_factory=list)
    external_calls: list[Site] = field(default_factory=list)


def _site(row: list[Any]) -> Site:
    method, path, file, line = row[:4]
    also: tuple[int, ...] = ()
    note = ""
    for extra in row[4:]:
        if isinstance(extra, list):
            also = tuple(int(x) for x in extra)
        elif isinstance(extra, str):
            note = extra
    return Site(method.upper(), path, file, int(line), also, note)


def _route(row: list[Any]) -> Route:
    method, path, file, line = row[:4]
    note = ""
    rename: tuple[tuple[str, int], ...] = ()
    for extra in row[4:]:
        if isinstance(extra, str):
            note = extra
        elif isinstance(extra, dict):
            rename = tuple((str(f), int(n)) for f, n in extra.get("rename", ()))
    return Route(method.upper(), path, file, int(line), note, rename)


def load_truth(path: Path) -> Truth:
    doc = json.loads(path.read_text())
    contracts = doc.get("contracts", {})
    config = ContractsConfig(
        provider=tuple(contracts.get("provider", ())),
        consumer=tuple(contracts.get("consumer", ())),
        base_path=contracts.get("base_path", ""),
        ignore=tuple(contracts.get("ignore", ())),
    )
    source = f"{doc['repository']}@{doc['commit']}" if "repository" in doc else doc["package"]
    return Truth(
        project=doc["project"],
        source=source,
        config=config,
        routes=[_route(r) for r in doc.get("routes", [])],
        calls=[_site(r) for r in doc.get("calls", [])],
        app_calls=[_site(r) for r in doc.get("app_calls", [])],
        external_calls=[_site(r) for r in doc.get("external_calls", [])],
    )


# --- paths ----------------------------------------------------------------------------------

_ORIGIN = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/]*")
_REST = re.compile(r"^(?:\[\[?\.\.\.[^\]]*\]\]?|\*|<path:[^>]*>|\{\*\}|\{[^{}]*:path\})$")
_PARAM = re.compile(r"^(?:\{[^{}]*\}|:[\w]+\??|<[^>]*>|\[[^\]]*\]|\$\{[^}]*\})$")
_INNER_PARAM = re.compile(r"\{[^{}]*\}|(?:^|[.\-])(?::\w+)|<[^>]*>|\[[^\]]*\]")


def norm_path(raw: str) -> str:
    """Ground-truth and scanner paths alike -> `/users/{}`; `{*}` takes the rest of the path.

    Trailing slashes are dropped (the scanner ignores them when matching; see `trailing`)."""
    path = _ORIGIN.sub("", raw.split("?", 1)[0].split("#", 1)[0])
    out = []
    for seg in path.split("/"):
        if not seg or seg == ".":
            continue
        if _REST.match(seg):
            out.append("{*}")
        elif _PARAM.match(seg) or _INNER_PARAM.search(seg):
            out.append("{}")  # `:a.:b`, `file-{id}`: a segment holding a parameter is one
        else:
            out.append(seg)
    return "/" + "/".join(out)


def path_matches(route_path: str, call_path: str) -> bool:
    """Does a call to `call_path` reach `route_path` (both normalised)?"""
    rs, cs = route_path.strip("/").split("/"), call_path.strip("/").split("/")
    for i, seg in enumerate(rs):
        if seg == "{*}":
            return True
        if i >= len(cs):
            return False
        if seg != "{}" and cs[i] != "{}" and seg != cs[i]:
            return False
    return len(rs) == len(cs)


def _specificity(route_path: str, call_path: str) -> int:
    """How closely a call's path fits a route it matches: equal literals beat parameters."""
    score = 0
    for r, c in zip(
        route_path.strip("/").split("/"), call_path.strip("/").split("/"), strict=False
    ):
        score += 2 if r == c and r not in ("{}", "{*}") else 1 if r in ("{}", "{*}") else 0
    return score


def callers(route: Route, routes: list[Route], sites: list[Site]) -> list[Site]:
    """The call sites that reach `route`: of the routes a call matches, the most specific ones
    (a call to `/products/{}` reaches `/products/:id`, not `/products/top`)."""
    out = []
    for site in sites:
        want = norm_path(site.path)
        fits = [
            (r, _specificity(norm_path(r.path), want))
            for r in routes
            if r.method in ("*", site.method) and path_matches(norm_path(r.path), want)
        ]
        if fits:
            best = max(score for _, score in fits)
            if any(r == route and score == best for r, score in fits):
                out.append(site)
    return out


# --- one scan, scored -----------------------------------------------------------------------


def read_files(root: Path, config: ContractsConfig) -> dict[str, bytes]:
    files, _notices = read_worktree(str(root), lambda paths: select_paths(paths, config))
    return files


def score_routes(truth: Truth, result: ScanResult) -> dict[str, Any]:
    found = {(e.method, norm_path(e.path)) for e in result.endpoints}
    by_path: dict[str, set[str]] = {}
    for e in result.endpoints:
        by_path.setdefault(norm_path(e.path), set()).add(e.method)
    hits, misses = [], []
    for r in truth.routes:
        method, path = r.key
        ok = (method, path) in found or (method == "*" and path in by_path)
        (hits if ok else misses).append(r)
    wanted = {r.key for r in truth.routes}
    extra = sorted(
        (e.method, e.path, f"{e.file}:{e.line}")
        for e in result.endpoints
        if (e.method, norm_path(e.path)) not in wanted
    )
    return {
        "total": len(truth.routes),
        "found": len(hits),
        "misses": [
            {
                "route": f"{r.method} {r.path}",
                "at": f"{r.file}:{r.line}",
                "note": r.note,
                "scanner_methods_for_path": sorted(by_path.get(r.key[1], ())),
            }
            for r in misses
        ],
        "extra": [f"{m} {p} ({w})" for m, p, w in extra],
    }


def classify_call(site: Site, result: ScanResult) -> tuple[str, str]:
    """`exact`, or why the scanner's calls do not contain this call site."""
    want = norm_path(site.path)
    same_file = [c for c in result.calls if c.file == site.file]
    at_line = [c for c in same_file if c.line in site.lines]
    for c in at_line:
        if c.method == site.method and norm_path(c.path) == want:
            return "exact", ""
    same = [c for c in same_file if c.method == site.method and norm_path(c.path) == want]
    if same:
        lines = sorted({c.line for c in same})
        near = min(lines, key=lambda n: abs(n - site.line))
        return "line", f"found at line {near}"
    for c in at_line:
        if norm_path(c.path) == want:
            return "method", f"found as {c.method} {c.path}"
    if at_line:
        got = ", ".join(sorted({f"{c.method} {c.raw_path or c.path}" for c in at_line}))
        return "path", f"found as {got}"
    unresolved = [
        f
        for f in result.findings
        if f.code == "unresolved-call" and f.path == site.file and f.line in site.lines
    ]
    if unresolved:
        return "unresolved", unresolved[0].message
    return "missing", "no call at this line"


def score_calls(sites: list[Site], result: ScanResult) -> dict[str, Any]:
    out: dict[str, Any] = {"total": len(sites), "found": 0, "by_cause": Counter(), "misses": []}
    for site in sites:
        cause, detail = classify_call(site, result)
        if cause == "exact":
            out["found"] += 1
            continue
        out["by_cause"][cause] += 1
        out["misses"].append(
            {
                "call": f"{site.method} {site.path}",
                "at": site.where,
                "cause": cause,
                "detail": detail,
                "note": site.note,
            }
        )
    out["by_cause"] = dict(out["by_cause"])
    return out


def extra_calls(truth: Truth, result: ScanResult) -> list[str]:
    """Scanner calls at no labelled line: calls the reading missed, or the scanner's noise."""
    known = {
        (s.file, n)
        for s in (*truth.calls, *truth.app_calls, *truth.external_calls)
        for n in s.lines
    }
    labelled = {
        (s.file, s.method, norm_path(s.path)) for s in (*truth.calls, *truth.app_calls)
    }  # the same call at another line is reported as a `line` miss already
    return sorted(
        f"{c.file}:{c.line} {c.method} {c.raw_path or c.path}"
        for c in result.calls
        if (c.file, c.line) not in known and (c.file, c.method, norm_path(c.path)) not in labelled
    )


def _errors(result: ScanResult) -> list[Any]:
    return [f for f in result.findings if f.severity == "error"]


# --- injected drift ---------------------------------------------------------------------------

_COMMENT = re.compile(r"^\s*(?://|#|\*|/\*)")


def _segment_re(seg: str) -> re.Pattern[str]:
    # The segment as a path piece inside a string: preceded by `/`, followed by a delimiter.
    return re.compile(r"(?<=/)" + re.escape(seg) + r"(?=[/'\"`?{]|$)")


def _static_segments(path: str) -> list[str]:
    return [s for s in norm_path(path).strip("/").split("/") if s and not s.startswith("{")]


def plan_rename(
    route: Route, files: Mapping[str, bytes], config: ContractsConfig
) -> tuple[dict[str, bytes], str, str] | None:
    """Head files with one segment of `route` renamed where it is written, how, and the segment.

    A route row may say where (`{"rename": [[file, line], ...]}`: a spec and the code it was
    generated from). Otherwise, for the last static segment first: for file-based routes
    (Next.js `pages/api`, `route.ts`, SvelteKit `+server.ts`) the file's own path; else the
    route's line and the next 3 lines (a decorator's path on its own line), the lines above in
    the same file (a router prefix), mount lines (`use`, `include_router`, `prefix`...) in the
    other provider files. Returns None if the segment is written nowhere we can see."""
    segments = list(reversed(_static_segments(route.path)))
    head = dict(files)
    if route.rename:
        seg = segments[0] if segments else ""
        done = []
        for file, line in route.rename:
            new = _rename_at(head.get(file, b""), line, seg)
            if new is None:
                return None
            head[file] = new
            done.append(f"{file}:{line}")
        return head, f"{seg} -> {seg}{RENAMED} at " + ", ".join(done), seg
    for seg in segments:
        text = files.get(route.file)
        lines = text.decode("utf-8", "replace").split("\n") if text is not None else []
        if _FILE_ROUTE.search(route.file):  # the path is the file's path, nothing else
            moved = _move(head, route.file, seg)
            if moved is not None:
                return moved
            continue
        for n in [route.line + k for k in range(4)]:
            if _renamable(lines, n, seg):
                return _renamed(head, route.file, n, seg)
        for n in range(route.line - 1, 0, -1):
            if _renamable(lines, n, seg):
                return _renamed(head, route.file, n, seg)
        for other in sorted(files):
            if other == route.file or not glob_match(config.provider, other):
                continue
            other_lines = files[other].decode("utf-8", "replace").split("\n")
            for n in range(1, len(other_lines) + 1):
                if _renamable(other_lines, n, seg) and _MOUNT.search(other_lines[n - 1]):
                    return _renamed(head, other, n, seg)
    return None


_FILE_ROUTE = re.compile(r"(^|/)pages/api/|(^|/)route\.[jt]s$|(^|/)\+server\.[jt]s$")
_MOUNT = re.compile(r"\b(use|include_router|register_blueprint|prefix|url_prefix|mount)\b")


def _move(head: dict[str, bytes], file: str, seg: str) -> tuple[dict[str, bytes], str, str] | None:
    """Rename `seg` where it is a directory or the file name of a file-based route."""
    parts = file.split("/")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        name, dot, ext = part.rpartition(".") if last else (part, "", "")
        if name != seg:
            continue
        renamed = seg + RENAMED + dot + ext
        old = "/".join(parts[: i + 1])
        new = "/".join([*parts[:i], renamed])
        moved = {
            (new + p[len(old) :] if p == old or p.startswith(old + "/") else p): d
            for p, d in head.items()
        }
        return moved, f"{'file' if last else 'directory'} {old} -> {new}", seg
    return None


def _renamable(lines: list[str], n: int, seg: str) -> bool:
    return (
        1 <= n <= len(lines)
        and not _COMMENT.match(lines[n - 1])
        and bool(_segment_re(seg).search(lines[n - 1]))
    )


def _renamed(
    head: dict[str, bytes], file: str, line: int, seg: str
) -> tuple[dict[str, bytes], str, str]:
    new = _rename_at(head[file], line, seg)
    assert new is not None
    head[file] = new
    return head, f"{seg} -> {seg}{RENAMED} at {file}:{line}", seg


def glob_match(patterns: tuple[str, ...], path: str) -> bool:
    """`**` any directories, `*` within one segment: enough for the corpus's globs."""
    for pattern in patterns:
        rx = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                rx, i = rx + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                rx, i = rx + ".*", i + 2
            elif pattern[i] == "*":
                rx, i = rx + "[^/]*", i + 1
            else:
                rx, i = rx + re.escape(pattern[i]), i + 1
        if re.fullmatch(rx, path):
            return True
    return False


def _rename_at(data: bytes, line: int, seg: str) -> bytes | None:
    lines = data.decode("utf-8", "replace").split("\n")
    if not 1 <= line <= len(lines):
        return None
    new, count = _segment_re(seg).subn(seg + RENAMED, lines[line - 1], count=1)
    if not count:
        return None
    lines[line - 1] = new
    return "\n".join(lines).encode()


def shadowed(route: Route, seg: str, routes: list[Route], site: Site) -> bool:
    """After the rename, does the call still reach another route (`/products/top` renamed:
    the call now reaches `/products/:id`)? A path-level check cannot see that drift; it is
    reported apart, not counted. A root catch-all (`app.get('*')` serving the SPA) does not
    count: it answers HTML, never the API the call wanted."""
    want = norm_path(site.path)
    return any(
        r != route
        and norm_path(r.path) != "/{*}"
        and r.method in ("*", site.method)
        and seg not in _static_segments(r.path)
        and path_matches(norm_path(r.path), want)
        for r in routes
    )


def drift(truth: Truth, files: dict[str, bytes], plain: ScanResult) -> dict[str, Any]:
    before = {(f.path, f.line, f.code) for f in _errors(plain)}
    out: dict[str, Any] = {
        "routes": 0,
        "routes_caught": 0,
        "sites": 0,
        "caught": 0,
        "app_sites": 0,
        "app_caught": 0,
        "misses": [],
        "not_renamed": [],
        "shadowed": [],
    }
    for route in truth.routes:
        sites = callers(route, truth.routes, truth.calls)
        if not sites or "{*}" in norm_path(route.path):
            continue
        if not _static_segments(route.path):  # `/`: no segment to rename
            out["not_renamed"].append(f"{route.method} {route.path} (no static segment)")
            continue
        plan = plan_rename(route, files, truth.config)
        if plan is None:
            out["not_renamed"].append(f"{route.method} {route.path}")
            continue
        head, how, seg = plan
        result = scan(head, truth.config, files)
        new_errors = {
            (f.path, f.line) for f in _errors(result) if (f.path, f.line, f.code) not in before
        }
        missed, counted = [], 0
        for site in sites:
            if shadowed(route, seg, truth.routes, site):
                out["shadowed"].append(f"{route.method} {route.path} <- {site.where}")
                continue
            counted += 1
            out["sites"] += 1
            if any((site.file, n) in new_errors for n in site.lines):
                out["caught"] += 1
                continue
            near = sorted(n for f, n in new_errors if f == site.file and abs(n - site.line) <= 6)
            missed.append(site.where + (f" (error at line {near[0]})" if near else ""))
        for site in callers(route, truth.routes, truth.app_calls):
            out["app_sites"] += 1
            if any((site.file, n) in new_errors for n in site.lines):
                out["app_caught"] += 1
        if not counted:
            continue
        out["routes"] += 1
        if missed:
            out["misses"].append(
                {"route": f"{route.method} {route.path}", "renamed": how, "missed_at": missed}
            )
        else:
            out["routes_caught"] += 1
    return out


# --- a project, the corpus --------------------------------------------------------------------


def score_project(truth: Truth, root: Path, with_drift: bool = True) -> dict[str, Any]:
    started = time.perf_counter()
    files = read_files(root, truth.config)
    plain = scan(files, truth.config)
    errors = _errors(plain)
    external = [s for s in truth.external_calls]
    report: dict[str, Any] = {
        "project": truth.project,
        "source": truth.source,
        "files": len(files),
        "endpoints": len(plain.endpoints),
        "scanner_calls": len(plain.calls),
        "routes": score_routes(truth, plain),
        "calls": score_calls(truth.calls, plain),
        "app_calls": score_calls(truth.app_calls, plain),
        "extra_calls": extra_calls(truth, plain),
        "false_errors": [f"{f.path}:{f.line} {f.code} {f.method} {f.endpoint}" for f in errors],
        "external_errors": [
            f"{f.path}:{f.line}"
            for f in errors
            if any(f.path == s.file and f.line in s.lines for s in external)
        ],
        "notices": dict(Counter(f.code for f in plain.findings if f.severity == "notice")),
    }
    if with_drift:
        report["drift"] = drift(truth, files, plain)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:5.1f}%" if den else "    -"


def render_table(reports: list[dict[str, Any]]) -> str:
    head = (
        f"{'project':<32} {'routes':>14} {'calls':>14} {'line':>4} {'app calls':>10} "
        f"{'false err':>9} {'drift (call sites)':>20} {'s':>5}"
    )
    rows = [head, "-" * len(head)]
    tot = Counter()
    for r in reports:
        rt, ca, ap = r["routes"], r["calls"], r["app_calls"]
        d = r.get("drift") or {"sites": 0, "caught": 0}
        line_miss = ca["by_cause"].get("line", 0)
        rows.append(
            f"{r['project']:<32} {rt['found']:>3}/{rt['total']:<3} {_pct(rt['found'], rt['total'])}"
            f" {ca['found']:>3}/{ca['total']:<3} {_pct(ca['found'], ca['total'])} {line_miss:>4}"
            f" {ap['found']:>3}/{ap['total']:<3}   {len(r['false_errors']):>6}"
            f"   {d['caught']:>3}/{d['sites']:<3} {_pct(d['caught'], d['sites'])}"
            f" {r['seconds']:>5.1f}"
        )
        tot.update(
            routes=rt["found"],
            routes_total=rt["total"],
            calls=ca["found"],
            calls_total=ca["total"],
            line=line_miss,
            app=ap["found"],
            app_total=ap["total"],
            false=len(r["false_errors"]),
            drift=d["caught"],
            drift_total=d["sites"],
        )
    rows.append("-" * len(head))
    rows.append(
        f"{'TOTAL':<32} {tot['routes']:>3}/{tot['routes_total']:<3}"
        f" {_pct(tot['routes'], tot['routes_total'])}"
        f" {tot['calls']:>3}/{tot['calls_total']:<3} {_pct(tot['calls'], tot['calls_total'])}"
        f" {tot['line']:>4} {tot['app']:>3}/{tot['app_total']:<3}   {tot['false']:>6}"
        f"   {tot['drift']:>3}/{tot['drift_total']:<3} {_pct(tot['drift'], tot['drift_total'])}"
        f" {sum(r['seconds'] for r in reports):>5.1f}"
    )
    return "\n".join(rows)


def render_misses(reports: list[dict[str, Any]]) -> str:
    out = []
    for r in reports:
        out.append(f"\n## {r['project']} ({r['source']})")
        for m in r["routes"]["misses"]:
            got = ",".join(m["scanner_methods_for_path"]) or "-"
            out.append(f"  route  {m['route']:<50} {m['at']}  (path has: {got}) {m['note']}")
        for kind in ("calls", "app_calls"):
            for m in r[kind]["misses"]:
                out.append(
                    f"  {kind[:-1]:<6} {m['call']:<50} {m['at']}  [{m['cause']}] {m['detail']}"
                )
        for e in r["extra_calls"]:
            out.append(f"  extra call (not in the ground truth) {e}")
        for e in r["false_errors"]:
            out.append(f"  false error {e}")
        d = r.get("drift")
        if d:
            for m in d["misses"]:
                out.append(f"  drift  {m['route']:<50} {m['renamed']}; missed {m['missed_at']}")
            for m in d["shadowed"]:
                out.append(f"  drift  shadowed (not counted): {m}")
            for m in d["not_renamed"]:
                out.append(f"  drift  {m}: no place found to rename a segment")
        if r["notices"]:
            out.append(f"  notices {r['notices']}")
    return "\n".join(out)


def setup_commands(truths: list[Truth], sources: str) -> str:
    lines = [f"mkdir -p {sources}"]
    for t in truths:
        repo, _, commit = t.source.partition("@")
        if "/" in repo and len(commit) == 40:
            lines.append(
                f"git clone -q https://github.com/{repo} /tmp/src-{t.project} && "
                f"mkdir -p {sources}/{t.project} && git -C /tmp/src-{t.project} archive "
                f"{commit} | tar -x -C {sources}/{t.project}"
            )
        else:
            lines.append(f"# {t.project}: unpack {t.source} into {sources}/{t.project}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sources", help="directory holding one extracted tree per project")
    parser.add_argument("--truth", default=str(TRUTH_DIR), help="ground-truth directory")
    parser.add_argument("--project", action="append", help="only these projects")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--misses", action="store_true", help="list every miss after the table")
    parser.add_argument("--no-drift", action="store_true", help="skip the drift experiments")
    parser.add_argument("--setup", metavar="SOURCES", help="print commands to get the sources")
    args = parser.parse_args(argv)
    truths = [load_truth(p) for p in sorted(Path(args.truth).glob("*.json"))]
    if args.project:
        truths = [t for t in truths if t.project in args.project]
    if args.setup:
        print(setup_commands(truths, args.setup))
        return 0
    if not args.sources:
        parser.error("--sources is required (or --setup SOURCES)")
    reports = []
    for t in truths:
        root = Path(args.sources) / t.project
        if not root.is_dir():
            print(f"corpus: {root} is missing; see --setup", file=sys.stderr)
            return 2
        reports.append(score_project(t, root, with_drift=not args.no_drift))
    if args.json:
        json.dump({"version": 1, "projects": reports}, sys.stdout, indent=1)
        print()
    else:
        print(render_table(reports))
        if args.misses:
            print(render_misses(reports))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())

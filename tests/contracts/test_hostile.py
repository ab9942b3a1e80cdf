"""Hostile input: every case is a notice, never a crash, within bounded time and memory."""

from __future__ import annotations

import os
import resource
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import ContractsConfig
from app.contracts import scan
from app.contracts.documents import DocumentError, load_yaml
from app.contracts.gitread import read_worktree
from app.contracts.selection import select_paths

CONFIG = ContractsConfig()


def _laugh(i: int) -> str:
    prev = chr(97 + i)
    return f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{prev}"] * 9) + "]"


BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [_laugh(i) for i in range(9)]
    + ["openapi: 3.0.0", "paths: {}"]
)


def _notices(files: dict[str, bytes]) -> dict[str, str]:
    started = time.monotonic()
    result = scan(files, CONFIG)
    assert time.monotonic() - started < 20
    return {f.path: f.code for f in result.findings if f.severity == "notice"}


def test_fifty_megabyte_file_is_skipped_with_a_notice() -> None:
    big = b"// " + b"x" * (50 * 1024 * 1024)
    tracemalloc.start()
    notices = _notices({"web/src/big.js": big, "web/src/ok.js": b"fetch('/api/x')\n"})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert notices["web/src/big.js"] == "oversized-file"
    assert peak < 20 * 1024 * 1024  # nothing copied or parsed


def test_fifty_megabyte_file_on_disk_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    with open(tmp_path / "api" / "openapi.json", "wb") as handle:
        handle.seek(50 * 1024 * 1024)
        handle.write(b"}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    files, _ = read_worktree(str(tmp_path), lambda paths: select_paths(paths, CONFIG))
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 40 * 1024  # KiB
    assert _notices(files)["api/openapi.json"] == "oversized-file"


@pytest.mark.parametrize("name", ["api/openapi.json", "api/openapi.yaml"])
def test_deeply_nested_document(name: str) -> None:
    if name.endswith(".json"):
        data = b'{"openapi": "3.0.0", "paths": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    else:
        data = b"openapi: 3.0.0\npaths: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    assert _notices({name: data})[name] == "unparsable-file"


def test_billion_laughs_yaml() -> None:
    started = time.monotonic()
    with pytest.raises(DocumentError, match="nodes"):
        load_yaml(BILLION_LAUGHS)
    assert time.monotonic() - started < 5
    assert _notices({"openapi.yaml": BILLION_LAUGHS.encode()})["openapi.yaml"] == "unparsable-file"


def test_recursive_yaml_alias() -> None:
    with pytest.raises(DocumentError):
        load_yaml("openapi: 3.0.0\npaths: &p\n  /x: *p\n")
    assert (
        _notices({"openapi.yml": b"openapi: 3.0.0\na: &a [*a]\n"})["openapi.yml"]
        == "unparsable-file"
    )


def test_recursive_local_refs_terminate() -> None:
    spec = b"""openapi: 3.0.0
paths:
  /a:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/A'}}}}
      responses: {'200': {description: ok}}
components:
  schemas:
    A:
      type: object
      properties: {next: {$ref: '#/components/schemas/A'}, self: {$ref: '#/components/schemas/B'}}
    B: {$ref: '#/components/schemas/A'}
"""
    result = scan({"openapi.yaml": spec}, CONFIG, base_files={"openapi.yaml": spec})
    assert [(e.method, e.path) for e in result.endpoints] == [("POST", "/a")]


def test_deeply_nested_source_code() -> None:
    js = b"const x = " + b"(" * 50_000 + b"1" + b")" * 50_000 + b";\nfetch('/api/a')\n"
    py = b"x = " + b"(" * 50_000 + b"1" + b")" * 50_000 + b"\n"
    notices = _notices({"web/a.js": js, "srv/a.py": py})
    assert notices["srv/a.py"] == "unparsable-file"
    assert notices.get("web/a.js", "unparsable-file") == "unparsable-file"


def test_invalid_utf8() -> None:
    notices = _notices(
        {"web/src/a.js": b"fetch('/api/\xff\xfe')\n", "app/main.py": b"x = '\xc3\x28'\n"}
    )
    assert notices == {"web/src/a.js": "invalid-encoding", "app/main.py": "invalid-encoding"}


def test_paths_leaving_the_repository() -> None:
    notices = _notices({"../etc/app.js": b"fetch('/x')", "web/../../a.js": b"", "/abs/a.js": b""})
    assert set(notices.values()) == {"invalid-path"}
    assert len(notices) == 3


def test_symlink_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside.js"
    outside.write_text("fetch('/api/secret')\n")
    repo = tmp_path / "repo"
    (repo / "web").mkdir(parents=True)
    os.symlink(outside, repo / "web" / "leak.js")
    (repo / "web" / "ok.js").write_text("fetch('/api/ok')\n")
    files, notices = read_worktree(str(repo), lambda paths: select_paths(paths, CONFIG))
    assert "web/leak.js" not in files and "web/ok.js" in files
    assert [(n.code, n.path) for n in notices] == [("invalid-path", "web/leak.js")]


def test_many_tiny_garbage_files_stay_fast() -> None:
    files = {f"web/g{i}.js": bytes(range(256)) * 4 for i in range(300)}
    files.update({f"web/s{i}.ts": b"))))}}}{{{ fetch(`" * 50 for i in range(300)})
    started = time.monotonic()
    scan(files, CONFIG)
    assert time.monotonic() - started < 10


_JS_BITS = [
    "fetch(",
    "axios.get(",
    "`${",
    "}`",
    "'/api/x'",
    "+",
    "(",
    ")",
    "{",
    "}",
    "=>",
    "const a =",
    "import x from './y';",
    "router.get('/a', h)",
    "export default",
    ";",
    "\n",
    "new URL(",
    "class A { constructor(private http: HttpClient) {} }",
    "this.http.get(",
    ",",
    "...",
    "?",
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_JS_BITS), max_size=40), st.sampled_from(["a.js", "a.ts", "a.vue"]))
def test_arbitrary_js_never_crashes(bits: list[str], name: str) -> None:
    source = "".join(bits).encode()
    if name.endswith(".vue"):
        source = b"<script>" + source + b"</script>"
    scan(
        {f"web/{name}": source, "web/y.js": b"export default axios.create({baseURL: '/b'})"}, CONFIG
    )


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_as_python_and_yaml_never_crashes(text: str) -> None:
    scan({"app/main.py": text.encode(), "api/openapi.yaml": text.encode()}, CONFIG)

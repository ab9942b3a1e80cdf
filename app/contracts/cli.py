"""`baton scan [PATH] [--base REF] [--config FILE] [--format text|json|sarif|markdown|openapi]`.

Exit status: 0 no error findings, 1 error findings (with `--base`: new ones), 2 usage or input
error.
"""

from __future__ import annotations

import argparse
import os
import sys

from app.config import CONFIG_PATH, MAX_CONFIG_BYTES, parse_config

from .engine import scan
from .formats import render
from .gitread import GitError, read_commit, read_worktree
from .selection import select_paths


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"baton scan: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="baton scan", description="Contract scan of a local checkout.")
    parser.add_argument("path", nargs="?", default=".", help="repository root (default: .)")
    parser.add_argument(
        "--base",
        metavar="REF",
        help="git ref to diff against (removed endpoints, breaking OpenAPI changes)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help=f"config file (default: PATH/{CONFIG_PATH})"
    )
    parser.add_argument(
        "--format", choices=("text", "json", "sarif", "markdown", "openapi"), default="text"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:
        return int(exc.code or 0)
    root = args.path
    if not os.path.isdir(root):
        print(f"baton scan: {root} is not a directory", file=sys.stderr)
        return 2
    config_path = args.config or os.path.join(root, CONFIG_PATH)
    text = None
    if os.path.exists(config_path):
        try:
            with open(config_path, "rb") as handle:
                text = handle.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            print(f"baton scan: cannot read {config_path}: {exc.strerror}", file=sys.stderr)
            return 2
    elif args.config:
        print(f"baton scan: {args.config} does not exist", file=sys.stderr)
        return 2
    repo_config = parse_config(text)
    if repo_config.problems:
        for problem in repo_config.problems:
            print(
                f"baton scan: {config_path}: {problem.message}"
                + (f" (line {problem.line})" if problem.line else ""),
                file=sys.stderr,
            )
        return 2
    config = repo_config.contracts

    def wanted(paths: list[str]) -> list[str]:
        return select_paths(paths, config)

    files, notices = read_worktree(root, wanted)
    base_files = None
    if args.base:
        try:
            base_files, _ = read_commit(root, args.base, wanted)
        except GitError as exc:
            print(f"baton scan: cannot read --base {args.base}: {exc}", file=sys.stderr)
            return 2
    result = scan(files, config, base_files)
    result.findings = sorted([*notices, *result.findings], key=lambda f: (f.path, f.line, f.code))
    sys.stdout.write(render(result, args.format))
    # With --base only new errors fail (SPEC 1), as the check run judges a PR.
    return (
        1
        if any(f.severity == "error" and result.is_new(f) is not False for f in result.findings)
        else 0
    )


if __name__ == "__main__":  # `python -m app.contracts.cli scan ...`, as `baton scan ...`
    cli_args = sys.argv[1:]
    raise SystemExit(main(cli_args[1:] if cli_args[:1] == ["scan"] else cli_args))

"""Django's `settings` object (`from django.conf import settings`; `settings.API_URL`): its
attributes are the module named by `DJANGO_SETTINGS_MODULE`, which `manage.py` and `wsgi.py`
set (`os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'site.settings')`). Without that, the
`settings` module nearest the importer."""

from __future__ import annotations

import ast

from .python_index import Index
from .urls import Ref

SETTINGS_ENV = "DJANGO_SETTINGS_MODULE"
EXPORT_KEY = "#django.settings"  # FileFacts.exports key: the module this file names


def settings_module(idx: Index) -> str | None:
    """The module a file names as `DJANGO_SETTINGS_MODULE`, if it sets a literal one."""
    nodes: list[ast.Call | ast.Assign] = [call for call, _ in idx.calls]
    nodes += [a for a in idx.assigns if isinstance(a, ast.Assign)]
    for node in nodes:
        if (found := _named(node)) is not None:
            return found
    return None


def _named(node: ast.Call | ast.Assign) -> str | None:
    if isinstance(node, ast.Call):  # os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "setdefault"
            and len(node.args) == 2
            and _const(node.args[0]) == SETTINGS_ENV
        ):
            return _const(node.args[1])
        return None
    target = node.targets[0] if len(node.targets) == 1 else None  # os.environ['...'] = 'x'
    if isinstance(target, ast.Subscript) and _const(target.slice) == SETTINGS_ENV:
        return _const(node.value)
    return None


def _const(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def is_settings_ref(ref: Ref) -> bool:
    return ref.module == "django.conf" and ref.name.split(".", 1)[0] == "settings"


def settings_target(
    importer: str, ref: Ref, declared: list[tuple[str, str]]
) -> tuple[str, Ref] | None:
    """(file to resolve from, the settings module's Ref) for `settings.X` seen in `importer`:
    the declaration in the nearest enclosing directory, else the nearest `settings` module."""
    rest = ref.name.partition(".")[2]
    if not rest:
        return None
    inside = [
        (path, module)
        for path, module in declared
        if importer.startswith(path.rpartition("/")[0] + "/") or "/" not in path
    ]
    if inside:
        path, module = max(inside, key=lambda d: (len(d[0].rpartition("/")[0]), d[0]))
        return path, Ref(module, rest)
    return importer, Ref("settings", rest)

"""Flask-RESTful / MethodView classes: the HTTP methods each answers (`def get(self)`, ...),
with those it inherits from base classes of the same module (`class UserAPI(BaseAPI)`).
`api.add_resource(UserAPI, '/users/<id>')` (python_routes.py) gives the route those methods."""

from __future__ import annotations

import ast

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")


def resource_methods(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level classes and their upper-case methods, `["*"]` for a class defining none."""
    classes = {c.name: c for c in tree.body if isinstance(c, ast.ClassDef)}

    def methods(name: str, seen: frozenset[str]) -> list[str]:
        cls = classes[name]
        found = [
            f.name.upper()
            for f in cls.body
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and f.name in HTTP_VERBS
        ]
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in classes and base.id not in seen:
                found += [m for m in methods(base.id, seen | {base.id}) if m not in found]
        return found

    return {name: methods(name, frozenset({name})) or ["*"] for name in classes}

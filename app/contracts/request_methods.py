"""The methods a single-handler module answers (Next.js `pages/api`), read from how it tests the
request's method: `if (req.method === 'PATCH')`, `switch (req.method) { case 'GET': ... }`,
`['GET', 'POST'].includes(req.method)`, a guard such as `withMethods(['PATCH'], handler)` or
`if (req.method !== 'POST') return res.status(405)`.

Saying fewer methods than the handler answers would raise false `method-not-allowed` errors,
so any doubt gives None (any method): an `else` or a `default` that is not a 405, code after
the method tests that may answer another method, the method used as a key or passed on.
"""

from __future__ import annotations

import re

from tree_sitter import Node

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_MAX_NODES = 200_000
_EQUAL = ("===", "==")
_UNEQUAL = ("!==", "!=")
_FUNCS = ("function_declaration", "function_expression", "arrow_function", "method_definition")


# `req.method`, `const { method } = req`, a method guard: what is worth a walk.
_READS_METHOD = re.compile(rb"\.method\b|\bmethod\b[^;=]*\}\s*=\s*\w+\s*[;\n]|[mM]ethods\(")


class _Doubt(Exception):
    pass


def handled_methods(root: Node, source: bytes, offset: int) -> tuple[tuple[str, int], ...] | None:
    """((METHOD, line), ...) in the order first seen, or None when unknown."""
    if not _READS_METHOD.search(source):  # most modules: no walk at all
        return None
    reader = _Reader(source, offset)
    try:
        reader.walk(root)
        return reader.result()
    except _Doubt:
        return None


class _Reader:
    def __init__(self, source: bytes, offset: int) -> None:
        self.source = source
        self.offset = offset
        self.tested: dict[str, int] = {}  # `=== 'X'`, `case 'X'`, `[...].includes(method)`
        self.guard: dict[str, int] = {}  # `!== 'X'` and method lists given to a call
        self.positive_ifs: list[Node] = []  # `if (req.method === 'X')` statements
        self.aliases: set[str] = set()  # `const { method } = req`, `const m = req.method`
        self.budget = _MAX_NODES

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def line(self, node: Node) -> int:
        return node.start_point[0] + 1 + self.offset

    def walk(self, node: Node) -> None:
        stack = [node]
        while stack:
            current = stack.pop()
            self.budget -= 1
            if self.budget < 0:
                raise _Doubt
            if self._reads_method(current):
                self._use(current)
            elif current.type == "variable_declarator":
                self._alias(current)
            elif current.type == "arguments":
                self._method_list(current)
            stack.extend(reversed(current.named_children))

    def _alias(self, declarator: Node) -> None:
        """`const { method } = req` (the Next.js documentation's form)."""
        pattern = declarator.child_by_field_name("name")
        value = declarator.child_by_field_name("value")
        if pattern is None or pattern.type != "object_pattern" or value is None:
            return
        if value.type != "identifier":
            return
        for item in pattern.named_children:
            if item.type == "shorthand_property_identifier_pattern" and self.text(item) == "method":
                self.aliases.add("method")
            elif item.type == "pair_pattern":
                key, target = item.child_by_field_name("key"), item.child_by_field_name("value")
                named = key is not None and self.text(key) == "method"
                if named and target is not None and target.type == "identifier":
                    self.aliases.add(self.text(target))

    def mentions(self, text: str) -> bool:
        """Whether code reads the method (so that it answers no other one by itself)."""
        return ".method" in text or any(
            re.search(rf"\b{re.escape(alias)}\b", text) for alias in self.aliases
        )

    def _reads_method(self, node: Node) -> bool:
        if node.type == "identifier":
            return self.text(node) in self.aliases
        return node.type == "member_expression" and self._is_method(node)

    def _is_method(self, node: Node) -> bool:
        prop = node.child_by_field_name("property")
        obj = node.child_by_field_name("object")
        return (
            prop is not None
            and self.text(prop) == "method"
            and obj is not None
            and obj.type == "identifier"
        )

    def _literal(self, node: Node | None) -> str | None:
        if node is None or node.type != "string":
            return None
        value = self.text(node)[1:-1]
        return value if value in METHODS else None

    def _use(self, node: Node) -> None:
        parent = node.parent
        while parent is not None and parent.type == "parenthesized_expression":
            node, parent = parent, parent.parent
        if parent is None:
            return
        if parent.type == "binary_expression":
            op = parent.child_by_field_name("operator")
            other = parent.child_by_field_name(
                "right" if parent.child_by_field_name("left") == node else "left"
            )
            method = self._literal(other)
            operator = self.text(op) if op is not None else ""
            if method is None or operator not in (*_EQUAL, *_UNEQUAL):
                if operator in (*_EQUAL, *_UNEQUAL):
                    raise _Doubt  # compared with something we cannot read
                return
            if operator in _UNEQUAL:
                self.guard.setdefault(method, self.line(parent))
                return
            self.tested.setdefault(method, self.line(parent))
            statement = _enclosing_if(parent)
            if statement is None:
                raise _Doubt  # `req.method === 'GET' ? list() : create()` answers both
            self.positive_ifs.append(statement)
            alternative = statement.child_by_field_name("alternative")
            if alternative is not None and not self._answers_nothing_else(alternative):
                raise _Doubt
            return
        if parent.type == "switch_statement":
            self._switch(parent)
            return
        if parent.type == "arguments":
            call = parent.parent
            callee = call.child_by_field_name("function") if call is not None else None
            prop = callee.child_by_field_name("property") if callee is not None else None
            obj = callee.child_by_field_name("object") if callee is not None else None
            name = self.text(prop) if prop is not None else ""
            if name in ("includes", "indexOf") and obj is not None and obj.type == "array":
                for element in obj.named_children:
                    method = self._literal(element)
                    if method is None:
                        raise _Doubt
                    self.tested.setdefault(method, self.line(element))
                return
            if callee is not None and self.text(callee).startswith("console."):
                return
            raise _Doubt  # passed on: a proxy or a dispatcher answers what it is given
        if parent.type == "variable_declarator":
            bound = parent.child_by_field_name("name")
            if bound is not None and bound.type == "identifier" and bound != node:
                self.aliases.add(self.text(bound))  # `const m = req.method`: its uses are read
                return
            if bound == node:
                return  # the binding itself
            raise _Doubt
        if parent.type in ("subscript_expression", "pair"):
            raise _Doubt  # `handlers[req.method]`, `{ method: req.method }`

    def _answers_nothing_else(self, alternative: Node) -> bool:
        """An `else` that is another method test or a 405 answers no other method."""
        text = self.text(alternative)
        return "405" in text or self.mentions(text)

    def _switch(self, switch: Node) -> None:
        body = switch.child_by_field_name("body")
        for case in body.named_children if body is not None else ():
            if case.type == "switch_default":
                if case.named_children and "405" not in self.text(case):
                    raise _Doubt
            elif case.type == "switch_case":
                method = self._literal(case.child_by_field_name("value"))
                if method is None:
                    raise _Doubt
                self.tested.setdefault(method, self.line(case))

    def _method_list(self, arguments: Node) -> None:
        """`withMethods(['PATCH'], handler)`, `res.setHeader('Allow', ['GET', 'PUT'])`: a list of
        method names given to a call about methods guards them."""
        call = arguments.parent
        callee = call.child_by_field_name("function") if call is not None else None
        name = self.text(callee).lower() if callee is not None else ""
        first = arguments.named_children[0] if arguments.named_children else None
        allow = "setheader" in name and first is not None and self.text(first)[1:-1] == "Allow"
        if "method" not in name and not allow:
            return
        for arg in arguments.named_children:
            if arg.type != "array" or not arg.named_children:
                continue
            methods = [self._literal(e) for e in arg.named_children]
            if all(methods):
                for method in methods:
                    self.guard.setdefault(method, self.line(arg))  # type: ignore[arg-type]

    def result(self) -> tuple[tuple[str, int], ...] | None:
        if self.guard:  # what the guard lets through; a test the guard omits is kept too
            lines = {m: self.tested.get(m, line) for m, line in self.guard.items()}
            return tuple({**lines, **self.tested}.items())
        if not self.tested:
            return None
        for statement in self.positive_ifs:
            if self._falls_through(statement):
                raise _Doubt
        return tuple(self.tested.items())

    def _falls_through(self, statement: Node) -> bool:
        """Code after a method test, up to the end of its function, may answer any method."""
        current = statement
        while current.parent is not None and current.type not in _FUNCS:
            block = current.parent
            if block.type in ("statement_block", "program"):
                following = block.named_children[_index(block, current) + 1 :]
                for sibling in following:
                    text = self.text(sibling)
                    if sibling.type != "comment" and not self.mentions(text) and "405" not in text:
                        return True
            current = block
        return False


def _index(block: Node, child: Node) -> int:
    for i, sibling in enumerate(block.named_children):
        if sibling == child:
            return i
    return len(block.named_children)


def _enclosing_if(node: Node) -> Node | None:
    """The `if` whose condition holds this comparison (through `||`, `&&`, parentheses)."""
    current = node
    parent = node.parent
    while parent is not None and parent.type in ("binary_expression", "parenthesized_expression"):
        current, parent = parent, parent.parent
    if parent is None or parent.type != "if_statement":
        return None
    return parent if parent.child_by_field_name("condition") == current else None

"""A small evaluator for the subset of Go's text/template that ftk's Ollama Modelfile templates use.

Ollama renders a Modelfile's TEMPLATE with Go's text/template. To prove that the template ftk writes
renders the same prompt as the training template, ftk must render it too; no maintained Python
package implements Go templates, so this module does, for the subset ftk's own templates need:

- text and actions `{{ … }}`, with the trim markers `{{-` and `-}}` (they eat the whitespace beside them);
- `range .Messages` / `range $i, $m := .Messages`, `if` / `else if` / `else` / `end`;
- pipelines of one function call or value: `eq A B`, `ne A B`, `and A B`, `or A B`, `not A`, `len A`;
- values: `.Field` (of the current element), `$.Field` (of the root), `$var`, `$var.Field`, "strings",
  `true`/`false`; variables declared with `:=` and assigned with `=` (an assignment inside a `range`
  changes the outer variable, as in Go 1.11+).

Anything else raises GoTemplateError, so a template that strays outside the subset fails loudly in
the tests instead of rendering something Ollama would not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


class GoTemplateError(ValueError):
    pass


_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\$?[\w.]+|:=|=|[(),]')


@dataclass
class _Node:
    kind: str  # text, expr, assign, if, range
    value: object = None
    body: list = field(default_factory=list)
    branches: list = field(default_factory=list)  # if: [(condition tokens, body)], else body in `body`


def _lex(src: str) -> list[tuple[str, str]]:
    """The template as a list of ("text", s) and ("action", s), trim markers applied."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in _ACTION.finditer(src):
        text = src[pos:m.start()]
        if m.group(1):
            text = text.rstrip(" \t\r\n")
        if out and out[-1][0] == "trim-next":
            out.pop()
            text = text.lstrip(" \t\r\n")
        if text:
            out.append(("text", text))
        out.append(("action", m.group(2).strip()))
        if m.group(3):
            out.append(("trim-next", ""))
        pos = m.end()
    tail = src[pos:]
    if out and out[-1][0] == "trim-next":
        out.pop()
        tail = tail.lstrip(" \t\r\n")
    if tail:
        out.append(("text", tail))
    return out


def _parse(items: list[tuple[str, str]]) -> list[_Node]:
    pos = 0

    def block(stops: tuple[str, ...]) -> tuple[list[_Node], str]:
        nonlocal pos
        nodes: list[_Node] = []
        while pos < len(items):
            kind, s = items[pos]
            pos += 1
            if kind == "text":
                nodes.append(_Node("text", s))
                continue
            word = s.split(None, 1)[0] if s else ""
            if word in stops or (word == "else" and "else" in stops):
                return nodes, s
            if word == "if":
                node = _Node("if")
                cond = s[2:].strip()
                while True:
                    body, stop = block(("end", "else"))
                    node.branches.append((_tokens(cond), body))
                    if stop == "end":
                        break
                    rest = stop[4:].strip()
                    if rest.startswith("if "):
                        cond = rest[3:].strip()
                        continue
                    if rest:
                        raise GoTemplateError(f"unsupported: {{{{ {stop} }}}}")
                    node.body, stop = block(("end",))
                    break
                nodes.append(node)
            elif word == "range":
                toks = _tokens(s[5:].strip())
                names: list[str] = []
                if ":=" in toks:
                    i = toks.index(":=")
                    names = [t for t in toks[:i] if t != ","]
                    toks = toks[i + 1:]
                body, _ = block(("end",))
                nodes.append(_Node("range", (names, toks), body))
            elif word in ("end", "else"):
                raise GoTemplateError(f"unexpected {{{{ {s} }}}}")
            else:
                toks = _tokens(s)
                if len(toks) >= 3 and toks[0].startswith("$") and toks[1] in (":=", "="):
                    nodes.append(_Node("assign", (toks[0], toks[1], toks[2:])))
                else:
                    nodes.append(_Node("expr", toks))
        if stops:
            raise GoTemplateError(f"missing {{{{ end }}}} (expected one of {stops})")
        return nodes, ""

    nodes, _ = block(())
    return nodes


def _tokens(s: str) -> list[str]:
    toks = _TOKEN.findall(s)
    if "".join(toks).replace(" ", "") != re.sub(r"\s+", "", s):
        raise GoTemplateError(f"unsupported syntax in {{{{ {s} }}}}")
    return toks


def _truthy(v) -> bool:
    return bool(v)


class _Scope:
    def __init__(self, root: dict):
        self.root = root
        self.frames: list[dict] = [{"$": root}]

    def lookup(self, name: str):
        for frame in reversed(self.frames):
            if name in frame:
                return frame[name]
        raise GoTemplateError(f"undefined variable {name}")

    def set(self, name: str, value, declare: bool) -> None:
        if declare:
            self.frames[-1][name] = value
            return
        for frame in reversed(self.frames):
            if name in frame:
                frame[name] = value
                return
        raise GoTemplateError(f"assignment to undeclared {name}")


def _field(obj, name: str):
    if isinstance(obj, dict):
        if name not in obj:
            raise GoTemplateError(f"no field .{name}")
        return obj[name]
    raise GoTemplateError(f"cannot read .{name} of {type(obj).__name__}")


def _value(tok: str, dot, scope: _Scope):
    if tok.startswith('"'):
        return bytes(tok[1:-1], "utf-8").decode("unicode_escape")
    if tok in ("true", "false"):
        return tok == "true"
    if tok == ".":
        return dot
    if tok.startswith("$"):
        head, *fields = tok.split(".")
        obj = scope.lookup(head)
    elif tok.startswith("."):
        obj, fields = dot, tok.split(".")[1:]
    else:
        raise GoTemplateError(f"unsupported value {tok}")
    for f in fields:
        obj = _field(obj, f)
    return obj


_FUNCS = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "and": lambda a, b: b if _truthy(a) else a,
    "or": lambda a, b: a if _truthy(a) else b,
    "not": lambda a: not _truthy(a),
    "len": lambda a: len(a),
}


def _eval(toks: list[str], dot, scope: _Scope):
    if not toks:
        raise GoTemplateError("empty action")
    if toks[0] in _FUNCS:
        args = [_value(t, dot, scope) for t in toks[1:]]
        try:
            return _FUNCS[toks[0]](*args)
        except TypeError as exc:
            raise GoTemplateError(f"{toks[0]}: {exc}") from exc
    if len(toks) != 1:
        raise GoTemplateError(f"unsupported pipeline {' '.join(toks)}")
    return _value(toks[0], dot, scope)


def _run(nodes: list[_Node], dot, scope: _Scope, out: list[str]) -> None:
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "expr":
            v = _eval(node.value, dot, scope)
            out.append("" if v is None else str(v))
        elif node.kind == "assign":
            name, op, toks = node.value
            scope.set(name, _eval(toks, dot, scope), declare=op == ":=")
        elif node.kind == "if":
            for cond, body in node.branches:
                if _truthy(_eval(cond, dot, scope)):
                    _run(body, dot, scope, out)
                    break
            else:
                _run(node.body, dot, scope, out)
        elif node.kind == "range":
            names, toks = node.value
            for i, item in enumerate(_eval(toks, dot, scope) or []):
                scope.frames.append({})
                if len(names) == 1:
                    scope.set(names[0], item, declare=True)
                elif len(names) == 2:
                    scope.set(names[0], i, declare=True)
                    scope.set(names[1], item, declare=True)
                _run(node.body, item, scope, out)
                scope.frames.pop()


def render(template: str, data: dict) -> str:
    """`template` rendered with `data` as the root value (`.`), as Go's text/template would."""
    scope = _Scope(data)
    out: list[str] = []
    _run(_parse(_lex(template)), data, scope, out)
    return "".join(out)

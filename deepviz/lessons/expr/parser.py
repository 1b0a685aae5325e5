"""A small, safe expression language, parsed by recursive descent (never eval or exec).

    program    := statement (";" statement)*
    statement  := name "=" expression | expression       the last one is the output
    expression := sum
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "@") unary)*
    unary      := ("-" | "+") unary | power
    power      := postfix (("^" | "**") unary)?      right-associative: 2^3^2 = 2^9
    postfix    := primary ("[" expression "]")*
    primary    := number | name | name "(" expression ("," expression)* ")" | "(" expression ")"

Naming intermediate results (``q = x + y; f = q * z``) labels them in the graph; a name
used again refers to the same node, so its gradients add up (fan-out). As in mathematics,
-x^2 is -(x^2). Every node keeps the position of its first character,
so that errors found later (an unknown variable, mismatched shapes) can say where.
Length, nesting depth and node count are bounded before any value is computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from deepviz.engine import walk

ELEMENTWISE = {  # name -> number of arguments: applied value by value
    "exp": 1, "log": 1, "tanh": 1, "sigmoid": 1, "relu": 1, "sin": 1, "cos": 1,
    "sqrt": 1, "abs": 1, "max": 2, "min": 2,
}  # fmt: skip
ON_TENSORS = {"sum": 1, "mean": 1, "softmax": 1, "log_softmax": 1, "cross_entropy": 2}  # mix a tensor's values
FUNCTIONS = {**ELEMENTWISE, **ON_TENSORS}


class ExprError(ValueError):
    """A mistake in an expression or its values, with the 0-based character position."""

    def __init__(self, message: str, position: int | None = None, field: tuple[str, ...] = ("expression",)):
        where = f" (at character {position + 1})" if position is not None else ""
        super().__init__(message + where)
        self.reason = message
        self.position = position
        self.field = field  # which part of the input is wrong: ("expression",), ("values", "W")


# The nodes are compared and hashed by identity (eq=False); they have slots and are not frozen
# (nothing changes a node once made), because a frozen dataclass's __init__ costs three times
# as much, and a parse makes one per node.


@dataclass(eq=False, slots=True)
class Num:
    value: float
    pos: int


@dataclass(eq=False, slots=True)
class Var:
    name: str
    pos: int


@dataclass(eq=False, slots=True)
class Unary:
    op: str  # "-", or "+" for a named copy (``q = x``)
    operand: Node
    pos: int


@dataclass(eq=False, slots=True)
class Binary:
    op: str  # + - * / ^ @
    left: Node
    right: Node
    pos: int


@dataclass(eq=False, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(eq=False, slots=True)
class Index:
    target: Node
    index: Node
    pos: int


Node = Num | Var | Unary | Binary | Call | Index


def children(node: Node) -> tuple[Node, ...]:
    return _CHILDREN[type(node)](node)


_CHILDREN = {  # a node's kind -> its children, in argument order
    Num: lambda node: (), Var: lambda node: (), Unary: lambda node: (node.operand,),
    Binary: lambda node: (node.left, node.right), Call: lambda node: node.args,
    Index: lambda node: (node.target, node.index),
}  # fmt: skip


def postorder(root: Node) -> list[Node]:
    """Every node once, children before parents. A named step used many times is one
    shared node: walking it once per use would take exponential time on a = x*x; b = a*a; …"""
    return walk.postorder(root, children)


def is_elementwise(root: Node) -> bool:
    """Whether every value of the output depends only on the same value of each input (no
    @, no indexing, no sum or softmax): then the expression can be computed on many points
    at once."""
    for node in postorder(root):
        if isinstance(node, Index) or (isinstance(node, Binary) and node.op == "@"):
            return False
        if isinstance(node, Call) and node.name not in ELEMENTWISE:
            return False
    return True


def variables(root: Node) -> list[str]:
    """Variable names in order of first appearance."""
    return list(dict.fromkeys(n.name for n in postorder(root) if isinstance(n, Var)))


_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|[-+*/^@()\[\],;=])|(?P<bad>\S))"  # bad: any other character
)


def tokenize(source: str) -> list[tuple[str, str, int]]:
    """(kind, text, position) triples, ending with ("end", "", len(source))."""
    tokens = []
    for match in _TOKEN.finditer(source):  # one scan: every character but spaces is in a token
        kind = match.lastgroup
        if kind == "bad":
            raise ExprError(f"unexpected character {match.group(kind)!r}", match.start(kind))
        tokens.append((kind, match.group(kind), match.start(kind)))
    tokens.append(("end", "", len(source)))
    return tokens


class Parser:
    def __init__(self, source: str, max_length: int, max_depth: int, max_nodes: int):
        if len(source) > max_length:
            raise ExprError(f"the expression is {len(source)} characters long; the limit is {max_length}")
        if not source.strip():
            raise ExprError("the expression is empty", 0)
        self.tokens = tokenize(source)
        self.i = 0
        self.depth = 0
        self.nodes = 0
        self.max_depth, self.max_nodes = max_depth, max_nodes

    # -- helpers (the grammar reads the next token's text as self.tokens[self.i][1]: a call less per level)
    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        kind, got, pos = self.take()
        if got != text:
            found = "the end of the expression" if kind == "end" else repr(got)
            raise ExprError(f"expected {text!r} but found {found}", pos)

    def made(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise ExprError(f"the expression has more than {self.max_nodes} nodes", node.pos)
        return node

    def nested(self, pos: int) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise ExprError(f"the expression nests deeper than {self.max_depth} levels", pos)

    # -- grammar
    def parse(self) -> Expression:
        self.names: dict[str, Node] = {}
        self.used: set[str] = set()
        while True:
            name, node, pos = self.statement()
            kind, text, at = self.take()
            if kind == "end":
                break
            if text != ";":
                raise ExprError(f"unexpected {text!r} after a complete expression", at)
            if name is None:
                raise ExprError("only the last statement may be unnamed: write name = …", pos)
        labels = {id(n): label for label, n in self.names.items()}
        expression = Expression(node, labels, [])
        names = (n.name for n in expression.order if isinstance(n, Var))  # in order of first appearance
        expression.variables.extend(dict.fromkeys(names))
        return expression

    def statement(self) -> tuple[str | None, Node, int]:
        kind, text, pos = self.peek()
        if kind == "name" and self.tokens[self.i + 1][1] == "=":
            self.i += 2
            if text in FUNCTIONS:
                raise ExprError(f"{text} is a function and cannot be assigned", pos)
            if text in self.names:
                raise ExprError(f"{text} is already defined", pos)
            if text in self.used:
                raise ExprError(f"{text} is used before it is defined", pos)
            node = self.sum()
            if isinstance(node, Var) or id(node) in {id(n) for n in self.names.values()}:
                node = self.made(Unary("+", node, pos))  # a node of its own to carry the name
            self.names[text] = node
            return text, node, pos
        return None, self.sum(), pos

    def sum(self) -> Node:
        node = self.product()
        while self.tokens[self.i][1] in ("+", "-"):
            _, op, pos = self.take()
            node = self.made(Binary(op, node, self.product(), pos))
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tokens[self.i][1] in ("*", "/", "@"):
            _, op, pos = self.take()
            node = self.made(Binary(op, node, self.unary(), pos))
        return node

    def unary(self) -> Node:
        kind, text, pos = self.peek()
        if text in ("-", "+"):
            self.take()
            self.nested(pos)
            operand = self.unary()
            self.depth -= 1
            return operand if text == "+" else self.made(Unary("-", operand, pos))
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.tokens[self.i][1] in ("^", "**"):
            _, _, pos = self.take()
            self.nested(pos)
            exponent = self.unary()
            self.depth -= 1
            return self.made(Binary("^", base, exponent, pos))
        return base

    def postfix(self) -> Node:
        node = self.primary()
        while self.tokens[self.i][1] == "[":
            _, _, pos = self.take()
            self.nested(pos)
            index = self.sum()
            self.depth -= 1
            self.expect("]")
            node = self.made(Index(node, index, pos))
        return node

    def primary(self) -> Node:
        kind, text, pos = self.take()
        if kind == "number":
            return self.made(Num(float(text), pos))
        if kind == "name":
            if self.tokens[self.i][1] == "(":
                return self.call(text, pos)
            if text in FUNCTIONS:
                raise ExprError(f"{text} is a function: write {text}(…)", pos)
            if text in self.names:
                return self.names[text]  # the same node: its uses add up in backward
            self.used.add(text)
            return self.made(Var(text, pos))
        if text == "(":
            self.nested(pos)
            node = self.sum()
            self.depth -= 1
            self.expect(")")
            return node
        found = "the expression ended" if kind == "end" else f"found {text!r}"
        raise ExprError(f"expected a number, a variable or '(' but {found}", pos)

    def call(self, name: str, pos: int) -> Node:
        if name not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExprError(f"unknown function {name!r} (known: {known})", pos)
        self.expect("(")
        self.nested(pos)
        args = [self.sum()]
        while self.tokens[self.i][1] == ",":
            self.take()
            args.append(self.sum())
        self.depth -= 1
        self.expect(")")
        if len(args) != FUNCTIONS[name]:
            raise ExprError(f"{name} takes {FUNCTIONS[name]} argument(s), not {len(args)}", pos)
        return self.made(Call(name, tuple(args), pos))


@dataclass(frozen=True)
class Expression:
    """A parsed program: the output's tree (named statements are shared subtrees), the
    names given to nodes (keyed by ``id(node)``), and the input variables in order."""

    root: Node
    labels: dict[int, str]
    variables: list[str]

    @cached_property
    def order(self) -> list[Node]:
        """``postorder(root)``: every node once, children first (walked once, then kept)."""
        return postorder(self.root)


def parse(source: str, max_length: int = 2000, max_depth: int = 100, max_nodes: int = 2000) -> Expression:
    """Parse ``source``, or raise ``ExprError`` saying what is wrong and where. ``max_depth``
    bounds nesting (parentheses, unary minus, powers, calls): each level costs the parser a
    few stack frames. Long chains (a + b + … + z) are loops, bounded by ``max_nodes``."""
    try:
        return Parser(source, max_length, max_depth, max_nodes).parse()
    except RecursionError:  # a safety net: max_depth is meant to stop nesting long before this
        raise ExprError(f"the expression nests deeper than {max_depth} levels") from None

"""One graph walk for the whole engine: children before parents, without recursion (long
chains such as a + a + … + a would exceed Python's recursion limit)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")


def postorder(root: T, children: Callable[[T], Iterable[T]], unique: bool = True) -> list[T]:
    """Every node reachable from ``root`` through ``children``, each after all of its
    children. With ``unique`` a shared node is listed once (a DAG); without, once per path
    (a tree)."""
    return postorder_from([root], children, unique)


def postorder_from(roots: Sequence[T], children: Callable[[T], Iterable[T]], unique: bool = True) -> list[T]:
    """``postorder`` from several roots at once (a backward pass from several outputs).

    Depth first: the stack holds the path from a root down to the node being expanded, each
    node with the iterator over the children it has yet to go into; a node is listed when
    its iterator runs out. (One tuple a node: this walk starts every backward pass, and
    pushing every child twice, as "expand" then "list", cost twice as much.)"""
    order: list[T] = []
    seen: set[int] = set()
    for root in roots:
        if unique:
            if id(root) in seen:
                continue
            seen.add(id(root))
        stack = [(root, iter(children(root)))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if not unique or id(child) not in seen:
                    if unique:
                        seen.add(id(child))
                    stack.append((child, iter(children(child))))
                    break
            else:  # every child listed: now the node
                stack.pop()
                order.append(node)
    return order

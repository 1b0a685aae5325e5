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
    """``postorder`` from several roots at once (a backward pass from several outputs)."""
    order: list[T] = []
    seen: set[int] = set()
    stack: list[tuple[T, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
        elif not unique or id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(tuple(children(node))) if not unique or id(c) not in seen)
    return order

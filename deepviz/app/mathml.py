"""Formulas are rendered to MathML on the server (Chromium draws MathML natively), so the
pages need no JavaScript maths library."""

from __future__ import annotations

from functools import lru_cache

from latex2mathml.converter import convert
from markupsafe import Markup


@lru_cache(maxsize=512)
def tex(latex: str, display: bool = False) -> Markup:
    """MathML for a LaTeX formula (trusted: written in our templates, never user input)."""
    return Markup(convert(latex, display="block" if display else "inline"))

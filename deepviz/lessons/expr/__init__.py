"""The backprop page's expression language: parse, evaluate and trace, and the two other
ways of differentiating (numerical and symbolic) that section 2.3 compares with autodiff."""

from deepviz.lessons.expr.evaluate import Evaluation, evaluate
from deepviz.lessons.expr.parser import ExprError, Expression, parse

__all__ = ["Evaluation", "ExprError", "Expression", "evaluate", "parse"]

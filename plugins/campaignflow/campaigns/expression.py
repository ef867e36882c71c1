"""A small, safe expression language for audience rules, content conditions and ranking values.

    churn_prob >= 0.6 and segment in ['at_risk', 'hibernating']
    0.3 <= churn_prob < 0.6 and not (orders_total == 0)
    churn_prob * predicted_spend                       # a value (order_by, budget)

Text is parsed with Python's grammar (``ast.parse``, never ``eval``) and only these nodes are kept:
``and``/``or``/``not``, comparisons (chained too), ``in``/``not in`` a list of literals, ``+ - * /``
over numbers, column names and literals (numbers, strings, ``true``/``false``). Anything else —
calls, attributes, subscripts, lambdas, comprehensions — is refused with its position. Expressions
are type-checked against the columns they may use and evaluated column-wise over a DataFrame; a
comparison with a missing value is false.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Kind = Literal["number", "string", "bool"]
MAX_LENGTH = 2_000

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_SYMBOL = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_REFUSED = {
    ast.Call: "function calls are not allowed",
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "indexing is not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.NamedExpr: "assignment is not allowed",
    ast.IfExp: "'x if c else y' is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Await: "'await' is not allowed",
}
_LITERALS = {"true": True, "false": False, "True": True, "False": False}


class ExpressionError(ValueError):
    """An expression that is not valid; the message says what and where."""


@dataclass(frozen=True)
class Expression:
    """A parsed, type-checked expression: its text, the columns it reads and the kind it yields."""

    text: str
    tree: ast.expr
    columns: frozenset[str]
    kind: Kind

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        """Column-wise value over ``frame`` (a bool Series for a condition, NaN where missing)."""
        missing = sorted(self.columns - set(frame.columns))
        if missing:
            raise ExpressionError(f"{self.text!r}: column(s) {missing} are not in the data")
        value = _evaluate(self.tree, frame)
        if not isinstance(value, pd.Series):
            value = pd.Series(value, index=frame.index)
        return value

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Which rows of ``frame`` the condition holds for (missing counts as false)."""
        if self.kind != "bool":
            raise ExpressionError(f"{self.text!r} is a {self.kind}, not a condition")
        return self.evaluate(frame).fillna(False).to_numpy(dtype=bool)


def parse(text: str, columns: Mapping[str, str], want: Kind = "bool") -> Expression:
    """Parse and type-check ``text`` against ``columns`` (name → "number" or "string").

    Args:
        text: the expression.
        columns: the columns it may name, with their kinds.
        want: "bool" for a condition, "number" for a value such as ``order_by``.

    Raises:
        ExpressionError: syntax, a refused construct, an unknown column or mismatched types,
            with the position (column) where it is.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression is needed, got an empty one")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as err:
        raise ExpressionError(f"not a valid expression: {err.msg} at column {err.offset}") from None
    checker = _Checker(columns)
    kind = checker.kind(tree)
    if kind != want:
        raise ExpressionError(f"the expression is a {kind}; a {want} is needed here")
    return Expression(text.strip(), tree, frozenset(checker.used), kind)


class _Checker:
    def __init__(self, columns: Mapping[str, str]) -> None:
        self.columns = columns
        self.used: set[str] = set()

    def fail(self, node: ast.AST, why: str) -> ExpressionError:
        return ExpressionError(f"{why} (at column {getattr(node, 'col_offset', 0) + 1})")

    def kind(self, node: ast.AST) -> Kind:
        for refused, why in _REFUSED.items():
            if isinstance(node, refused):
                return self._raise(node, why)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.expect(value, "bool", "'and'/'or' join conditions")
            return "bool"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.expect(node.operand, "bool", "'not' negates a condition")
                return "bool"
            if isinstance(node.op, ast.UAdd | ast.USub):
                self.expect(node.operand, "number", "a sign goes before a number")
                return "number"
            return self._raise(node, "'~' is not allowed")
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITHMETIC:
                return self._raise(node, "only + - * / are allowed between numbers")
            self.expect(node.left, "number", "arithmetic needs numbers")
            self.expect(node.right, "number", "arithmetic needs numbers")
            return "number"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            if node.id in _LITERALS:
                return "bool"
            kind = self.columns.get(node.id)
            if kind is None:
                return self._raise(node, f"unknown column {node.id!r}; rules can use {sorted(self.columns)}")
            self.used.add(node.id)
            return "number" if kind == "number" else "string"
        if isinstance(node, ast.Constant):
            return _literal_kind(node, self)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return self._raise(node, "a list only goes on the right of 'in' or 'not in'")
        return self._raise(node, f"{type(node).__name__} is not allowed in a rule")

    def expect(self, node: ast.AST, kind: Kind, why: str) -> None:
        got = self.kind(node)
        if got != kind:
            raise self.fail(node, f"{why}; {ast.unparse(node)!r} is a {got}")

    def compare(self, node: ast.Compare) -> Kind:
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            left_kind = self.kind(left)
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple | ast.Set):
                    raise self.fail(right, "'in' needs a list of values, e.g. segment in ['a', 'b']")
                if not right.elts:
                    raise self.fail(right, "'in' needs at least one value")
                for element in right.elts:
                    if not isinstance(element, ast.Constant):
                        raise self.fail(element, "an 'in' list holds literal values only")
                    if _literal_kind(element, self) != left_kind:
                        raise self.fail(element, f"{ast.unparse(left)!r} is a {left_kind}; the list must hold those")
            elif type(op) in _COMPARE:
                right_kind = self.kind(right)
                if left_kind != right_kind:
                    raise self.fail(right, f"cannot compare a {left_kind} with a {right_kind} ({ast.unparse(node)!r})")
                if left_kind != "number" and not isinstance(op, ast.Eq | ast.NotEq):
                    raise self.fail(
                        node, f"{ast.unparse(left)!r} is a {left_kind}; use ==, != or in, not {_SYMBOL[type(op)]}"
                    )
            else:
                raise self.fail(node, "'is' is not allowed; use == or !=")
            left = right
        return "bool"

    def _raise(self, node: ast.AST, why: str) -> Kind:
        raise self.fail(node, why)


def _literal_kind(node: ast.Constant, checker: _Checker) -> Kind:
    value = node.value
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float) and not isinstance(value, complex):
        return "number"
    if isinstance(value, str):
        return "string"
    raise checker.fail(node, f"literal {value!r} is not a number, text or true/false")


def _evaluate(node: ast.AST, frame: pd.DataFrame) -> Any:
    if isinstance(node, ast.BoolOp):
        parts = [_as_bool(_evaluate(v, frame), frame) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return pd.Series(result, index=frame.index)
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(node.operand, frame)
        if isinstance(node.op, ast.Not):
            return pd.Series(~_as_bool(operand, frame), index=frame.index)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _evaluate(node.left, frame)
        right = _evaluate(node.right, frame)
        if isinstance(node.op, ast.Div):
            right = right.where(right != 0) if isinstance(right, pd.Series) else (right or np.nan)
        return _ARITHMETIC[type(node.op)](left, right)
    if isinstance(node, ast.Compare):
        result = np.ones(len(frame), dtype=bool)
        left = _evaluate(node.left, frame)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                values = [e.value for e in right_node.elts]  # type: ignore[attr-defined]
                series = left if isinstance(left, pd.Series) else pd.Series(left, index=frame.index)
                hit = series.isin(values).to_numpy(dtype=bool)
                known = series.notna().to_numpy(dtype=bool)
                result &= (hit if isinstance(op, ast.In) else ~hit) & known
                left = series
                continue
            right = _evaluate(right_node, frame)
            compared = _COMPARE[type(op)](left, right)
            result &= _as_bool(compared, frame) & _known(left, frame) & _known(right, frame)
            left = right
        return pd.Series(result, index=frame.index)
    if isinstance(node, ast.Name):
        if node.id in _LITERALS:
            return _LITERALS[node.id]
        return frame[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    raise ExpressionError(f"cannot evaluate {ast.unparse(node)!r}")  # the checker refuses these first


def _as_bool(value: Any, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.fillna(False).to_numpy(dtype=bool)
    return np.full(len(frame), bool(value))


def _known(value: Any, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(value, pd.Series):
        return value.notna().to_numpy(dtype=bool)
    return np.full(len(frame), value is not None)

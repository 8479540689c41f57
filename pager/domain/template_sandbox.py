"""Jinja2's immutable sandbox, bounded: a template the team writes can't hang or bloat a page.

The sandbox stops a template reaching Python's internals or changing its inputs; it does not
stop one that loops for ever or builds a gigabyte string, and a page must never wait on either.
So here every render is held to a number of steps (Python line events, counted by a trace
function: deterministic, no clock), every string it builds to `MAX_TEXT` characters, every
number a call or filter is given to `MAX_ARGUMENT`, and `range` to `MAX_RANGE` items.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SOURCE = 2000  # characters of a template
MAX_STEPS = 20_000  # line events of one render: a loop-free template takes a few dozen
MAX_TEXT = 4000  # characters of any string a template builds, and of what it renders
MAX_ARGUMENT = 1000  # a number given to a call or filter (a width, a count)
MAX_RANGE = 1000  # items of range()
_BIG_INT = 10**100
# A width or precision of 4 digits in a format: "%9999s", "%.9999f", "{:9999}", "{0:.9999}".
_LONG_WIDTH = re.compile(r"%[-#0 +]*\d*\.?\d{4}|\{[^{}]*:[^{}]*\d{4}[^{}]*\}")


class RenderFailed(Exception):
    """A template that did not render; the message says why, for a timeline note or a check."""


class _OverBudget(SecurityError):
    pass


def _checked(value: Any) -> Any:
    """`value`, unless it is a string or sequence past MAX_TEXT or a number past _BIG_INT."""
    if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT:
        raise _OverBudget(f"the template builds a value longer than {MAX_TEXT}")
    if isinstance(value, int) and abs(value) > _BIG_INT:
        raise _OverBudget("the template builds a number too large")
    return value


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_ARGUMENT:
            raise _OverBudget(f"a number over {MAX_ARGUMENT} given to a call or filter")
        _checked(value)


def _check_format(text: Any) -> None:
    if isinstance(text, str) and _LONG_WIDTH.search(text):
        raise _OverBudget(f"a format width over {MAX_ARGUMENT - 1}")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)  # keeps Jinja's pass_context / pass_environment marks
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        if name == "format":
            _check_format(args[0] if args else None)
        return _checked(function(*args, **kwargs))

    return bounded


def _range(*args: int) -> range:
    found = range(*args)
    if len(found) > MAX_RANGE:
        raise _OverBudget(f"range() of more than {MAX_RANGE} items")
    return found


def _too_large_power(base: Any, exponent: Any) -> bool:
    numbers = isinstance(base, int | float) and isinstance(exponent, int | float)
    return numbers and exponent > 0 and abs(base) > 1 and exponent * math.log10(abs(base)) > 100


class _BoundedCode(CodeGenerator):
    """Jinja's code generator, with `~` (string joining) checked like every other operation."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, strict about undefined names, with every operation bounded."""

    code_generator_class = _BoundedCode
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals["range"] = _range

    def joined(self, parts: tuple[Any, ...]) -> str:
        return str(_checked("".join(str(part) for part in parts)))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _too_large_power(left, right):
            raise _OverBudget("the template builds a number too large")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(count, int):
                    _checked(seq[:1] * min(count, MAX_TEXT + 1))
        if operator == "%":
            _check_format(left)
        return _checked(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)  # "{:999999999}".format(...)
        return wrapped

    def call(
        __self,  # noqa: N805  (Jinja's signature: `self` may be a keyword argument of the call)
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_arguments(args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs))


SANDBOX = BoundedSandbox()


def undeclared(source: str) -> set[str]:
    """The names `source` reads that it does not set itself (globals like range excluded).
    Raises RenderFailed on a syntax error."""
    try:
        found = find_undeclared_variables(SANDBOX.parse(source))
    except TemplateError as error:
        raise RenderFailed(_describe(error)) from None
    return set(found) - set(SANDBOX.globals)


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    return SANDBOX.from_string(source)


def render(source: str, variables: Mapping[str, Any]) -> str:
    """`source` rendered with `variables`, within the budgets; RenderFailed says why not."""
    if len(source) > MAX_SOURCE:
        raise RenderFailed(f"the template is longer than {MAX_SOURCE} characters")
    try:
        template = _compiled(source)
        return "".join(_within_budget(template.generate(dict(variables))))
    except RenderFailed:
        raise
    except TemplateError as error:  # undefined names, sandbox refusals, syntax
        raise RenderFailed(_describe(error)) from None
    except Exception as error:  # noqa: BLE001  (a page must go out whatever the template did)
        raise RenderFailed(f"{type(error).__name__}: {error}"[:200]) from None


def _within_budget(chunks: Iterator[str]) -> Iterator[str]:
    """The chunks of a render, stopped past MAX_STEPS line events or MAX_TEXT characters."""
    steps = 0

    def count(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps
        steps += 1
        if steps > MAX_STEPS:
            raise RenderFailed(f"the template took more than {MAX_STEPS} steps")
        return count

    previous = sys.gettrace()
    written = 0
    try:
        while True:
            sys.settrace(count)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                sys.settrace(previous)
            written += len(chunk)
            if written > MAX_TEXT:
                raise RenderFailed(f"the template renders more than {MAX_TEXT} characters")
            yield chunk
    finally:
        sys.settrace(previous)


def _describe(error: TemplateError) -> str:
    kind = {
        "UndefinedError": "undefined",
        "SecurityError": "not allowed",
        "TemplateSyntaxError": "syntax error",
    }.get(type(error).__name__, type(error).__name__)
    if isinstance(error, _OverBudget):
        kind = "too big"
    line = getattr(error, "lineno", None)
    at = f" (template line {line})" if line and line > 1 else ""
    return f"{kind}: {error.message or error}{at}"[:200]

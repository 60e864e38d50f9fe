"""Every Jinja2 environment of relance (`sandboxed`), and the one every message template renders
in, with bounds on every render.

One factory, so no template is ever rendered outside the sandbox: texts users write get the
bounded sandbox below; relance's own HTML templates (the email's HTML part, letters) a sandbox
with HTML autoescaped; the plan checks (relance.domain.merge_fields) parse in a plain sandbox.

Sandboxed (templates are written by users: no attribute of Python objects beyond the plain data
given, no `__class__`/`__globals__` escape), no HTML escaping (the HTML part is built from the
text), block tags eat their own line so templates can be laid out readably. An unknown field
prints empty: plans are checked when saved (relance.domain.merge_fields), and a message must not
fail to leave for a field another version of relance knew.

Bounded: a template is written by a user, and a few characters (`{{ 'x' * 10**9 }}`, two nested
`range(100000)` loops, a macro calling itself twice) would otherwise hold a worker for hours or
exhaust its memory. Each render has a budget (the constants below): loop turns across all loops,
nested and recursive ones included; the length of a `range`; the size of any text or list the
template builds (`*`, `+`, `~`, `%`, filters and methods that pad or repeat: each checked before
the work is done, not after); the size of numbers; calls of functions, methods, macros and filters;
the output; and the time (processor time, see _Budget). A render past a bound raises
LimitExceeded (a RenderError) at once.

How: `+ * ** %` go through `call_binop` (and so are never folded at compile time); the parsed
template is rewritten before it is compiled so that each loop's iterable and each `~` pass through
a counting filter; every filter is wrapped; every call goes through `call` (the sandbox's own
hook), buffered output (macros, `{% set %}` blocks) through `concat`, printed values through
`finalize`. The budget of the render under way lives in a context variable: a cheap lookup.

One long module on purpose: the bounds hold only if every hook above is overridden together, and
a reader checking them should find them side by side.
"""

from __future__ import annotations

import math
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from functools import cache, lru_cache, update_wrapper, wraps
from itertools import islice
from types import BuiltinFunctionType, MethodWrapperType
from typing import Any

from jinja2 import BaseLoader, ChainableUndefined, Template, nodes, select_autoescape
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace, _PassArg
from jinja2.visitor import NodeTransformer

from relance.domain.errors import Invalid

#: Loop turns per render, across every loop (nested and recursive ones count each turn).
MAX_LOOP_TURNS = 10_000
#: Numbers a `range(…)` may give.
MAX_RANGE = 1_000
#: Characters of a text, or items of a list, the template builds (and width of a padding).
MAX_SIZE = 100_000
#: Digits of a number the template computes (`**`, `*`).
MAX_NUMBER_DIGITS = 1_000
#: Calls of functions, methods, macros and filters per render.
MAX_CALLS = 50_000
#: Characters of the rendered text.
MAX_OUTPUT = 100_000
#: Characters and items of every text and list the template builds, added up over the render:
#: each may be under MAX_SIZE, but a template keeping thousands of them would exhaust memory.
MAX_BUILT = 5_000_000
#: Seconds of processor time a render may take.
MAX_SECONDS = 2.0

# What a LimitExceeded is about.
LOOPS, RANGE, SIZE, BUILT, NUMBER, CALLS, DEPTH, OUTPUT, TIME = (
    "loops",
    "range",
    "size",
    "built",
    "number",
    "calls",
    "depth",
    "output",
    "time",
)

_ENGLISH = {
    LOOPS: "the template repeats too much (more than {bound:,} loop turns); simplify the loop.",
    RANGE: "a range in the template is too long (more than {bound:,} numbers).",
    SIZE: "the template builds a text or list that is too long (more than {bound:,} "
    "characters or items).",
    BUILT: "the template builds too much text altogether (more than {bound:,} characters or "
    "items); simplify it.",
    NUMBER: "the template computes a number that is too large (more than {bound:,} digits).",
    CALLS: "the template calls too many functions or macros (more than {bound:,}); simplify it.",
    DEPTH: "a macro or loop of the template calls itself too deeply.",
    OUTPUT: "the text would be too long (more than {bound:,} characters).",
    TIME: "the template takes too long to render (over {bound:g} s).",
}


class RenderError(Invalid, ValueError):
    """A template could not be rendered; the message says why (never a stack trace)."""


class LimitExceeded(RenderError):
    """A render went past one of the bounds: `limit` says which (LOOPS, RANGE…), `bound` its
    value, for callers that word the message themselves (in the user's language)."""

    def __init__(self, limit: str) -> None:
        self.limit = limit
        self.bound: float = {
            LOOPS: MAX_LOOP_TURNS,
            RANGE: MAX_RANGE,
            SIZE: MAX_SIZE,
            BUILT: MAX_BUILT,
            NUMBER: MAX_NUMBER_DIGITS,
            CALLS: MAX_CALLS,
            DEPTH: 0,
            OUTPUT: MAX_OUTPUT,
            TIME: MAX_SECONDS,
        }[limit]
        super().__init__(_ENGLISH[limit].format(bound=self.bound))


class _Budget:
    """What is left to one render. Time is the processor time the render used: the cheap wall
    clock is read at each turn and call, and only once it passes the deadline is the thread's
    processor time asked for (dearer), so that a server busy with other work, whose renders wait
    for the processor, does not fail legitimate messages."""

    __slots__ = ("built", "calls", "cpu_start", "deadline", "turns")

    def __init__(self) -> None:
        self.turns = MAX_LOOP_TURNS
        self.calls = MAX_CALLS
        self.built = MAX_BUILT
        self.deadline = time.monotonic() + MAX_SECONDS
        self.cpu_start = time.thread_time()

    def turn(self, count: int = 1) -> None:
        self.turns -= count
        if self.turns < 0:
            raise LimitExceeded(LOOPS)
        if time.monotonic() > self.deadline:
            self.late()

    def call(self) -> None:
        self.calls -= 1
        if self.calls < 0:
            raise LimitExceeded(CALLS)
        if time.monotonic() > self.deadline:
            self.late()

    def build(self, size: int) -> None:
        self.built -= size
        if self.built < 0:
            raise LimitExceeded(BUILT)

    def clock(self) -> None:
        if time.monotonic() > self.deadline:
            self.late()

    def late(self) -> None:
        """Past the deadline by the wall clock: over, if the processor time is too."""
        used = time.thread_time() - self.cpu_start
        if used >= MAX_SECONDS:
            raise LimitExceeded(TIME)
        self.deadline = time.monotonic() + (MAX_SECONDS - used)


#: The budget of the render under way in this thread (None outside a render, e.g. while Jinja
#: folds constants at compile time: then only the size checks apply).
_BUDGET: ContextVar[_Budget | None] = ContextVar("relance_template_budget", default=None)

_SEQUENCES = (str, bytes, list, tuple)
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _max_bits() -> float:
    return MAX_NUMBER_DIGITS * math.log2(10)


def _size(value: Any, limit: int | None = None) -> int:
    """About how many characters `str(value)` would take, at least; stops counting past
    `limit`. Walks lists and dicts without building their text."""
    limit = MAX_SIZE if limit is None else limit
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value)
    if kind is int:
        return value.bit_length() // 3 + 1
    if not isinstance(value, (*_CONTAINERS, Namespace)):
        return 0
    total = 0
    stack = [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item) + 2
        elif isinstance(item, Namespace):
            total += 14
            stack.append(object.__getattribute__(item, "_Namespace__attrs"))
        elif isinstance(item, dict):
            total += 2 + 2 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif type(item) is int:
            total += item.bit_length() // 3 + 1
        else:
            total += 8
    return total


def _refuse_large(size: int) -> None:
    if size > MAX_SIZE:
        raise LimitExceeded(SIZE)


def _built(size: int) -> None:
    """A text or list of `size` was made: counted against the render's MAX_BUILT."""
    budget = _BUDGET.get()
    if budget is not None:
        budget.build(size)


def _check_result(value: Any) -> Any:
    if isinstance(value, (*_SEQUENCES, dict, set)):
        size = len(value)
        if size > MAX_SIZE:
            raise LimitExceeded(SIZE)
        _built(size)
    return value


def _width(text: str) -> int:
    """A width or precision written in a format, refused past MAX_SIZE."""
    if len(text) > 6 or int(text) > MAX_SIZE:
        raise LimitExceeded(SIZE)
    return int(text)


_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(fmt: Any, args: Any) -> None:
    """`'%10s' % x` and the `format` filter: widths written in the format, and what is put in."""
    if not isinstance(fmt, str):
        return
    widths = 0
    for found in _PERCENT.finditer(fmt):
        for group in found.groups():
            if group == "*":  # the width comes from the arguments
                raise LimitExceeded(SIZE)
            if group:
                widths += _width(group)
    _refuse_large(len(fmt) + widths + _size(args))


def _check_format(fmt: str, args: Any, kwargs: Any) -> None:
    """`'{:>10}'.format(x)`: the same for str.format and format_map."""
    widths = 0
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format will say what is wrong
    for _, _, spec, _ in fields:
        if not spec:
            continue
        if "{" in spec:  # a width given as an argument: `'{0:{1}}'.format(x, 10)`
            for value in (*args, *kwargs.values()):
                if type(value) is int and abs(value) > MAX_SIZE:
                    raise LimitExceeded(SIZE)
        for digits in re.findall(r"\d+", spec):
            widths += _width(digits)
    _refuse_large(len(fmt) + widths + _size(args) + _size(kwargs))


def _check_ints(values: Iterable[Any]) -> None:
    for value in values:
        if type(value) is int and not -MAX_SIZE <= value <= MAX_SIZE:
            raise LimitExceeded(SIZE)


def _check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """A built-in function or method (`'x'.center(…)`, `l.extend(…)`, `(1).to_bytes(…)`): no
    int argument past MAX_SIZE, and the methods whose result can grow far past their inputs
    checked before they run. Returns the arguments to call it with (an iterable read once)."""
    name = getattr(method, "__name__", "")
    owner = getattr(method, "__self__", None)
    _check_ints((*args, *kwargs.values()))
    if isinstance(owner, (str, bytes)):
        if name == "join" and args:
            items = list(args[0])
            sizes = sum(len(i) for i in items if isinstance(i, (str, bytes)))
            _refuse_large(sizes + len(owner) * max(len(items) - 1, 0))
            return (items, *args[1:])
        if name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, (str, bytes)) and isinstance(new, (str, bytes)):
                times = owner.count(old) if old else len(owner) + 1  # type: ignore[arg-type]
                count = args[2] if len(args) > 2 else kwargs.get("count", -1)
                if isinstance(count, int) and count >= 0:
                    times = min(times, count)
                _refuse_large(len(owner) + times * max(len(new) - len(old), 0))
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
            if isinstance(size, int):
                _refuse_large(len(owner) + tabs * max(size, 0))
        elif name == "translate" and args and isinstance(args[0], dict):
            longest = max(
                (len(v) for v in args[0].values() if isinstance(v, (str, bytes))), default=1
            )
            _refuse_large(len(owner) * max(longest, 1))
    elif isinstance(owner, list) and name == "extend" and args:
        extra = args[0] if isinstance(args[0], _SEQUENCES) else list(args[0])
        _refuse_large(len(owner) + len(extra))
        return (extra, *args[1:])
    return args


def _counted(iterable: Iterable[Any], budget: _Budget) -> Iterator[Any]:
    for item in iterable:
        budget.turn()
        yield item


def _loop(iterable: Any) -> Any:
    """What a `{% for %}` iterates over: each turn charged to the render's budget (all at once
    when the length is known, as the loop starts)."""
    budget = _BUDGET.get()
    if budget is None:
        return iterable
    try:
        count = len(iterable)
    except TypeError:
        return _counted(iterable, budget)
    budget.turn(count)
    return iterable


def _as_text(value: Any) -> str:
    _refuse_large(_size(value))
    return str(value)


def _concat(parts: tuple[Any, ...]) -> str:
    """`a ~ b ~ c`, refused before it is joined when it would be too long."""
    texts = [p if type(p) is str else _as_text(p) for p in parts]
    size = sum(map(len, texts))
    _refuse_large(size)
    _built(size)
    return "".join(texts)


def _buffered(parts: Iterable[str]) -> str:
    """The text of a macro, a `{% set %}` block, a `{% filter %}` block: bounded as well."""
    if not isinstance(parts, list):
        parts = list(parts)
    size = sum(map(len, parts))
    _refuse_large(size)
    _built(size)
    return "".join(parts)


_MEASURED = frozenset({list, tuple, set, frozenset, dict, Namespace})


def _finalize(value: Any) -> Any:
    """Each printed value: a list or a dict is measured before it is turned into text."""
    if type(value) in _MEASURED:
        _refuse_large(_size(value))
    return value


def _range(*args: int) -> range:
    numbers = range(*args)
    try:
        count = len(numbers)
    except OverflowError:
        count = MAX_RANGE + 1
    if count > MAX_RANGE:
        raise LimitExceeded(RANGE)
    return numbers


# Filters that turn their value into text: a list or dict given to them is measured first.
_TEXT_FILTERS = frozenset(
    {
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "pprint",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
    }
)


def _text_length(value: Any) -> int:
    return len(value) if isinstance(value, str) else _size(value)


def _indent(value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    step = width if type(width) is int else len(str(width))
    lines = value.count("\n") + 1 if isinstance(value, str) else 1
    _refuse_large(_text_length(value) + lines * max(step, 0))


def _wordwrap(value: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
    text = value if isinstance(value, str) else ""
    lines = (
        text.count(" ")
        + text.count("\n")
        + len(text) // max(width if type(width) is int else 1, 1)
        + 1
    )
    _refuse_large(_text_length(value) + lines * len(str(wrap or "\n")))


def _replace(value: Any, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> None:
    text, old, new = str(value) if isinstance(value, str) else "", str(old), str(new)
    times = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    _refuse_large(_text_length(value) + times * max(len(new) - len(old), 0))


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    _check_percent(value, kwargs or args)


def _urlize(value: Any, *args: Any, **kwargs: Any) -> None:
    added = sum(len(str(kwargs.get(k) or "")) for k in ("target", "rel"))
    _refuse_large(_text_length(value) * (2 + added))


def _tojson(value: Any, indent: Any = None) -> None:
    if indent is not None and (len(str(indent)) > 16 or (type(indent) is int and indent > 16)):
        raise LimitExceeded(SIZE)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    from jinja2.utils import generate_lorem_ipsum

    if not (0 <= n <= 20 and 0 <= min <= max <= 200):
        raise LimitExceeded(SIZE)
    return generate_lorem_ipsum(n, html, min, max)


_CHECKS: dict[str, Callable[..., None]] = {
    "indent": _indent,
    "wordwrap": _wordwrap,
    "replace": _replace,
    "format": _format,
    "urlize": _urlize,
    "tojson": _tojson,
}


def _sized(items: Any) -> list[Any]:
    return items if isinstance(items, list) else list(items)


def _guarded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter counted as a call, its int arguments (not its value) bounded, its size checked
    before it runs where it can grow (CHECKS) and its result after."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0  # context, eval_ctx or environment
    check = _CHECKS.get(name)
    texts = name in _TEXT_FILTERS
    data_args = name == "format"  # its arguments are what is printed, not sizes

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.call()
        if len(args) > skip:
            value = args[skip]
            if not data_args:
                _check_ints((*args[skip + 1 :], *kwargs.values()))
            if texts and type(value) is not str:
                _refuse_large(_size(value))
            if check is not None:
                check(*args[skip:], **kwargs)
            if name in ("join", "sum"):
                items = _sized(value)
                start = kwargs.get("start", args[skip + 3] if len(args) > skip + 3 else 0)
                joiner = kwargs.get("d", args[skip + 1] if len(args) > skip + 1 else "")
                sizes = sum(_size(i) for i in items)
                if name == "join":
                    _refuse_large(sizes + len(str(joiner)) * max(len(items) - 1, 0))
                elif not isinstance(start, (int, float)):
                    _refuse_large(sizes + _size(start))
                args = (*args[:skip], items, *args[skip + 1 :])
        return _check_result(func(*args, **kwargs))

    return guarded


class _Bounded(NodeTransformer):
    """Each loop's iterable through `relance_loop`, each `~` through `relance_concat`: filters,
    so they are called directly (no sandbox call) and cannot be shadowed by a template's names."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)  # changes the node in place
        node.iter = nodes.Filter(node.iter, "relance_loop", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.Tuple(node.nodes, "load", lineno=node.lineno)
        return nodes.Filter(items, "relance_concat", [], [], None, None, lineno=node.lineno)


class BoundedEnvironment(SandboxedEnvironment):
    """The sandbox, with every render of a template bounded (see the module's documentation)."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})
    concat = staticmethod(_buffered)

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.filters = {name: _guarded(name, f) for name, f in self.filters.items()}
        self.filters["relance_loop"] = _loop
        self.filters["relance_concat"] = _concat
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _Bounded().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > _max_bits():
                    raise LimitExceeded(NUMBER)
            elif isinstance(left, _SEQUENCES) and isinstance(right, int):
                _refuse_large(len(left) * right)
            elif isinstance(right, _SEQUENCES) and isinstance(left, int):
                _refuse_large(len(right) * left)
        elif operator == "**":
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and right > 0
                and abs(left) > 1
                and math.log2(abs(left)) * right > _max_bits()
            ):
                raise LimitExceeded(NUMBER)
        elif operator == "+":
            if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
                _refuse_large(len(left) + len(right))
        elif operator == "%":
            _check_percent(left, right)
        return _check_result(self.binop_table[operator](left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.call()
        if isinstance(obj, LoopContext):  # `loop(children)` in a recursive loop
            if args:
                args = (_loop(args[0]), *args[1:])
        elif isinstance(obj, (BuiltinFunctionType, MethodWrapperType)):
            args = _check_method(obj, args, kwargs)
        return _check_result(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """`'{:>10}'.format(x)` and format_map: the sandbox wraps them when they are looked up;
        the widths in the format and what is put in are checked before formatting."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt, by_name = value.__self__, value.__name__ == "format_map"

        def bounded(*args: Any, **kwargs: Any) -> str:
            if by_name and args and isinstance(args[0], dict):
                _check_format(fmt, (), args[0])
            else:
                _check_format(fmt, args, kwargs)
            return _check_result(wrapped(*args, **kwargs))

        return update_wrapper(bounded, value)


def sandboxed(
    templates: BaseLoader | None = None, *, bounded: bool = False, **options: Any
) -> SandboxedEnvironment:
    """A sandboxed environment: over relance's own `templates` (HTML escaped, CSS not), bounded
    for templates users write, else plain (parsing only)."""
    if templates is not None:
        options.setdefault("autoescape", select_autoescape(["html"]))
        return SandboxedEnvironment(loader=templates, **options)
    if bounded:
        return BoundedEnvironment(**options)
    return SandboxedEnvironment(**options)


@cache
def environment() -> SandboxedEnvironment:
    """The environment of user-written message templates."""
    return sandboxed(
        bounded=True,
        undefined=ChainableUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


#: Output chunks read between two checks of the output's size and of the clock (each chunk is at
#: most MAX_SIZE long: what is read before a check stays small).
_CHUNKS = 32


@lru_cache(maxsize=1024)
def _compiled(source: str) -> Template:
    """Compiled once per process: a day renders the same few templates thousands of times."""
    return environment().from_string(source)


def render(source: str, values: dict[str, Any]) -> str:
    """The text, or RenderError naming the problem (a syntax error, a sandbox refusal, a type
    error such as dividing a name by two), LimitExceeded past a bound of the render."""
    budget = _Budget()
    token = _BUDGET.set(budget)
    try:
        template = _compiled(source)
        # The render function itself rather than generate(): no traceback rewriting (the error
        # is reported, not shown), and the text is read a few chunks at a time, C-speed.
        chunks = template.root_render_func(template.new_context(values))
        parts: list[str] = []
        size = 0
        while batch := list(islice(chunks, _CHUNKS)):
            size += sum(map(len, batch))
            if size > MAX_OUTPUT:
                raise LimitExceeded(OUTPUT)
            budget.clock()
            parts += batch
        return "".join(parts).strip("\n")
    except LimitExceeded:
        raise
    except RecursionError:
        raise LimitExceeded(DEPTH) from None
    except MemoryError:
        raise LimitExceeded(SIZE) from None
    except Exception as exc:  # the template's fault, whatever it is: reported, never raised raw
        raise RenderError(f"template error: {type(exc).__name__}: {exc}") from exc
    finally:
        _BUDGET.reset(token)

"""What is wrong with a document a person wrote, each problem located by a path they can follow.

Every mistake in a plan (or in the assignment rules) is collected, not raised at the first one, so
a document with five mistakes reports all five. YAML is read strictly here too: a duplicated key
is an error, not a silently kept last value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import yaml

from relance.domain.errors import Invalid
from relance.domain.texts import N_, Phrase, phrase, render

Severity = Literal["error", "warning"]
ERROR: Final = "error"
WARNING: Final = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (or suspicious) in a plan, located by a readable path.

    Paths are 1-based for steps and list entries, because people count that way:
    `standard: steps[2].recipients[1]`. The path is for the author of the YAML (the CLI, the
    API) and for placing the problem next to its field; `message` is for a person, in the
    language active when it is read: an English template (marked with `N_`) filled with
    `params` (name, value pairs) and translated then (`texts.render`), like `RelanceError`.
    """

    path: str
    template: str
    severity: Severity = ERROR
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def message(self) -> str:
        return render(self.template, dict(self.params))

    def __str__(self) -> str:
        if self.severity == WARNING:
            return f"{self.path}: warning: {self.message}"
        return f"{self.path}: {self.message}"


class PlanError(Invalid, ValueError):
    """A plan (or a document of plans) was rejected; `problems` lists every error found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


class Report:
    """Collects problems for one plan, prefixing local paths with where the plan sits."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def path(self, local: str) -> str:
        if not local:
            return self.where or "plan"
        return f"{self.where}: {local}" if self.where else local

    def error(self, local: str, message: str | Phrase, **params: Any) -> None:
        """An error: `message` an English template marked with `N_`, filled with `params` (or a
        `Phrase` holding both, such as a reason an entry was refused)."""
        self.errors.append(error(self.path(local), message, **params))

    def warn(self, local: str, message: str, **params: Any) -> None:
        """A warning: `message` an English template marked with `N_`, filled with `params`."""
        self.warnings.append(Problem(self.path(local), message, WARNING, tuple(params.items())))


def error(path: str, message: str | Phrase, **params: Any) -> Problem:
    """An error at `path`: an `N_` template with its `params`, or a `Phrase`."""
    if isinstance(message, Phrase):
        return Problem(path, message.template, ERROR, message.params)
    return Problem(path, message, ERROR, tuple(params.items()))


def join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def describe(value: object) -> Phrase:
    """Name a wrong value the way a YAML author would recognise it, in the reader's language
    (a `Phrase`, read with the message it is put in)."""
    if value is None:
        return phrase(N_("null"))
    if isinstance(value, bool):
        return phrase(N_("%(value)s (a boolean)"), value=str(value).lower())
    if isinstance(value, int | float | Decimal):
        return phrase(N_("%(value)s (a number)"), value=value)
    if isinstance(value, str):
        return phrase(N_("'%(value)s' (text)"), value=value)
    if isinstance(value, Mapping):
        return phrase(N_("a mapping"))
    if isinstance(value, list | tuple):
        return phrase(N_("a list"))
    return phrase(N_("%(value)s (%(kind)s)"), value=repr(value), kind=type(value).__name__)


def is_int(value: object) -> bool:
    # YAML `yes`/`true` are bools, and bool is a subclass of int: never accept them as numbers.
    return isinstance(value, int) and not isinstance(value, bool)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: PyYAML would silently keep the last one, hiding
    a typo such as two `subject:` lines in one step."""


def _construct_mapping_once(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` overrides are legitimate
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping_once,
)


def read_yaml(text: str) -> object:
    """Safe-load YAML, refusing duplicate keys; syntax errors become a `PlanError` whose path gives
    the line and column. Shared by every YAML document people write (plans, assignment rules)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "yaml"
        message = exc.problem or "syntax error"
        if exc.context:
            message = f"{exc.context}: {message}"
        # PyYAML's own words stay English: they quote the parser, not relance.
        raise PlanError([error(where, N_("invalid YAML: %(detail)s"), detail=message)]) from None
    except yaml.YAMLError as exc:
        raise PlanError([error("yaml", N_("invalid YAML: %(detail)s"), detail=str(exc))]) from None

"""One error hierarchy: every exception relance defines is a RelanceError, so the CLI and the API
can each answer its kind once (domain/errors.py) instead of listing classes command by command."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import Counter

import relance
from relance.domain.errors import KINDS, Invalid, NotFound, Refusal, RelanceError


def _defined_exceptions() -> list[type[BaseException]]:
    found = []
    for module in pkgutil.walk_packages(relance.__path__, "relance."):
        if ".migrations" in module.name:
            continue
        loaded = importlib.import_module(module.name)
        for _, obj in inspect.getmembers(loaded, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.name:
                found.append(obj)
    return found


def test_every_exception_relance_defines_is_a_relance_error() -> None:
    defined = _defined_exceptions()
    assert len(defined) > 30  # the walk found the services' errors, not nothing
    strays = [e for e in defined if not issubclass(e, RelanceError)]
    assert [f"{e.__module__}.{e.__qualname__}" for e in strays] == []


def test_no_two_errors_share_a_name() -> None:
    """`except NotFound` must say which one: a name is never reused for another error."""
    names = Counter(e.__name__ for e in _defined_exceptions())
    assert [name for name, count in names.items() if count > 1] == []


def test_a_refusal_names_the_field_it_refuses() -> None:
    from relance.services.dunning.plans import PlanNotFound

    assert Refusal("no", field="on").details == [{"field": "on", "message": "no"}]
    assert Refusal("no").details == [{"field": None, "message": "no"}]
    assert PlanNotFound("unknown plan").details == [{"field": "plan", "message": "unknown plan"}]


def test_other_kinds_carry_the_details_they_are_given() -> None:
    detail = {"row": 2, "field": "total", "message": "not an amount"}
    assert Invalid("the row is wrong", [detail]).details == [detail]
    assert NotFound("no such customer").details == []
    assert all(issubclass(kind, RelanceError) for kind in KINDS)

"""Relance's errors: one base and the few kinds that say how a person is answered.

Every exception relance defines derives from `RelanceError`, whose message is written for a
finance user to act on. The kinds below tell the adapters how to answer, so the CLI and the API
each map them once (`cli.output.rejections`, `api.errors.install`) instead of listing classes:

    kind        the CLI            the API
    NotFound    exit 1, message    404 not_found
    Refusal     exit 1, message    422 validation_error, one detail naming the field refused
    Invalid     exit 1, message    422 validation_error, the details (by row, field or path)
    Conflict    exit 1, message    409 conflict
    Forbidden   exit 1, message    403 permission_denied

An error of no kind (deriving from `RelanceError` directly) is one its caller catches by name
and words itself (a render error, a missing rate, a delivery failure); no adapter answers it on
its own, so escaping, it is still a traceback or a 500, like any programming error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from relance.domain.texts import render


class RelanceError(Exception):
    """Something relance will not or cannot do; the message says why, for a finance user.

    The message is an English template (marked with `texts.N_`) and `params` fill its
    `%(name)s` placeholders: `str(error)` translates it into the language active at that
    moment (`texts.render`), so one error reads in French on a French page and in English in
    the CLI's JSON.
    """

    def __init__(
        self, message: str = "", details: Iterable[Mapping[str, Any]] = (), **params: Any
    ) -> None:
        super().__init__(message)
        self._details = [dict(detail) for detail in details]
        self.template = message
        self.params = params

    def __str__(self) -> str:
        template = getattr(self, "template", None)
        if template is None:  # built without our __init__ (copied, unpickled)
            return super().__str__()
        return render(template, getattr(self, "params", None))

    @property
    def details(self) -> list[dict[str, Any]]:
        """Each problem (`row`, `field`, `message`) where the answer lists them one by one."""
        return getattr(self, "_details", [])


class NotFound(RelanceError):
    """What the request is about does not exist (or is not this user's to see)."""


class Refusal(RelanceError):
    """A business rule says no to the request as it stands; `field` names the input refused."""

    field: str | None = None

    def __init__(self, message: str = "", *, field: str | None = None, **params: Any) -> None:
        super().__init__(message, **params)
        if field is not None:
            self.field = field

    @property
    def details(self) -> list[dict[str, Any]]:
        return [{"field": self.field, "message": str(self)}]


class Invalid(RelanceError):
    """The input itself is wrong; `details` says where (row, field or path) when it can."""


class Conflict(RelanceError):
    """The request collides with a change made meanwhile (someone else saved first)."""


class Forbidden(RelanceError):
    """The request is understood but not allowed to whoever makes it (or with this link)."""


#: The kinds an adapter answers by itself, whatever the class raised.
KINDS: tuple[type[RelanceError], ...] = (NotFound, Refusal, Invalid, Conflict, Forbidden)

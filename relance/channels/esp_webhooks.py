"""anymail's webhooks (/anymail/<esp>/tracking/, which mark contacts bounced), believed only when
authenticated: anymail's shared secret (ANYMAIL["WEBHOOK_SECRET"], HTTP basic auth
"user:password", or RELANCE_ANYMAIL_WEBHOOK_SECRET) or the ESP's own signature (e.g.
MAILGUN_WEBHOOK_SIGNING_KEY, POSTAL_WEBHOOK_KEY, MANDRILL_WEBHOOK_KEY, RESEND_SIGNING_SECRET).

anymail alone only warns when neither is configured, and accepts the post: here a post is
refused (403) unless the ESP's view will check a secret or a signature, and a post that fails
the check is refused with 403 too (anymail answers 400). HEAD, which some ESPs send to check
the address, is answered as anymail does: it changes nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail import urls as anymail_urls
from anymail.exceptions import (
    AnymailConfigurationError,
    AnymailInsecureWebhookWarning,
    AnymailWebhookValidationFailure,
)
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import URLPattern
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def _refused() -> HttpResponse:
    return HttpResponseForbidden(
        _("Refused: this address needs the webhook secret or the provider's signature."),
        content_type="text/plain; charset=utf-8",
    )


def guard(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The anymail view, refusing a POST it would not authenticate or that fails its checks."""
    view_class: Any = getattr(view, "view_class")  # noqa: B009 (set by View.as_view)
    initkwargs: dict[str, Any] = getattr(view, "view_initkwargs", {})

    @wraps(view)  # keeps csrf_exempt: the ESP posts without a CSRF token
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", AnymailInsecureWebhookWarning)
                hook = view_class(**initkwargs)
            if hook.warn_if_no_basic_auth and not hook.basic_auth:
                logger.warning(
                    "ESP webhook %s refused: no WEBHOOK_SECRET nor signing key configured",
                    request.path,
                )
                return _refused()
            hook.run_validators(request)
        except AnymailConfigurationError as exc:  # a signing ESP without its key
            logger.warning("ESP webhook %s refused: %s", request.path, exc)
            return _refused()
        except AnymailWebhookValidationFailure:
            return _refused()
        return view(request, *args, **kwargs)

    return guarded


def urls() -> tuple[list[URLPattern], str]:
    """anymail's URLs, each guarded, for `include()` under /anymail/."""
    patterns = [
        URLPattern(p.pattern, guard(p.callback), p.default_args, p.name)
        for p in anymail_urls.urlpatterns
        if isinstance(p, URLPattern)
    ]
    return patterns, anymail_urls.app_name

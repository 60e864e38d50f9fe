"""Who is asking: the client's address, the same for every limit relance keeps (login throttling,
the portal's rate limits).

The connection's address, unless relance runs behind RELANCE_TRUSTED_PROXIES reverse proxies,
each appending the address it received from to X-Forwarded-For: then the one the outermost proxy
saw. Entries further left come from the client and could be forged, so they are never read.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "RELANCE_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    forwarded = [
        a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]

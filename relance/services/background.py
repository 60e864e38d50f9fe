"""Work started on a thread of this process, for the embedded mode's background jobs (imports,
go-live projections): the web server answers while it runs, and the thread closes the database
connections it opened when it ends (Django opens one per thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def on_thread(name: str, work: Callable[[int], object], pk: int) -> None:
    """Run `work(pk)` on a daemon thread named `name`."""

    def run() -> None:
        try:
            work(pk)
        finally:
            connections.close_all()  # this thread's own connections

    threading.Thread(target=run, name=name, daemon=True).start()

"""A channel that writes each message to a file: the embedded default until real channels exist,
and a faithful record of what would have been sent."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings

from relance.domain.delivery import Delivery, Sent


class FileChannel:
    """Writes <RELANCE_OUTBOX_DIR>/<channel>/<outbox id>.json atomically; rewriting the same
    message after a crash replaces the file, so a retry never yields two copies."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._made: set[Path] = set()

    def send(self, delivery: Delivery) -> Sent:
        folder = Path(self.directory or settings.RELANCE_OUTBOX_DIR) / delivery.channel
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True)
            self._made.add(folder)
        target = folder / f"{delivery.outbox_id}.json"
        payload = {
            "key": delivery.key,
            "channel": delivery.channel,
            "customer": delivery.customer,
            "to": list(delivery.to),
            "cc": list(delivery.cc),
            "subject": delivery.subject,
            "body": delivery.body,
        }
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)
        return Sent()

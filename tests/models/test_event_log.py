"""The event log is append-only: evidence of what happened is never rewritten."""

from __future__ import annotations

import pytest

from relance.models import AppendOnly, Event


def test_events_can_be_written_but_not_changed_or_deleted(company):
    event = Event.objects.create(company=company, source="test", kind="note", data={"a": 1})
    event.data = {"a": 2}
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        Event.objects.filter(pk=event.pk).update(kind="other")
    with pytest.raises(AppendOnly):
        Event.objects.filter(pk=event.pk).delete()
    stored = Event.objects.get(pk=event.pk)
    assert (stored.kind, stored.data) == ("note", {"a": 1})

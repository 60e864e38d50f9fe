"""The companies relance collects for, their people, who sees what, their hours, and the journal
of what happened to them (services/organisation/journal.py)."""

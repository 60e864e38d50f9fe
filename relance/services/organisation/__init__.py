"""The companies relance collects for, their people, who sees what, their hours."""

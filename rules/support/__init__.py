"""Readings shared by a rule and its helpers that are too long for the rule's own module
(rules/ loads every ``gl*`` module as a rule; this package holds none)."""

"""Aggregates, events and pure rules: no I/O, no clock, replayable alone."""

"""The desk's recorders: eventsourcing's, with the indexes readers need (ADR/0014)."""

"""The eventsourcing application, its use cases, read models and the CLI."""

"""The device replica's adapters: its SQLite tables, the server over HTTP, the wiring."""

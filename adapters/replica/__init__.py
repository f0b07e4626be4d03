"""A device replica's adapters: the server it syncs with, over HTTP (ADR/0024)."""

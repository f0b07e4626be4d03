"""Implementations of ports: thin translation to real technologies."""

"""What the core needs from outside: Protocols and attrs value types."""

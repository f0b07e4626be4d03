"""The `calldesk` command line: the driving adapter that wires the core to the world."""

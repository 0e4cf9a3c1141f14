"""The server-rendered web UI, one module per area."""

"""API routes, one module per capability, each a thin edge over its services."""

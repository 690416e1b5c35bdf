"""The service layer: use cases and queries, one package per capability."""

"""The domain layer: pure rules, free of I/O, one package per capability."""

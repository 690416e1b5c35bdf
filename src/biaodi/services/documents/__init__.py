"""Documents: issuing, verifying and serving contracts; investor statements."""

"""One module per provider: a ``case`` fixture factory against its live server."""

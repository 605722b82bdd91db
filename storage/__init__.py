"""Storage: the schema, engines with the right pragmas, and the store that runs units of work."""

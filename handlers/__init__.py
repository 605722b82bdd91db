"""Reception: platform-neutral events in, replies out; one module per feature."""

"""Entrance and wiring: CLI, settings, composition, adapters and rendering."""

"""Lucky draws (issue 12): draws and their entries. Part of storage/schema.py's one MetaData (it
imports this module), kept apart by feature."""

from __future__ import annotations

from storage.schema_core import metadata

__all__ = ["metadata"]

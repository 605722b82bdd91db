"""Contests (issue 12): contests and the votes on their entries. Part of storage/schema.py's one
MetaData (it imports this module), kept apart by feature."""

from __future__ import annotations

from storage.schema_core import metadata

__all__ = ["metadata"]

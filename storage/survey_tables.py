"""Surveys and NPS (issue 11): the surveys, each member's run through one and their answers. Part
of storage/schema.py's one MetaData (it imports this module), kept apart by feature."""

from __future__ import annotations

from storage.schema_core import metadata

__all__ = ["metadata"]

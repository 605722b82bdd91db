"""Quizzes (issue 11): the question bank, each quiz run, its rounds and the members' answers. Part
of storage/schema.py's one MetaData (it imports this module), kept apart by feature."""

from __future__ import annotations

from storage.schema_core import metadata

__all__ = ["metadata"]

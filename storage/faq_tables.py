"""The FAQ (issue 11): entries, the automatic answers given and the 👍/👎 on them. Part of
storage/schema.py's one MetaData (it imports this module), kept apart by feature."""

from __future__ import annotations

from storage.schema_core import metadata

__all__ = ["metadata"]

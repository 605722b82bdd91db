"""Lucky draws (issue 12): draws and their entries. Part of storage/schema.py's one MetaData (it
imports this module), kept apart by feature.

A draw's number is its id (one sequence for the deployment). Its entries are numbered 1, 2, 3...
in the order they were made (draws.entries hands the numbers out): the numbers and the revealed
seed are all it takes to recompute the winners (community/draw_picking.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, false

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

draws = Table(
    "draws",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("prize", String(300), nullable=False),  # the admin's words
    Column("winners", Integer, nullable=False),  # how many win
    Column("points", BigInteger, nullable=False, server_default="0"),  # paid to each winner
    # The conditions of entry: a check-in on the day of entering, a tier at least this one
    # (an index into tiers.levels), a fee in points.
    Column("checkin", Boolean, nullable=False, server_default=false()),
    Column("min_tier", Integer, nullable=True),
    Column("cost", BigInteger, nullable=False, server_default="0"),
    # The secret seed (64 hex characters), shown only once the draw is drawn, and its sha256
    # (the commitment) published when the draw opens.
    Column("seed", String(64), nullable=False),
    Column("commitment", String(64), nullable=False),
    # Entry numbers handed out so far; the UPDATE that takes the next one locks the draw, so
    # two entries at once are numbered one after the other and a close waits for them.
    Column("entries", Integer, nullable=False, server_default="0"),
    # open -> drawn (winners chosen at the close) | cancelled (by an admin, fees returned)
    Column("state", String(12), nullable=False, server_default="open"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),  # when it was drawn or cancelled
    sqlite_autoincrement=True,
)
Index("ix_draws_open", draws.c.community_id, draws.c.state, draws.c.closes_at)

draw_entries = Table(
    "draw_entries",
    metadata,
    Column("draw_id", Id, ForeignKey("draws.id"), primary_key=True),
    Column("number", Integer, primary_key=True),  # 1, 2, 3... in the order of entering
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("fee", BigInteger, nullable=False, server_default="0"),
    # The ledger entry that took the fee: a refund gives its points back into the same lots.
    Column("fee_entry_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Two members who had both entered were linked into one (/link): the later entry no longer
    # takes part (one entry per member), and its fee goes back at the close.
    Column("withdrawn", Boolean, nullable=False, server_default=false()),
    Column("rank", Integer, nullable=True),  # a winner's place: 1 has the lowest score
)
# No unique (draw, member): a past draw keeps its entries as they were when it was drawn, also
# after its entrants were linked. Entering checks under the draw's lock instead.
Index("ix_draw_entries_member", draw_entries.c.member_id, draw_entries.c.draw_id)

"""The whole schema in one place; migrations/ creates it, the domain queries it.

One MetaData for every layer, because the ledger (loyalty) and the members (community) refer
to each other by foreign key and Alembic compares against a single picture. The tables live in
storage/schema_core.py (communities to job runs) and storage/loyalty_tables.py (the loyalty
engine's); import them from here.
"""

from __future__ import annotations

# The activities' tables (issues 11 and 12) join the MetaData when imported; import them from
# their own modules.
from storage import (  # noqa: F401
    ambassador_tables,
    contest_tables,
    draw_tables,
    faq_tables,
    quiz_tables,
    survey_tables,
    ugc_tables,
)
from storage.loyalty_tables import (
    campaigns,
    coupon_codes,
    earn_tallies,
    invitations,
    invited,
    lot_uses,
    lots,
    redemptions,
    rewards,
)
from storage.qa_tables import answers, questions
from storage.schema_core import (
    accounts,
    audit_log,
    balances,
    calendar_entries,
    checkins,
    communities,
    delivery_leases,
    groups,
    inbox,
    job_runs,
    ledger,
    link_codes,
    members,
    metadata,
    outbox,
    polls,
    processed_events,
    votes,
)

__all__ = [
    "accounts",
    "answers",
    "audit_log",
    "balances",
    "calendar_entries",
    "campaigns",
    "checkins",
    "communities",
    "coupon_codes",
    "delivery_leases",
    "earn_tallies",
    "groups",
    "inbox",
    "invitations",
    "invited",
    "job_runs",
    "ledger",
    "link_codes",
    "lot_uses",
    "lots",
    "members",
    "metadata",
    "outbox",
    "polls",
    "processed_events",
    "questions",
    "redemptions",
    "rewards",
    "votes",
]

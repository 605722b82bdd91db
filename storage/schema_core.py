"""The schema's MetaData and its core tables: communities, groups, members and accounts, the
ledger and balances, check-ins, polls, the inbox and outbox, the calendar and job runs.
Import tables from storage/schema.py, which gathers these and the loyalty engine's."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from storage.types import Id, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

communities = Table(
    "communities",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("rules", JSON, nullable=False),
    # Hash of the community.toml that last wrote `rules`: a restart re-applies the file only
    # when the file changed, so settings admins change later survive restarts.
    Column("config_hash", String(64), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    # When its last planned /campaign ends (loyalty/campaigns.py keeps it): until then every
    # credit looks for a campaign; after it, none (a statement fewer per credit).
    Column("campaigns_until", UtcDateTime, nullable=True),
)

groups = Table(
    "groups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("title", String(200), nullable=False, server_default=""),
    Column("created_at", UtcDateTime, nullable=False),
    # When a listed community admin first used the bot here. Until then the group's own admins
    # are not community admins: anyone can add the bot to a group they own.
    Column("adopted_at", UtcDateTime, nullable=True),
    # Who adopted it ("telegram:12345"): the adoption counts while that account is listed.
    Column("adopted_by", String(100), nullable=True),
    # Where posts to this group go when the group is not itself a channel (a Discord guild: the
    # channel it was adopted in, or moved with /settings channel).
    Column("posting_channel", String(64), nullable=True),
    # A member's private chat with the bot: it belongs to a community, but is no group to post to.
    Column("private", Boolean, nullable=False, server_default=false()),
    # Not itself a channel (a Discord server): posts go to its posting channel, if it has one.
    Column("needs_channel", Boolean, nullable=False, server_default=false()),
    # Refusals in a row (the bot was removed, the chat is gone); at the limit the group is
    # inactive, skipped by broadcasts, until anything is heard from it again.
    Column("refusals", Integer, nullable=False, server_default="0"),
    Column("inactive_since", UtcDateTime, nullable=True),
    # Labels admins give a group (/settings tags vip cn): calendar entries may post to a tag only.
    Column("tags", JSON, nullable=True),
    UniqueConstraint("platform", "chat_id", name="uq_groups_platform_chat"),
)

members = Table(
    "members",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False, index=True),
    Column("display_name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    # Opted in (/remind on) to a private nudge on evenings they have not checked in yet.
    Column("reminders", Boolean, nullable=False, server_default=false()),
    # "MM-DD" as the member gave it with /birthday (once; admins may correct it).
    Column("birthday", String(5), nullable=True),
    # A title a digital reward gave them, shown beside their name in /me.
    Column("title", String(100), nullable=True),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("platform_user_id", String(64), nullable=False),
    # Lower-cased handle (@name) for finding a member from a mention; may be absent.
    Column("username_key", String(64), nullable=True),
    Column("display_name", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "community_id", "platform", "platform_user_id", name="uq_accounts_community_platform_user"
    ),
    Index("ix_accounts_community_username", "community_id", "username_key"),
)

balances = Table(
    "balances",
    metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", UtcDateTime, nullable=False),
    # Growth value (成长值) as last computed plus what was earned since: never less than the
    # points earned in the tiers' rolling window, so a credit that leaves it under the next
    # threshold needs no sum over the lots (loyalty/tiers.py).
    Column("growth", BigInteger, nullable=False, server_default="0"),
    # The member's tier: an index into the community's tiers.levels (0: the first).
    Column("tier", Integer, nullable=False, server_default="0"),
    Column("tier_since", UtcDateTime, nullable=True),
    # The review at which the member first fell short of their tier's threshold; they keep it
    # for the grace periods after that review.
    Column("short_since", Date, nullable=True),
    # Make-up cards (补签卡) the member holds from the shop; tier cards are counted by month.
    Column("makeup_cards", Integer, nullable=False, server_default="0"),
    Index("ix_balances_community_points", "community_id", "points"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("note", String(500), nullable=False, server_default=""),
    # The cause of the entry (checkin:<community>:<member>:<day>, event:<event_id>): a cause
    # pays once, however often it is retried or redelivered.
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("actor_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Why a credit paid what it did (loyalty/earning.py): the action's base points after caps,
    # the multipliers applied ([{"kind": "member_day", "factor": 2}, ...]) and the version of
    # the earning rules. None for entries that are no earning (deductions, redemptions).
    Column("base", BigInteger, nullable=True),
    Column("multipliers", JSON, nullable=True),
    Column("rule_version", String(16), nullable=True),
    Index("ix_ledger_member_id", "member_id", "id"),
    # A member day's recap sums what its window earned.
    Index("ix_ledger_community_created", "community_id", "created_at"),
)

checkins = Table(
    "checkins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("day", Date, nullable=False),
    Column("streak", Integer, nullable=False),
    Column("points", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # A day filled with a make-up card (补签卡) rather than checked in: which card ("tier" or
    # "shop"), and when.
    Column("card", String(8), nullable=True),
    UniqueConstraint("member_id", "day", name="uq_checkins_member_day"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("processed_at", UtcDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    # None for an actor who is no member (a Telegram anonymous admin): details name the account.
    Column("actor_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("action", String(32), nullable=False),
    Column("target_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("details", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_audit_log_community_id", "community_id", "id"),
)

# A one-time code that joins a member's account on another platform to them (/link).
link_codes = Table(
    "link_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

polls = Table(
    "polls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("question", String(300), nullable=False),
    Column("options", JSON, nullable=False),
    # Points a vote earns, fixed when the poll opens so a rule change does not rewrite history.
    Column("points", Integer, nullable=False),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    # The platform's own poll and message ids, where the poll was posted natively.
    Column("native_id", String(64), nullable=True),
    Column("native_message_id", String(64), nullable=True),
    # When a poll opened with --for / --until closes by itself (the scheduler closes it).
    Column("closes_at", UtcDateTime, nullable=True, index=True),
    # The channel of a server it was opened in (Discord), where its results go at its end.
    Column("channel_id", String(64), nullable=True),
    UniqueConstraint("platform", "native_id", name="uq_polls_platform_native"),
    Index("ix_polls_chat", "platform", "chat_id", "id"),
)

votes = Table(
    "votes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("poll_id", Id, ForeignKey("polls.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("options", JSON, nullable=False),
    Column("voted_at", UtcDateTime, nullable=False),
    UniqueConstraint("poll_id", "member_id", name="uq_votes_poll_member"),
)

# Platform updates fetched but not yet handled. An adapter writes them here before it lets the
# platform forget them (Telegram's next getUpdates offset), and the unit of work that handles an
# event deletes its row, so a crash in between replays the update instead of losing it.
inbox = Table(
    "inbox",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("platform", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
)


outbox = Table(
    # Every message the bot sends, written in the unit of work of its cause and drained by one
    # sender per platform within that platform's limits.
    "outbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("platform", String(16), nullable=False),
    # The platform's own address: a Telegram chat, a Discord channel, "dm:<user id>".
    Column("chat_id", String(64), nullable=False),
    # The community's group it is for (a Discord guild), for refusals and broadcasts.
    Column("group_chat_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("reply_to", String(64), nullable=True),
    Column("edits", String(64), nullable=True),
    Column("payload", JSON, nullable=False),
    # Who it answers, by name: a merged message of a busy group names each asker.
    Column("recipient", String(200), nullable=False, server_default=""),
    # Written at most once per key (a broadcast per group, a scheduled post per firing).
    Column("key", String(200), nullable=True, unique=True),
    Column("state", String(12), nullable=False, server_default="pending"),
    Column("not_before", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("sent_ids", String(200), nullable=True),
    Column("failure", String(300), nullable=True),
    Index("ix_outbox_pending", "platform", "state", "not_before"),
)

delivery_leases = Table(
    # Which process drains a platform's outbox; it keeps renewing its lease, and another takes
    # over once it expires, so the platform's limits hold for the deployment.
    "delivery_leases",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("holder", String(100), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)


calendar_entries = Table(
    # The topic calendar (话题日历): what to post into the community's groups, and when.
    "calendar_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False, index=True),
    # community/schedules.py When.to_json(), and the words the admin typed for it.
    Column("schedule", JSON, nullable=False),
    Column("when_text", String(100), nullable=False),
    Column("text", Text, nullable=False),
    # A poll posted with the topic: {"question": ..., "options": [...]}.
    Column("poll", JSON, nullable=True),
    # A quiz started with the topic: {"questions": N, "category": "..."} (issue 11).
    Column("quiz", JSON, nullable=True),
    # Only groups with this tag; none: every group of the community.
    Column("tag", String(32), nullable=True),
    Column("paused", Boolean, nullable=False, server_default=false()),
    # "file:N" for the Nth [[calendar]] entry of community.toml; none when added in chat.
    Column("file_key", String(32), nullable=True),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Firings before this moment never run (its creation, or when it was last resumed).
    Column("since", UtcDateTime, nullable=False),
    # When a template failed to render its post, reported to the admins once.
    Column("broken_at", UtcDateTime, nullable=True),
    # Numbers are never reused (admins remove "#5" from an old /topic list): AUTOINCREMENT.
    sqlite_autoincrement=True,
)

job_runs = Table(
    # Claims of scheduled firings: one row per (job, scheduled time), written in the unit of
    # work that queues the firing's posts, so a firing runs once whatever crashes or races.
    "job_runs",
    metadata,
    Column("job", String(100), primary_key=True),
    Column("scheduled_at", UtcDateTime, primary_key=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("ran_at", UtcDateTime, nullable=False),
    # "ran", "missed" (older than the grace period when the bot came back), "failed".
    Column("outcome", String(16), nullable=False),
)

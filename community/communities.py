"""Communities (brand spaces) and the groups that belong to them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from cachetools import LRUCache
from sqlalchemy import Connection, Text, bindparam, cast, delete, func, insert, select, update

from community.config import STORED, CommunityConfig, ConfigError, Rules
from loyalty.rules import Program, rule_version
from storage.schema import communities, groups, outbox, polls
from storage.sql import fit_text, insert_if_absent


@dataclass(frozen=True, slots=True)
class Community:
    """A brand's space: its clock, its language and its rules."""

    id: int
    slug: str
    name: str
    timezone: ZoneInfo
    locale: str
    rules: Rules
    # Nothing scheduled fires before the community existed.
    created_at: datetime
    # When its last planned /campaign ends (None: none planned): credits look campaigns up
    # only before then.
    campaigns_until: datetime | None = None

    @property
    def program(self) -> Program:
        """The loyalty programme its credits are paid under (its rules, clock and version)."""
        key = (id(self.rules), self.id, self.timezone.key)
        known = _PROGRAMS.get(key)
        # The entry holds its rules, so their id cannot be reused while it is cached.
        if known is None or known[0] is not self.rules:
            known = (self.rules, _program(self.id, self.timezone, self.rules))
            _PROGRAMS[key] = known
        return known[1]

    def local_times(self, moments: Iterable[datetime]) -> list[datetime]:
        """Moments as the community's clock shows them (what answers print)."""
        return [moment.astimezone(self.timezone) for moment in moments]

    def local_day(self, at: datetime) -> date:
        """The calendar day `at` falls on in the community's timezone."""
        return at.astimezone(self.timezone).date()


# Every event reads its community: with the rules as stored text, so that parsing them (tens of
# µs for the model) is done once per version of the rules, not once per event.
_STORED_RULES = cast(communities.c.rules, Text).label("rules_text")
# Every column but `rules` itself: its JSON type would parse the whole text on every read,
# which _parsed_rules does once per version instead.
_COLUMNS = [column for column in communities.c if column.name != "rules"]
_COMMUNITY = select(*_COLUMNS, _STORED_RULES)
_CHAT_COMMUNITY = (
    select(
        *_COLUMNS,
        _STORED_RULES,
        groups.c.adopted_by,
        groups.c.posting_channel,
        groups.c.refusals,
        groups.c.inactive_since,
    )
    .join(groups, groups.c.community_id == communities.c.id)
    .where(groups.c.platform == bindparam("platform"), groups.c.chat_id == bindparam("chat_id"))
)


def apply_config(
    conn: Connection,
    config: CommunityConfig,
    config_hash: str,
    *,
    default_timezone: str,
    default_locale: str,
    at: datetime,
) -> Community:
    """Create the community from its file, or update it when the file has changed since."""
    section = config.community
    values: dict[str, Any] = {
        "name": section.name,
        "timezone": section.timezone or default_timezone,
        "locale": section.locale or default_locale,
        "rules": config.rules.model_dump(mode="json"),
        "config_hash": config_hash,
    }
    row = conn.execute(
        select(communities.c.id, communities.c.config_hash).where(
            communities.c.slug == section.slug
        )
    ).first()
    if row is None:
        other = conn.execute(select(communities.c.slug).limit(1)).scalar_one_or_none()
        if other is not None:
            # Groups, members and ledgers hang on the community: a renamed slug would quietly
            # start an empty second community beside them.
            raise ConfigError(
                f"community.slug {section.slug!r} is new, but this database belongs to "
                f"{other!r}; a slug cannot change (put it back, or use another DATABASE_URL)"
            )
        conn.execute(insert(communities).values(slug=section.slug, created_at=at, **values))
    elif row.config_hash != config_hash:
        conn.execute(update(communities).where(communities.c.id == row.id).values(**values))
    found = community_by_slug(conn, section.slug)
    assert found is not None
    return found


def file_is_new(conn: Connection, slug: str, config_hash: str) -> bool:
    """Whether community.toml differs from the one last applied to `slug` (or it is new)."""
    applied = conn.execute(
        select(communities.c.config_hash).where(communities.c.slug == slug)
    ).scalar_one_or_none()
    return applied != config_hash


def community_by_slug(conn: Connection, slug: str) -> Community | None:
    """The community called `slug`, if there is one."""
    row = conn.execute(_COMMUNITY.where(communities.c.slug == slug)).first()
    return None if row is None else _community(row)


def all_communities(conn: Connection) -> list[Community]:
    """Every community of the deployment, oldest first."""
    return [_community(row) for row in conn.execute(_COMMUNITY.order_by(communities.c.id))]


def community_by_id(conn: Connection, community_id: int) -> Community | None:
    """The community with this id, if there is one."""
    row = conn.execute(_COMMUNITY.where(communities.c.id == community_id)).first()
    return None if row is None else _community(row)


def move_chat(
    conn: Connection,
    *,
    platform: str,
    chat_id: str,
    title: str,
    slug: str,
    current: Community,
    at: datetime,
) -> tuple[Community, bool]:
    """Put a chat into the community `slug`, creating that community (with the current one's
    rules, clock and language) if it does not exist yet. Returns it and whether it is new."""
    target = community_by_slug(conn, slug)
    created = target is None
    if target is None:
        conn.execute(
            insert(communities).values(
                slug=slug,
                name=slug,
                timezone=current.timezone.key,
                locale=current.locale,
                rules=current.rules.model_dump(mode="json"),
                config_hash="",
                created_at=at,
            )
        )
        target = community_by_slug(conn, slug)
        assert target is not None
    chat_id = fit_text(chat_id, 64)
    moved = conn.execute(
        update(groups)
        .where(groups.c.platform == platform, groups.c.chat_id == chat_id)
        .values(community_id=target.id, title=fit_text(title, 200))
    ).rowcount
    if not moved:
        conn.execute(
            insert(groups).values(
                platform=platform,
                chat_id=chat_id,
                community_id=target.id,
                title=fit_text(title, 200),
                created_at=at,
            )
        )
    return target, created


@dataclass(frozen=True, slots=True)
class ChatPlace:
    """Where a chat stands: its community, and which listed admin adopted it (if any)."""

    community: Community
    # The account ("telegram:12345") that adopted the group. An adoption counts only while
    # that account is still listed: delisting an admin also ends what they vouched for.
    adopted_by: str | None
    # Where the group's posts go when the chat is not itself a channel (a Discord server).
    posting_channel: str | None = None
    # The platform refused messages to it lately (see community.outbox_drain.mark_failed).
    refused: bool = False


_ADOPT = (
    update(groups)
    .where(groups.c.platform == bindparam("b_platform"), groups.c.chat_id == bindparam("b_chat"))
    .values(
        adopted_at=bindparam("b_at"),
        adopted_by=bindparam("b_by"),
        posting_channel=func.coalesce(groups.c.posting_channel, bindparam("b_channel")),
    )
)


def adopt_chat(
    conn: Connection,
    *,
    platform: str,
    chat_id: str,
    adopter: str,
    at: datetime,
    channel: str | None = None,
) -> None:
    """A listed community admin ran an admin command here: from now on the group's own admins
    count too, for as long as `adopter` stays listed. A group that is not itself a channel (a
    Discord server) gets `channel`, where this happened, as its posting channel unless it has
    one already."""
    conn.execute(
        _ADOPT,
        {
            "b_platform": platform,
            "b_chat": fit_text(chat_id, 64),
            "b_at": at,
            "b_by": adopter,
            "b_channel": fit_text(channel, 64) if channel else None,
        },
    )


def set_posting_channel(conn: Connection, platform: str, chat_id: str, channel: str) -> None:
    """Posts to this group go to `channel` from now on (/settings channel, run in it)."""
    conn.execute(
        update(groups)
        .where(groups.c.platform == platform, groups.c.chat_id == fit_text(chat_id, 64))
        .values(posting_channel=fit_text(channel, 64))
    )


# What a group tag may be: letters (any script), digits, - and _; short, lower-cased.
_TAG = re.compile(r"[^\W_][\w-]{0,31}")
MAX_TAGS = 10  # tags one group may carry


def read_tags(text: str) -> tuple[str, ...] | None:
    """Tags as an admin typed them ("vip cn", "vip,cn", "vip、cn"), lower-cased and unique in
    order; None when one is not a tag (or there are too many)."""
    words = [word for word in re.split(r"[\s,，、#]+", text.casefold()) if word]
    tags = tuple(dict.fromkeys(words))
    if len(tags) > MAX_TAGS or not all(_TAG.fullmatch(tag) for tag in tags):
        return None
    return tags


def set_tags(conn: Connection, platform: str, chat_id: str, tags: tuple[str, ...]) -> None:
    """The group's tags from now on (calendar entries may post to one tag's groups only)."""
    conn.execute(
        update(groups)
        .where(groups.c.platform == platform, groups.c.chat_id == fit_text(chat_id, 64))
        .values(tags=list(tags) or None)
    )


def tags_of(conn: Connection, platform: str, chat_id: str) -> tuple[str, ...]:
    """The group's tags."""
    found = conn.execute(
        select(groups.c.tags).where(
            groups.c.platform == platform, groups.c.chat_id == fit_text(chat_id, 64)
        )
    ).scalar_one_or_none()
    return tuple(found or ())


def rename_chat(conn: Connection, platform: str, old_chat_id: str, new_chat_id: str) -> None:
    """A chat got a new id from its platform; it keeps its community, adoption and polls. A row
    the new id got meanwhile (messages can arrive before the notice of the move) gives way."""
    old_chat_id, new_chat_id = fit_text(old_chat_id, 64), fit_text(new_chat_id, 64)
    here = (groups.c.platform == platform) & (groups.c.chat_id == old_chat_id)
    if conn.execute(select(groups.c.id).where(here)).first() is None:
        return
    conn.execute(
        delete(groups).where(groups.c.platform == platform, groups.c.chat_id == new_chat_id)
    )
    conn.execute(update(groups).where(here).values(chat_id=new_chat_id))
    conn.execute(
        update(polls)
        .where(polls.c.platform == platform, polls.c.chat_id == old_chat_id)
        .values(chat_id=new_chat_id)
    )
    # What waits to be sent there goes to the new id (the old one only answers "migrated").
    conn.execute(
        update(outbox)
        .where(
            outbox.c.platform == platform,
            outbox.c.chat_id == old_chat_id,
            outbox.c.state == "pending",
        )
        .values(chat_id=new_chat_id)
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.platform == platform, outbox.c.group_chat_id == old_chat_id)
        .values(group_chat_id=new_chat_id)
    )


def community_for_chat(
    conn: Connection,
    *,
    platform: str,
    chat_id: str,
    title: str,
    default_slug: str,
    at: datetime,
    private: bool = False,
    needs_channel: bool = False,
) -> ChatPlace:
    """The community a chat belongs to; a chat seen for the first time joins the default one
    (a private chat too: it is where members talk to the bot, never a broadcast's target)."""
    chat_id = fit_text(chat_id, 64)
    chat = {"platform": platform, "chat_id": chat_id}
    row = conn.execute(_CHAT_COMMUNITY, chat).first()
    if row is not None:
        return _place(row)
    default = community_by_slug(conn, default_slug)
    if default is None:
        raise LookupError(f"default community {default_slug!r} does not exist")
    insert_if_absent(
        conn,
        groups,
        {
            "platform": platform,
            "chat_id": chat_id,
            "community_id": default.id,
            "title": fit_text(title, 200),
            "created_at": at,
            "private": private,
            "needs_channel": needs_channel,
        },
    )
    return _place(conn.execute(_CHAT_COMMUNITY, chat).one())


def _place(row: Any) -> ChatPlace:
    refused = bool(row.refusals) or row.inactive_since is not None
    return ChatPlace(_community(row), row.adopted_by, row.posting_channel, refused)


def _community(row: Any) -> Community:
    return Community(
        id=row.id,
        slug=row.slug,
        name=row.name,
        timezone=ZoneInfo(row.timezone),
        locale=row.locale,
        rules=_parsed_rules(row.rules_text),
        created_at=row.created_at,
        campaigns_until=row.campaigns_until,
    )


# Programmes by the identity of the rules they were built from (hashing the rules themselves
# would walk every field on every event): one per parsed version of a community's rules.
_PROGRAMS: LRUCache[tuple[int, int, str], tuple[Rules, Program]] = LRUCache(maxsize=256)


def _program(community_id: int, timezone: ZoneInfo, rules: Rules) -> Program:
    return Program(
        community_id,
        timezone,
        rules.earning,
        rules.tiers,
        rules.expiry,
        rules.campaigns,
        rule_version(rules.earning, rules.tiers),
    )


@lru_cache(maxsize=256)
def _parsed_rules(text: str) -> Rules:
    """Rules from their stored JSON text; frozen, so one parse serves every event."""
    return Rules.model_validate_json(text, context={STORED: True})

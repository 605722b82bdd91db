"""/settings: admins see the community's settings, choose which community a group belongs to,
and where a Discord server's posts go."""

from __future__ import annotations

import re

from community import audit
from community.communities import (
    MAX_TAGS,
    community_by_slug,
    move_chat,
    read_tags,
    set_posting_channel,
    set_tags,
    tags_of,
)
from handlers.arguments import BadArgument, read_arguments
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply

router = Router()

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


SETTINGS_PARAMS = (
    Param("setting", ParamKind.CHOICE, required=False, choices=("community", "channel", "tags")),
    Param("value", ParamKind.TEXT, required=False),
)


@router.command("settings", admin=True, params=SETTINGS_PARAMS)
def settings(ctx: Context) -> Reply:
    """/settings shows them; /settings community NAME moves this group to community NAME."""
    try:
        given = read_arguments(SETTINGS_PARAMS, ctx.event.arg_text, ctx.community.rules)
    except BadArgument:
        return Reply("settings/usage")
    setting, value = given.get("setting"), given.get("value")
    if setting is None:
        return Reply(
            "settings/show",
            {
                "slug": ctx.community.slug,
                "name": ctx.community.name,
                "timezone": ctx.community.timezone.key,
                "locale": ctx.community.locale,
                "checkin_points": ctx.community.rules.earning.checkin.points,
                "vote_points": ctx.community.rules.earning.vote.points,
                "tags": list(tags_of(ctx.conn, ctx.event.chat.platform, ctx.event.chat.chat_id)),
            },
        )
    if setting == "channel":
        return _posting_channel(ctx)
    if setting == "tags":
        return _tags(ctx, value)
    if value is None:
        return Reply("settings/usage")
    slug = value.casefold()
    if not _SLUG.fullmatch(slug):
        return Reply("settings/bad_slug", {"slug": value[:64]})
    if ctx.event.chat.private:
        return Reply("settings/groups_only")
    previous = ctx.community
    joining = community_by_slug(ctx.conn, slug)
    if joining is not None and joining.id != previous.id and not ctx.listed_admin:
        # A group's platform admins are admins of its community: letting one of them move a
        # group into another existing community would hand them that community's ledger.
        return Reply("settings/not_admin_there", {"slug": joining.slug})
    target, created = move_chat(
        ctx.conn,
        platform=ctx.event.chat.platform,
        chat_id=ctx.event.chat.chat_id,
        title=ctx.event.chat.title,
        slug=slug,
        current=previous,
        at=ctx.now,
    )
    audit.record(
        ctx.conn,
        community_id=previous.id,
        actor=ctx.actor,
        action="group_moved",
        at=ctx.now,
        chat=f"{ctx.event.chat.platform}:{ctx.event.chat.chat_id}",
        to_community=target.slug,
        created=created,
    )
    return Reply(
        "settings/community_moved",
        {"slug": target.slug, "previous": previous.slug, "created": created},
    )


def _posting_channel(ctx: Context) -> Reply:
    """/settings channel, run in a channel of a server: the server's posts go there."""
    chat = ctx.event.chat
    if chat.private:
        return Reply("settings/groups_only")
    channel = ctx.event.channel_id
    if not channel or channel == chat.chat_id:
        return Reply("settings/channel_not_needed")  # a Telegram group is its own channel
    set_posting_channel(ctx.conn, chat.platform, chat.chat_id, channel)
    audit.record(
        ctx.conn,
        community_id=ctx.community.id,
        actor=ctx.actor,
        action="posting_channel_set",
        at=ctx.now,
        chat=f"{chat.platform}:{chat.chat_id}",
        channel=channel,
    )
    return Reply("settings/channel_set", {"channel": channel})


def _tags(ctx: Context, value: str | None) -> Reply:
    """/settings tags vip cn: this group's tags (a calendar entry may post to a tag only);
    /settings tags - clears them; /settings tags alone shows them."""
    chat = ctx.event.chat
    if chat.private:
        return Reply("settings/groups_only")
    if value is None:
        shown = list(tags_of(ctx.conn, chat.platform, chat.chat_id))
        return Reply("settings/tags", {"tags": shown, "changed": False})
    tags = () if value.strip() in ("-", "—") else read_tags(value)
    if tags is None:
        return Reply("settings/bad_tags", {"limit": MAX_TAGS})
    set_tags(ctx.conn, chat.platform, chat.chat_id, tags)
    audit.record(
        ctx.conn,
        community_id=ctx.community.id,
        actor=ctx.actor,
        action="group_tagged",
        at=ctx.now,
        chat=f"{chat.platform}:{chat.chat_id}",
        tags=list(tags),
    )
    return Reply("settings/tags", {"tags": list(tags), "changed": True})

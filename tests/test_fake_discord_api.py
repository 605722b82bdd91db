"""The fake Discord API drives the real discord.py client over local sockets."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import discord.webhook.async_
import pytest
from discord import app_commands

from tests.fakes.discord_api import APP_ID, BOT_ID, FakeDiscord, FakeLimits

GUILD, CHANNEL, OWNER, ADMIN, USER = 5000, 5001, 6000, 6001, 6002
INTENTS = discord.Intents(guilds=True, messages=True, message_content=True, members=True)


def build(cls: type[discord.Client], intents: discord.Intents = INTENTS, **kwargs: Any) -> Any:
    """A client (``cls``) with /ping, /slow and /edit commands and recording handlers."""

    class Bot(cls):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            # guild_ready_timeout: on_ready waits this long after the last GUILD_CREATE.
            super().__init__(intents=intents, guild_ready_timeout=0.05, **kwargs)
            self.tree = app_commands.CommandTree(self)
            self.ready = asyncio.Event()
            self.seen: list[discord.Message] = []
            self.interaction_types: list[discord.InteractionType] = []
            self.perms: list[bool] = []
            self.original: discord.InteractionMessage | None = None
            self.edited = asyncio.Event()

            @self.tree.command(description="Answers pong")
            async def ping(interaction: discord.Interaction, text: str) -> None:
                self.perms.append(interaction.permissions.manage_guild)
                await interaction.response.send_message(f"pong: {text}")

            @self.tree.command(description="Answers late")
            async def slow(interaction: discord.Interaction) -> None:
                await interaction.response.defer(thinking=True)
                await interaction.followup.send("done")

            @self.tree.command(description="Answers, then edits the answer")
            async def edit(interaction: discord.Interaction) -> None:
                await interaction.response.send_message("first")
                await interaction.edit_original_response(content="second")
                self.original = await interaction.original_response()
                self.edited.set()

        async def on_ready(self) -> None:
            self.ready.set()

        async def on_message(self, message: discord.Message) -> None:
            if message.author.bot:  # the fake echoes the bot's own sends, like Discord
                return
            self.seen.append(message)
            if message.content == "!button":
                view = discord.ui.View(timeout=None)
                button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
                    label="Join", custom_id="join:1"
                )

                async def joined(interaction: discord.Interaction) -> None:
                    await interaction.response.send_message("joined", ephemeral=True)

                button.callback = joined  # type: ignore[method-assign]
                view.add_item(button)
                await message.channel.send("Press it", view=view)
            else:
                await message.channel.send(
                    f"echo <@{message.author.id}>: {message.content}",
                    allowed_mentions=discord.AllowedMentions.none(),
                )

        async def on_interaction(self, interaction: discord.Interaction) -> None:
            self.interaction_types.append(interaction.type)

    return Bot()


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme Fans", owner_id=OWNER)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_member(GUILD, OWNER, "olga")
        fake.add_member(GUILD, ADMIN, "alice", global_name="Alice", manage_guild=True)
        fake.add_member(GUILD, USER, "bob")
        with fake.patch_discord():
            yield fake


Starter = Callable[..., Awaitable[Any]]


@pytest.fixture
async def start_bot(fake: FakeDiscord) -> AsyncIterator[Starter]:
    """Starts clients against the fake and waits for on_ready; closes them all afterwards."""
    started: list[tuple[discord.Client, asyncio.Task[None]]] = []

    async def start(cls: type[discord.Client] = discord.Client, **kwargs: Any) -> Any:
        bot = build(cls, **kwargs)
        started.append((bot, asyncio.create_task(bot.start("fake-token"))))
        await asyncio.wait_for(bot.ready.wait(), 10)
        return bot

    yield start
    for bot, task in started:
        await bot.close()
        await asyncio.wait_for(task, 10)


async def test_login_ready_and_guild_cache(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    await fake.wait_for_ready()
    assert [c.path for c in fake.calls[:2]] == ["/users/@me", "/oauth2/applications/@me"]
    identify = next(f for f in fake.gateway_log if f["op"] == 2)
    assert identify["d"]["intents"] == INTENTS.value
    assert bot.user.id == BOT_ID and bot.application_id == APP_ID
    guild = bot.get_guild(GUILD)
    assert guild is not None and guild.name == "Acme Fans" and guild.member_count == 4
    assert [c.name for c in guild.text_channels] == ["general"]
    admin, user = guild.get_member(ADMIN), guild.get_member(USER)
    assert admin is not None and user is not None and admin.display_name == "Alice"
    assert admin.guild_permissions.manage_guild and not user.guild_permissions.manage_guild
    assert guild.get_member(OWNER).guild_permissions.administrator  # type: ignore[union-attr]
    assert guild.me.guild_permissions.send_messages


async def test_sync_and_slash_command(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    synced = await bot.tree.sync()
    assert {c.name for c in synced} == {"ping", "slow", "edit"}
    put = next(c for c in fake.calls if c.method == "PUT")
    assert put.path == f"/applications/{APP_ID}/commands"
    assert {c["name"] for c in put.json} == {"ping", "slow", "edit"}
    assert [c.id for c in await bot.tree.fetch_commands()] == [c.id for c in synced]

    inter = await fake.slash_command(GUILD, CHANNEL, ADMIN, "ping", {"text": "hi"})
    msg = await fake.wait_for_message()
    assert inter.payload["data"]["id"] == str(next(c.id for c in synced if c.name == "ping"))
    assert inter.responses[0]["type"] == 4 and not msg.ephemeral
    assert (msg.kind, msg.where, msg.content) == ("response", inter.id, "pong: hi")
    await fake.slash_command(GUILD, CHANNEL, USER, "ping", {"text": "again"})
    await fake.wait_for_message(2)
    assert bot.perms == [True, False]  # interaction.permissions from the member's roles

    # Guild commands: the interaction carries data.guild_id, which the tree looks them up by.
    bot.tree.copy_global_to(guild=discord.Object(GUILD))
    bot.tree.clear_commands(guild=None)
    await bot.tree.sync(guild=discord.Object(GUILD))
    assert {c["name"] for c in fake.commands[GUILD]} == {"ping", "slow", "edit"}
    inter = await fake.slash_command(GUILD, CHANNEL, USER, "ping", {"text": "guild"})
    assert inter.payload["data"]["guild_id"] == str(GUILD)
    assert (await fake.wait_for_message(3)).content == "pong: guild"


async def test_edit_and_fetch_original(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    inter = await fake.slash_command(GUILD, CHANNEL, USER, "edit")
    edited = await fake.wait_for_message(2)
    assert (edited.kind, edited.where, edited.content) == ("original_edit", inter.id, "second")
    await asyncio.wait_for(bot.edited.wait(), 10)
    assert bot.original is not None and bot.original.content == "second"


async def test_deferred_then_followup(fake: FakeDiscord, start_bot: Starter) -> None:
    await start_bot()
    fake.throttle("POST", f"/webhooks/{APP_ID}/")  # the webhook adapter retries 429s too
    inter = await fake.slash_command(GUILD, CHANNEL, USER, "slow")
    msg = await fake.wait_for_message()
    assert inter.responses[0]["type"] == 5
    assert (msg.kind, msg.where, msg.content) == ("followup", inter.id, "done")
    webhook = [c.status for c in fake.calls if c.path == f"/webhooks/{APP_ID}/{inter.token}"]
    assert webhook == [429, 200]


async def test_on_message_reply_and_dm(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    await fake.send_message(CHANNEL, USER, "hello <@1001>")
    reply = await fake.wait_for_message()
    seen = bot.seen[0]
    assert seen.content == "hello <@1001>" and seen.guild.id == GUILD
    assert [u.id for u in seen.mentions] == [BOT_ID] and seen.author.id == USER
    assert (reply.kind, reply.where) == ("channel", CHANNEL)
    assert reply.content == f"echo <@{USER}>: hello <@1001>"
    assert reply.allowed_mentions == {"parse": []}

    dm = fake.open_dm(USER)
    await fake.send_message(dm, USER, "psst")
    reply = await fake.wait_for_message(2)
    assert bot.seen[1].guild is None and isinstance(bot.seen[1].channel, discord.DMChannel)
    assert (reply.where, reply.content) == (dm, f"echo <@{USER}>: psst")


async def test_button_press_ephemeral(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    await fake.send_message(CHANNEL, USER, "!button")
    sent = await fake.wait_for_message()
    assert sent.components == [{"custom_id": "join:1", "label": "Join", "type": 2}]
    inter = await fake.press_button(GUILD, CHANNEL, USER, "join:1")
    assert inter.payload["message"]["id"] == str(sent.message_id)
    answer = await fake.wait_for_message(2)
    assert (answer.where, answer.content, answer.flags) == (inter.id, "joined", 64)
    assert bot.interaction_types == [discord.InteractionType.component]


async def test_throttled_send_is_retried_once(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    fake.throttle("POST", f"/channels/{CHANNEL}/messages", times=1, retry_after=0.05)
    await bot.get_channel(CHANNEL).send("hello")
    statuses = [c.status for c in fake.calls if c.path == f"/channels/{CHANNEL}/messages"]
    assert statuses == [429, 200]
    assert [m.content for m in fake.messages] == ["hello"]


async def test_validation_404_and_content_type(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    with pytest.raises(discord.HTTPException) as err:
        await bot.get_channel(CHANNEL).send("x" * 2001)
    assert err.value.status == 400 and err.value.code == 50035
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{fake.base_url}/api/v10/users/@me") as resp:
            assert resp.headers["Content-Type"] == "application/json"
        async with http.get(f"{fake.base_url}/api/v10/nowhere") as resp:
            assert resp.status == 404
            assert await resp.json() == {"message": "404: Not Found", "code": 0}
    assert [c.path for c in fake.misses] == ["/nowhere"]
    # Uploads are multipart; the fake reads their payload_json.
    await bot.get_channel(CHANNEL).send("see file", file=discord.File(io.BytesIO(b"x"), "a.txt"))
    assert [m.content for m in fake.messages] == ["see file"]
    assert discord.webhook.async_.Route is discord.http.Route  # webhooks share the patched BASE


async def test_resume_after_reconnect(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot()
    await fake.request_reconnect()
    await fake.wait_for(lambda: fake.resumes == 1)
    await fake.slash_command(GUILD, CHANNEL, USER, "ping", {"text": "still here"})
    assert (await fake.wait_for_message()).content == "pong: still here"
    assert bot.get_guild(GUILD) is not None


async def test_autosharded_client(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot(discord.AutoShardedClient, shard_count=1)
    identify = next(f for f in fake.gateway_log if f["op"] == 2)
    assert identify["d"]["shard"] == [0, 1] and bot.shard_count == 1
    assert bot.get_guild(GUILD).get_member(ADMIN) is not None
    await fake.send_message(CHANNEL, USER, "sharded")
    assert (await fake.wait_for_message()).content == f"echo <@{USER}>: sharded"


async def test_message_content_needs_the_intent(fake: FakeDiscord, start_bot: Starter) -> None:
    bot = await start_bot(intents=discord.Intents(guilds=True, messages=True))
    await fake.send_message(CHANNEL, USER, "secret")
    await fake.send_message(CHANNEL, USER, "<@1001> hi")
    await fake.wait_for_message(2)
    assert [m.content for m in bot.seen] == ["", "<@1001> hi"]  # mentions keep content


async def test_a_reply_carries_the_message_it_answers(
    fake: FakeDiscord, start_bot: Starter
) -> None:
    bot = await start_bot()
    await fake.send_message(CHANNEL, USER, "hello")
    echo = await fake.wait_for_message()
    await fake.send_message(CHANNEL, USER, "thanks", reply_to=echo.message_id)
    await fake.send_message(CHANNEL, USER, "thanks again", reply_to=echo.message_id, ping=True)
    await fake.wait_for(lambda: len(bot.seen) == 3)
    quiet, pinging = bot.seen[1:]
    assert quiet.type is discord.MessageType.reply and quiet.reference is not None
    resolved = quiet.reference.resolved
    assert isinstance(resolved, discord.Message) and resolved.author.id == BOT_ID
    assert quiet.mentions == [] and [user.id for user in pinging.mentions] == [BOT_ID]


async def test_a_revoked_token_closes_the_gateway_with_4004_and_rest_answers_401(
    fake: FakeDiscord,
) -> None:
    client = build(discord.Client)
    running = asyncio.create_task(client.start("fake-token"))
    await asyncio.wait_for(client.ready.wait(), 10)
    await fake.revoke_token()
    with pytest.raises(discord.ConnectionClosed) as closed:
        await asyncio.wait_for(running, 10)
    assert closed.value.code == 4004
    again = build(discord.Client)
    with pytest.raises(discord.LoginFailure):
        await again.login("fake-token")
    await again.close()


async def test_user_options_autocomplete_and_refused_definitions(
    fake: FakeDiscord, start_bot: Starter
) -> None:
    bot = await start_bot()

    @bot.tree.command(description="Gives points")
    async def give(
        interaction: discord.Interaction, member: discord.User, amount: app_commands.Range[int, 1]
    ) -> None:
        await interaction.response.send_message(f"{member.name} ({member.id}) {amount}")

    @give.autocomplete("amount")
    async def amounts(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return [app_commands.Choice(name=f"five ({current})", value=5)]

    await bot.tree.sync()
    # A user option: the id as its value, the user resolved alongside (discord.py reads it).
    inter = await fake.slash_command(
        GUILD, CHANNEL, ADMIN, "give", {"amount": 5}, users={"member": USER}
    )
    assert (await fake.wait_for_message()).content == f"bob ({USER}) 5"
    assert inter.payload["data"]["options"][0] == {"name": "member", "type": 6, "value": str(USER)}
    # Autocomplete: the focused option's value is what is typed, a string; choices come back.
    asked = await fake.autocomplete(GUILD, CHANNEL, ADMIN, "give", "amount", "5")
    await fake.wait_for(lambda: bool(asked.responses))
    assert asked.responses == [{"type": 8, "data": {"choices": [{"name": "five (5)", "value": 5}]}}]
    # Discord's checks on definitions: a name with capitals, a required option after an
    # optional one, limits on a text option.
    option = {"name": "x", "description": "x", "type": 3}
    bad = [
        {"name": "Give", "description": "x"},
        {"name": "give", "description": "x",
         "options": [option, {**option, "name": "y", "required": True}]},
        {"name": "give", "description": "x", "options": [{**option, "min_value": 1}]},
    ]  # fmt: skip
    for command in bad:
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.bulk_upsert_global_commands(APP_ID, payload=[command])
        assert (refused.value.status, refused.value.code) == (400, 50035)


async def test_user_commands_modals_and_their_submits(
    fake: FakeDiscord, start_bot: Starter
) -> None:
    bot = await start_bot()
    submitted: list[dict[str, str | None]] = []

    class Thanks(discord.ui.Modal, title="Thank a member"):
        words = discord.ui.Label(text="Why", component=discord.ui.TextInput(custom_id="why"))

        async def on_submit(self, interaction: discord.Interaction) -> None:
            assert isinstance(self.words.component, discord.ui.TextInput)
            submitted.append({"why": self.words.component.value})
            await interaction.response.send_message("thanked", ephemeral=True)

    @bot.tree.context_menu(name="Thank them")
    async def thank(interaction: discord.Interaction, member: discord.User) -> None:
        await interaction.response.send_modal(Thanks(custom_id=f"thanks:{member.id}"))

    await bot.tree.sync()
    [menu] = [c for c in fake.commands[None] if c["type"] == 2]
    assert (menu["name"], menu["description"]) == ("Thank them", "")
    # A right-click: discord.py finds the menu and its target, and opens the modal.
    inter = await fake.user_command(GUILD, CHANNEL, ADMIN, "Thank them", USER)
    await fake.wait_for(lambda: bool(inter.responses))
    [response] = inter.responses
    assert response["type"] == 9
    assert response["data"]["custom_id"] == f"thanks:{USER}"
    [label] = response["data"]["components"]
    assert (label["type"], label["label"], label["component"]["custom_id"]) == (18, "Why", "why")
    # The submit reaches the modal's on_submit with what was typed; it is answered.
    done = await fake.submit_modal(GUILD, CHANNEL, ADMIN, f"thanks:{USER}", {"why": "kind"})
    assert (await fake.wait_for_message()).ephemeral
    assert submitted == [{"why": "kind"}]
    assert done.payload["type"] == 5
    # Discord refuses a context menu with a description or a name over 32 characters.
    bad = [{"name": "x" * 33, "type": 2}, {"name": "Thank", "type": 2, "description": "x"}]
    for command in bad:
        with pytest.raises(discord.HTTPException) as refused:
            await bot.http.bulk_upsert_global_commands(APP_ID, payload=[command])
        assert (refused.value.status, refused.value.code) == (400, 50035)


# Sending as a sender meets it: limits, nonces, refusals, failures ----------------------------


async def post_message(
    http: aiohttp.ClientSession, fake: FakeDiscord, channel: int, **body: Any
) -> tuple[int, dict[str, str], Any]:
    """A raw POST of a message, as discord.py sends it; (status, headers, JSON body)."""
    url = f"{fake.base_url}/api/v10/channels/{channel}/messages"
    async with http.post(url, json={"content": "hi", **body}) as resp:
        return resp.status, dict(resp.headers), await resp.json()


@pytest.fixture
async def limited() -> AsyncIterator[FakeDiscord]:
    """Acme Fans with two channels, Discord's limits kept: 2 messages a channel per 0.2 s, 4
    requests in all per 0.2 s."""
    limits = FakeLimits(per_channel=2, channel_seconds=0.2, overall=4, overall_seconds=0.2)
    async with FakeDiscord(limits=limits) as fake:
        fake.add_guild(GUILD, "Acme Fans", owner_id=OWNER)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_channel(GUILD, CHANNEL + 1, "news")
        yield fake


async def test_limits_answer_429_as_discord_does(limited: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        statuses = [(await post_message(http, limited, CHANNEL))[0] for _ in range(2)]
        status, headers, body = await post_message(http, limited, CHANNEL)
        assert statuses == [200, 200] and status == 429
        assert 0 < body["retry_after"] <= 0.2 and body["global"] is False
        assert headers["Via"] and headers["X-RateLimit-Scope"] == "user"
        assert float(headers["Retry-After"]) == body["retry_after"]
        # Another channel has a bucket of its own; the bot's overall limit holds for all.
        assert (await post_message(http, limited, CHANNEL + 1))[0] == 200
        assert (await post_message(http, limited, CHANNEL + 1))[0] == 200
        status, headers, body = await post_message(http, limited, CHANNEL + 1)
        assert status == 429 and body["global"] is True
        assert (headers["X-RateLimit-Global"], headers["X-RateLimit-Scope"]) == ("true", "global")
    assert (limited.throttled, limited.throttled_global) == (2, 1)
    assert len(limited.accepted) == 4


async def test_a_messages_bucket_is_told_in_its_headers(limited: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        _, first, _ = await post_message(http, limited, CHANNEL)
        _, second, _ = await post_message(http, limited, CHANNEL)
    assert (first["X-RateLimit-Limit"], first["X-RateLimit-Remaining"]) == ("2", "1")
    assert second["X-RateLimit-Remaining"] == "0"
    assert 0 < float(second["X-RateLimit-Reset-After"]) <= 0.2


async def test_a_nonce_enforced_gets_the_first_message_back(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as http:
        _, _, first = await post_message(http, fake, CHANNEL, nonce="o1-0", enforce_nonce=True)
        _, _, again = await post_message(http, fake, CHANNEL, nonce="o1-0", enforce_nonce=True)
        # Not enforced, or in another channel: a message of its own.
        _, _, loose = await post_message(http, fake, CHANNEL, nonce="o1-0")
        fake.add_channel(GUILD, CHANNEL + 1, "news")
        _, _, other = await post_message(http, fake, CHANNEL + 1, nonce="o1-0", enforce_nonce=True)
    assert again == first and first["nonce"] == "o1-0"
    assert len({first["id"], loose["id"], other["id"]}) == 3
    assert fake.deduplicated == 1
    assert [(m.channel, m.nonce) for m in fake.accepted] == [
        (CHANNEL, "o1-0"),
        (CHANNEL, "o1-0"),
        (CHANNEL + 1, "o1-0"),
    ]


async def test_a_refused_channel_and_a_failing_one(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, CHANNEL + 1, "news")
    fake.refuse(CHANNEL)
    fake.fail(CHANNEL + 1, times=2, status=502, accept=True)
    async with aiohttp.ClientSession() as http:
        status, _, body = await post_message(http, fake, CHANNEL)
        assert (status, body["code"], body["message"]) == (403, 50001, "Missing Access")
        failed = [(await post_message(http, fake, CHANNEL + 1))[0] for _ in range(3)]
    assert failed == [502, 502, 200]
    # Posted each time, though the first two answers never said so.
    assert fake.sent_in(CHANNEL + 1) == ["hi", "hi", "hi"] and fake.sent_in(CHANNEL) == []


async def test_interactions_answered_too_late(fake: FakeDiscord, start_bot: Starter) -> None:
    await start_bot()
    fake.too_late = True
    inter = await fake.slash_command(GUILD, CHANNEL, USER, "ping", {"text": "hi"})
    callback = f"/interactions/{inter.id}/{inter.token}/callback"
    await fake.wait_for(lambda: any(c.path == callback for c in fake.calls))
    [call] = [c for c in fake.calls if c.path == callback]
    assert call.status == 404 and inter.responses == []

"""The rewards shop through the real core: members browse, redeem with a button and see their
redemptions; admins keep the catalogue, import coupon codes, refund and send gifts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from handlers.router import Dispatcher
from storage.schema import audit_log, balances, coupon_codes, ledger, members, redemptions, rewards
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, Said, ledger_state, member_id, posted, rows


@pytest.fixture
def dm(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """Alice's private chat with the bot."""
    return Chat(dispatcher, clock, chat_id="alice", private=True)


@pytest.fixture
def boss_dm(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """The admin's private chat with the bot: where coupon codes are imported."""
    return Chat(dispatcher, clock, chat_id="boss", private=True)


async def _funded(chat: Chat, who: str = "alice", points: int = 1000) -> None:
    await chat.say(who, "/start")
    said = await chat.say("boss", f"/award @{who} {points}")
    assert said.outcome.reply is not None and said.outcome.reply.template == "points/awarded"


async def _redeem(chat: Chat, who: str, number: int) -> Said:
    # A confirmation is named by its second: asks in one second are one (a double tap).
    chat.now += timedelta(seconds=1)
    asked = await chat.say(who, f"/redeem {number}")
    assert asked.outcome.reply is not None and asked.outcome.reply.choices, asked.text
    return await chat.press(who, asked.button(0))


def _balance(store: Store, who: str = "alice") -> int:
    return ledger_state(store, "console", who)[0]


async def test_a_member_sees_the_catalogue_with_their_balance(chat: Chat) -> None:
    await _funded(chat, points=300)
    await chat.say("boss", "/reward add Coffee mug cost=200 stock=5 | A mug with our logo")
    await chat.say("boss", "/reward add Big TV cost=5000 kind=gift")
    said = await chat.say("alice", "/rewards")
    assert said.text is not None
    assert "you have 300 points" in said.text
    assert "#1 Coffee mug — 200 points · gift · 5 left" in said.text
    assert "A mug with our logo" in said.text
    assert "#2 Big TV — 5,000 points · gift · unlimited (4,700 more points needed)" in said.text


async def test_redeeming_asks_first_then_the_button_pays_once(chat: Chat, store: Store) -> None:
    await _funded(chat, points=500)
    await chat.say("boss", "/reward add Coffee mug cost=200 stock=5")
    asked = await chat.say("alice", "/redeem 1")
    assert asked.text is not None and "for 200 points? You have 500; 300 will be left" in asked.text
    assert _balance(store) == 500  # asking changes nothing
    done = await chat.press("alice", asked.button(0))
    assert done.text is not None and "Redeemed Coffee mug for 200 points" in done.text
    again = await chat.press("alice", asked.button(0))
    assert again.text is not None and "done already" in again.text
    assert _balance(store) == 300
    assert [r.stock for r in rows(store, rewards)] == [4]
    assert [(r.delta, r.reason) for r in rows(store, ledger)][-1] == (-200, "redeem")
    assert [r.state for r in rows(store, redemptions)] == ["pending"]  # a gift


async def test_an_expired_button_changes_nothing(chat: Chat, store: Store) -> None:
    await _funded(chat, points=500)
    await chat.say("boss", "/reward add Mug cost=200")
    asked = await chat.say("alice", "/redeem 1")
    chat.now += timedelta(minutes=6)  # shop.confirm_minutes is 5
    pressed = await chat.press("alice", asked.button(0))
    assert pressed.text == "That confirmation has expired. Send /redeem 1 again for a new one."
    assert _balance(store) == 500 and rows(store, redemptions) == []


async def test_refusals_are_polite_and_change_nothing(chat: Chat, store: Store) -> None:
    await _funded(chat, points=300)
    await chat.say("boss", "/reward add Mug cost=200 stock=0")
    await chat.say("boss", "/reward add Jacket cost=100 tier=Gold")
    await chat.say("boss", "/reward add Cap cost=500")
    await chat.say("boss", "/reward add Secret cost=10 hidden=yes")
    await chat.say("boss", "/reward add Party cost=10 window=member_day")
    await chat.say("boss", "/reward add Pin cost=10 per_member=1 per_period=day")
    said = {n: (await chat.say("alice", f"/redeem {n}")).text for n in range(1, 8)}
    assert said[1] == "Sorry, Mug is sold out. Nothing was changed."
    assert said[2] == "Jacket is for Gold members and above. Nothing was changed."
    assert said[3] == "Cap costs 500 points, and you have 300. Nothing was changed."
    assert said[4] == "There is no reward #4. See /rewards for what there is."
    assert said[5] is not None and "only be redeemed on member day" in said[5]
    assert said[7] == "There is no reward #7. See /rewards for what there is."
    await _redeem(chat, "alice", 6)
    second = await chat.say("alice", "/redeem 6")
    assert second.text is not None and "at most 1 a day" in second.text
    chat.now += timedelta(days=1)
    assert (await _redeem(chat, "alice", 6)).text is not None
    assert _balance(store) == 280
    assert len(rows(store, redemptions)) == 2


async def test_member_day_rewards_open_on_member_day(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    # T0 is Monday 09:00 in Shanghai: a member day every Monday from 00:00 is on now.
    reconfigure(store, extra='[member_day]\nenabled = true\nwhen = "mon 00:00"\nhours = 24\n')
    chat = Chat(dispatcher, clock)
    await _funded(chat, points=100)
    await chat.say("boss", "/reward add Party cost=10 window=member_day")
    assert "Redeemed Party" in ((await _redeem(chat, "alice", 1)).text or "")


async def test_a_coupon_code_goes_privately_and_to_one_redeemer_only(
    chat: Chat, dm: Chat, boss_dm: Chat, store: Store
) -> None:
    await _funded(chat, points=1000)
    await chat.say("boss", "/reward add Voucher cost=100 kind=coupon")
    imported = await boss_dm.deliver(
        replace(
            boss_dm.event("boss", "/reward codes 1"),
            file_name="codes.csv",
            file_text="code,value\nAAA-1,10\n\nBBB-2,10\nAAA-1,10\n",
        )
    )
    assert imported.text == (
        "🎟️ #1 Voucher: 2 codes added, 2 skipped (blank, repeated, unreadable, too long or known)."
        " 2 codes are now available."
    )
    in_group = await _redeem(chat, "alice", 1)
    assert in_group.text is not None and "AAA-1" not in in_group.text
    assert "sent to you in a private message" in in_group.text
    assert [text for _, text in posted(store, kind="direct") if "AAA-1" in text]
    in_private = await _redeem(dm, "alice", 1)
    assert in_private.outcome.reply is not None
    assert in_private.text is not None and "Your code: BBB-2" in in_private.text
    sold_out = await dm.say("alice", "/redeem 1")
    assert sold_out.text == "Sorry, Voucher is sold out. Nothing was changed."
    typed = await boss_dm.say("boss", "/reward codes 1 CCC-3, AAA-1")
    assert typed.text is not None and "1 code added, 1 skipped" in typed.text
    listed = await dm.say("alice", "/redemptions")
    assert listed.text is not None and "code BBB-2" in listed.text and "code AAA-1" in listed.text
    in_public = await chat.say("alice", "/redemptions")
    assert in_public.text is not None and "AAA-1" not in in_public.text


async def test_a_refund_gives_points_and_stock_back_once_and_never_a_code_again(
    chat: Chat, boss_dm: Chat, store: Store
) -> None:
    await _funded(chat, points=1000)
    await chat.say("boss", "/reward add Mug cost=200 stock=3")
    await chat.say("boss", "/reward add Voucher cost=100 kind=coupon")
    await boss_dm.say("boss", "/reward codes 2 ONLY-1")
    await _redeem(chat, "alice", 1)
    await _redeem(chat, "alice", 2)
    assert _balance(store) == 700
    said = await chat.say("boss", "/refund 1 broken on arrival")
    assert said.text == (
        "↩️ Redemption #1 (Mug, alice) refunded: 200 points back, balance now 900."
        " Reason: broken on arrival"
    )
    again = await chat.say("boss", "/refund 1")
    assert again.text == "Redemption #1 was refunded already. Nothing was changed."
    await chat.say("boss", "/refund 2")
    assert _balance(store) == 1000
    assert ledger_state(store, "console", "alice") == (1000, 1000)
    assert [r.stock for r in rows(store, rewards)] == [3, 0]  # the shown code stays spent
    assert [r.redemption_id for r in rows(store, coupon_codes)] == [2]
    assert [r.action for r in rows(store, audit_log)].count("reward_refund") == 2
    assert any("was refunded" in text for _, text in posted(store, kind="direct"))


async def test_gifts_wait_until_an_admin_sends_them(chat: Chat, store: Store) -> None:
    await _funded(chat, points=1000)
    await chat.say("boss", "/reward add Hoodie cost=300")
    await _redeem(chat, "alice", 1)
    waiting = await chat.say("boss", "/gifts")
    assert waiting.text is not None and "Hoodie for alice" in waiting.text
    done = await chat.say("boss", "/fulfil 1")
    assert done.text == "📦 Redemption #1 (Hoodie for alice) marked sent; they were told."
    assert any("on its way" in text for _, text in posted(store, kind="direct"))
    assert (await chat.say("boss", "/gifts")).text == "📦 No gifts are waiting to be sent."
    twice = await chat.say("boss", "/fulfil 1")
    assert twice.text == "Redemption #1 is no gift waiting to be sent (it is sent)."
    members_only = await chat.say("alice", "/fulfil 1")
    assert members_only.outcome.reply is not None
    assert members_only.outcome.reply.template == "common/admins_only"


async def test_titles_make_up_cards_and_tickets_are_delivered(chat: Chat, store: Store) -> None:
    await _funded(chat, points=1000)
    await chat.say("boss", "/reward add Star title cost=100 kind=digital value=Superstar")
    await chat.say("boss", "/reward add Card cost=50 kind=makeup")
    await chat.say("boss", "/reward add Ticket cost=10 kind=entry")
    assert "Your new title: Superstar" in ((await _redeem(chat, "alice", 1)).text or "")
    assert "make-up card" in ((await _redeem(chat, "alice", 2)).text or "")
    assert "lottery ticket is #3" in ((await _redeem(chat, "alice", 3)).text or "")
    alice = member_id(store, "console", "alice")
    assert [m.title for m in rows(store, members) if m.id == alice] == ["Superstar"]
    assert [b.makeup_cards for b in rows(store, balances) if b.member_id == alice] == [1]
    assert [r.state for r in rows(store, redemptions)] == ["delivered"] * 3


async def test_admins_edit_stock_and_hide_with_an_audit(chat: Chat, store: Store) -> None:
    await chat.say("boss", "/reward add Mug cost=200 stock=5")
    edited = await chat.say("boss", "/reward edit 1 Big mug cost=250 per_member=2 per_period=month")
    assert (
        edited.text
        == "✅ Saved: #1 Big mug — 250 points · gift · 5 left · at most 2 a month per member"
    )
    stocked = await chat.say("boss", "/reward stock 1 unlimited")
    assert stocked.text is not None and "unlimited" in stocked.text
    hidden = await chat.say("boss", "/reward hide 1")
    assert hidden.text is not None and hidden.text.startswith("🙈 Hidden from members: #1 Big mug")
    listed = await chat.say("boss", "/reward")
    assert listed.text is not None and "· hidden" in listed.text
    assert "No rewards yet" in ((await chat.say("alice", "/rewards")).text or "")
    bad = await chat.say("boss", "/reward edit 1 cost=lots")
    assert (
        bad.text
        == "I don't understand cost=lots. Nothing was changed. See /reward for the settings."
    )
    actions = [r.action for r in rows(store, audit_log) if r.action.startswith("reward_")]
    assert actions == ["reward_add", "reward_edit", "reward_stock", "reward_hide"]
    coupon = await chat.say("boss", "/reward add V cost=1 kind=coupon")
    assert coupon.text is not None and "/reward codes 2" in coupon.text
    refused = await chat.say("boss", "/reward stock 2 10")
    assert refused.text is not None and "its unused codes" in refused.text


async def test_the_shop_speaks_chinese(store: Store, dispatcher: Dispatcher, clock: Clock) -> None:
    reconfigure(store, locale="zh_CN")
    chat = Chat(dispatcher, clock)
    await _funded(chat, points=300)
    await chat.say("boss", "/reward add 咖啡杯 cost=200 stock=5 tier=银卡会员")
    listed = await chat.say("alice", "/rewards")
    assert listed.text is not None and "咖啡杯" in listed.text and "银卡会员" in listed.text
    refused = await chat.say("alice", "/redeem 1")
    assert refused.text is not None and "银卡会员" in refused.text

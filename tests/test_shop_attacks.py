"""The rewards shop attacked: members forging, replaying and stealing confirmations, careless
admins with bad settings and leaked coupon codes, and the races a busy shop runs into. Every
refusal is polite and changes nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from threading import Barrier, Thread

import pytest
from sqlalchemy import Connection, func, select, update

from community import shop
from community.audit import Actor
from community.communities import Community, apply_config
from community.config import parse_config
from community.members import Member, identify
from handlers.router import Dispatcher
from handlers.types import Visibility
from loyalty import ledger, lots
from loyalty.errors import UserError
from loyalty.redemptions import Redeemed
from loyalty.reward_rules import RewardConfig
from loyalty.rewards import add_reward, import_codes, list_rewards, read_codes
from storage.engine import make_engine
from storage.schema import audit_log, balances, coupon_codes, rewards
from storage.schema import redemptions as redemptions_table
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY, reconfigure
from tests.domain.conftest import give, local
from tests.harness import Chat, Clock, Said, ledger_state, posted, rows
from tests.test_redemption_races import Shop, _add


@pytest.fixture
def racing(db_url: str) -> Iterator[Shop]:
    """The test community on two engines (two bot processes), ten members of 1,000 points."""
    engines = (
        make_engine(db_url, writer=True, pool_size=8),
        make_engine(db_url, writer=True, pool_size=8),
    )
    config, digest = parse_config(TEST_COMMUNITY)
    with engines[0].begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        member_ids = []
        for number in range(10):
            member = identify(
                conn,
                community_id=community.id,
                platform="console",
                user_id=f"m{number}",
                display_name=f"M{number}",
                username=None,
                at=T0,
            )
            ledger.post(
                conn,
                community_id=community.id,
                member_id=member.id,
                delta=1000,
                reason="award",
                key=f"seed:{member.id}",
                at=T0,
            )
            member_ids.append(member.id)
    yield Shop(engines, community, member_ids)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def boss_dm(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """The admin's private chat with the bot."""
    return Chat(dispatcher, clock, chat_id="boss", private=True)


async def _funded(chat: Chat, who: str = "alice", points: int = 1000) -> None:
    await chat.say(who, "/start")
    said = await chat.say("boss", f"/award @{who} {points}")
    assert said.outcome.reply is not None and said.outcome.reply.template == "points/awarded"


def _template(said: Said) -> str | None:
    return None if said.outcome.reply is None else said.outcome.reply.template


def _shop_state(store: Store) -> tuple[object, ...]:
    """Everything a shop command could change."""
    return (
        [tuple(r) for r in rows(store, rewards)],
        [tuple(r) for r in rows(store, redemptions_table)],
        [tuple(r) for r in rows(store, coupon_codes)],
        [(b.member_id, b.points, b.makeup_cards) for b in rows(store, balances)],
        len(rows(store, audit_log)),
    )


# Forged, stolen and stale confirmations ---------------------------------------------------------


@pytest.mark.parametrize("issued", ["999999999999", "99999999999", "1", "００１"])
async def test_a_forged_confirmation_of_any_size_is_only_expired(
    chat: Chat, store: Store, issued: str
) -> None:
    await _funded(chat)
    await chat.say("boss", "/reward add Mug cost=10")
    before = _shop_state(store)
    for line in (f"/redeem 1 confirm {issued}", f"/redeem 1 confirm {issued} 1 10"):
        said = await chat.press("alice", line)
        assert _template(said) == "rewards/expired", said.text
        assert said.text == "That confirmation has expired. Send /redeem 1 again for a new one."
    assert _shop_state(store) == before


async def test_someone_elses_button_in_a_group_redeems_nothing_for_the_presser(
    chat: Chat, store: Store
) -> None:
    await _funded(chat, "alice")
    await _funded(chat, "bob")
    await chat.say("boss", "/reward add Mug cost=10 stock=3")
    asked = await chat.say("alice", "/redeem 1")
    before = _shop_state(store)
    stolen = await chat.press("bob", asked.button(0))
    assert stolen.outcome.reply is not None
    assert stolen.outcome.reply.visibility is Visibility.PRIVATE  # the group hears nothing
    assert stolen.text == (
        "That button is for the member who asked for it; nothing was changed."
        " Send /redeem 1 to redeem it yourself."
    )
    assert _shop_state(store) == before
    assert ledger_state(store, "console", "bob") == (1000, 1000)
    mine = await chat.press("alice", asked.button(0))
    assert mine.text is not None and "Redeemed Mug for 10 points" in mine.text
    assert ledger_state(store, "console", "alice") == (990, 990)


async def test_a_price_raised_after_the_confirmation_is_never_charged(
    chat: Chat, store: Store
) -> None:
    await _funded(chat)
    await chat.say("boss", "/reward add Mug cost=10")
    asked = await chat.say("alice", "/redeem 1")
    assert asked.text is not None and "for 10 points" in asked.text
    await chat.say("boss", "/reward edit 1 cost=900")
    before = _shop_state(store)
    pressed = await chat.press("alice", asked.button(0))
    assert pressed.text == (
        "Reward #1 costs 900 points now, not what you were asked to confirm. Nothing was"
        " changed. Send /redeem 1 again to confirm the new price."
    )
    assert _shop_state(store) == before
    again = await chat.say("alice", "/redeem 1")
    assert "for 900 points" in (again.text or "")
    assert "Redeemed Mug for 900 points" in (
        (await chat.press("alice", again.button(0))).text or ""
    )
    assert ledger_state(store, "console", "alice") == (100, 100)


async def test_a_confirmation_pressed_twice_after_a_price_change_says_done(
    chat: Chat, store: Store
) -> None:
    await _funded(chat)
    await chat.say("boss", "/reward add Mug cost=10")
    asked = await chat.say("alice", "/redeem 1")
    await chat.press("alice", asked.button(0))
    await chat.say("boss", "/reward edit 1 cost=900")
    again = await chat.press("alice", asked.button(0))
    assert again.text is not None and "done already" in again.text
    assert ledger_state(store, "console", "alice") == (990, 990)


async def test_a_confirmation_for_a_hidden_or_foreign_reward_redeems_nothing(
    chat: Chat, store: Store
) -> None:
    await _funded(chat)
    await chat.say("boss", "/reward add Secret cost=10 hidden=yes")
    issued = int(chat.now.timestamp())
    before = _shop_state(store)
    for number in (1, 2, 999999999999):
        said = await chat.press("alice", f"/redeem {number} confirm {issued}")
        assert said.text == f"There is no reward #{number}. See /rewards for what there is."
    assert _shop_state(store) == before


async def test_the_price_and_stolen_button_refusals_speak_chinese(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    chat = Chat(dispatcher, clock)
    await _funded(chat, "alice")
    await _funded(chat, "bob")
    await chat.say("boss", "/reward add 杯子 cost=10")
    asked = await chat.say("alice", "/redeem 1")
    stolen = await chat.press("bob", asked.button(0))
    assert stolen.text is not None and "这个按钮属于发起兑换的会员" in stolen.text
    await chat.say("boss", "/reward edit 1 cost=20")
    changed = await chat.press("alice", asked.button(0))
    assert changed.text is not None and "现在需要 20 积分" in changed.text
    assert ledger_state(store, "console", "alice") == (1000, 1000)


# Careless admins ---------------------------------------------------------------------------


async def test_a_reward_added_without_a_cost_is_refused(chat: Chat, store: Store) -> None:
    await chat.say("boss", "/start")
    before = _shop_state(store)
    for line in ("/reward add Mug", "/reward add Mug stock=5 | a mug", "/reward add 杯子 库存=5"):
        said = await chat.say("boss", line)
        assert _template(said) == "rewards/admin_usage", said.text
    assert _shop_state(store) == before
    assert "cost=500" in ((await chat.say("boss", "/reward add Mug")).text or "")


async def test_a_setting_given_twice_is_refused(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/reward add Mug cost=10 cost=10000")
    assert said.text == (
        "I don't understand cost=10000. Nothing was changed. See /reward for the settings."
    )
    assert rows(store, rewards) == []
    await chat.say("boss", "/reward add Mug cost=10")
    edited = await chat.say("boss", "/reward edit 1 stock=5 库存=500")
    assert _template(edited) == "rewards/bad_option"
    assert len(rows(store, rewards)) == 1 and rows(store, rewards)[0].stock is None
    audited = [r.action for r in rows(store, audit_log) if r.action.startswith("reward_")]
    assert audited == ["reward_add"]  # the one add, no edit


async def test_a_colon_in_a_name_is_part_of_the_name_and_a_mistyped_setting_is_not(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("boss", "/reward add Ticket Time:10am cost=10")
    assert said.text is not None and "#1 Ticket Time:10am — 10 points" in said.text
    typo = await chat.say("boss", "/reward add Mug cots=10")
    assert (
        typo.text
        == "I don't understand cots=10. Nothing was changed. See /reward for the settings."
    )
    assert [r.name for r in rows(store, rewards)] == ["Ticket Time:10am"]


@pytest.mark.parametrize("attached", [False, True])
async def test_codes_sent_in_a_group_are_never_imported(
    chat: Chat, store: Store, attached: bool
) -> None:
    await chat.say("boss", "/reward add Voucher cost=10 kind=coupon")
    before = _shop_state(store)
    event = chat.event("boss", "/reward codes 1" + ("" if attached else " SECRET-1 SECRET-2"))
    if attached:
        event = replace(event, file_name="codes.csv", file_text="SECRET-1\nSECRET-2\n")
    said = await chat.deliver(event)
    assert said.text is not None and said.text.startswith("Nothing was imported: codes sent in")
    assert "/reward codes 1" in said.text
    assert _shop_state(store) == before  # no code, no stock, no audit line


async def test_codes_in_a_group_are_refused_in_chinese_too(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    chat = Chat(dispatcher, clock)
    await chat.say("boss", "/reward add 券 cost=10 kind=coupon")
    said = await chat.say("boss", "/reward codes 1 SECRET-1")
    assert said.text is not None and said.text.startswith("未导入任何券码")
    assert rows(store, coupon_codes) == []


async def test_codes_sent_privately_are_imported_and_never_shown_in_the_group(
    chat: Chat, boss_dm: Chat, store: Store
) -> None:
    await _funded(chat)
    await chat.say("boss", "/reward add Voucher cost=10 kind=coupon")
    imported = await boss_dm.say("boss", '/reward codes 1 =HYPERLINK("x") PLAIN-2')
    assert imported.text is not None and "2 codes added" in imported.text
    asked = await chat.say("alice", "/redeem 1")
    done = await chat.press("alice", asked.button(0))
    said_in_group = [
        text
        for text in [done.text or "", (await chat.say("alice", "/redemptions")).text or ""]
        + [(await chat.say("boss", line)).text or "" for line in ("/gifts", "/refund 1", "/reward")]
    ]
    assert not any("HYPERLINK" in text for text in said_in_group)
    direct = [text for _, text in posted(store, kind="direct") if "HYPERLINK" in text]
    assert len(direct) == 1 and "Your code for Voucher" in direct[0]
    audits = " ".join(str(r.details) for r in rows(store, audit_log))
    assert "HYPERLINK" not in audits and "PLAIN-2" not in audits


def test_binary_and_control_characters_are_no_codes() -> None:
    assert read_codes("\x01\x02garbage\xff\nGOOD-1\nA\u2028B\n") == ["", "GOOD-1", ""]
    assert read_codes("\ufeffcode\r\nX-1\r\n\r\nX-2\r\n") == ["X-1", "", "X-2"]


async def test_unreadable_and_too_long_codes_are_skipped_and_said(
    chat: Chat, boss_dm: Chat, store: Store
) -> None:
    await chat.say("boss", "/reward add Voucher cost=10 kind=coupon")
    text = "\x01\x02junk\n" + "x" * 201 + "\n" + "y" * 200 + "\nOK-1\nOK-1\n"
    event = replace(boss_dm.event("boss", "/reward codes 1"), file_name="c.csv", file_text=text)
    said = await boss_dm.deliver(event)
    assert said.text == (
        "🎟️ #1 Voucher: 2 codes added, 3 skipped (blank, repeated, unreadable, too long or"
        " known). 2 codes are now available."
    )
    assert sorted(len(r.code) for r in rows(store, coupon_codes)) == [4, 200]


@pytest.mark.parametrize(
    ("locale", "reason", "words"),
    [
        ("en", "not_text", "it is not a UTF-8 text or CSV file"),
        ("en", "too_big", "it is too big"),
        ("zh_CN", "not_text", "不是 UTF-8 文本或 CSV 文件"),
        ("zh_CN", "too_big", "文件太大"),
    ],
)
async def test_a_refused_file_is_explained_in_words(
    store: Store, dispatcher: Dispatcher, clock: Clock, locale: str, reason: str, words: str
) -> None:
    reconfigure(store, locale=locale)
    boss_dm = Chat(dispatcher, clock, chat_id="boss", private=True)
    await boss_dm.say("boss", "/reward add V cost=10 kind=coupon")
    event = replace(
        boss_dm.event("boss", "/reward codes 1"), file_name="c.csv", file_refused=reason
    )
    said = await boss_dm.deliver(event)
    assert said.text is not None and words in said.text and reason not in said.text


async def test_one_more_point_needed_is_singular(chat: Chat) -> None:
    await _funded(chat, points=9)
    await chat.say("boss", "/reward add Mug cost=10")
    said = await chat.say("alice", "/rewards")
    assert said.text is not None and "(1 more point needed)" in said.text


# Races (two engines, as two bot processes) ----------------------------------------------------


def test_codes_imported_while_a_redemption_is_open_keep_the_stock_true(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Voucher", cost=50, kind="coupon"), codes=2)
    community = racing.community
    redeeming = racing.engines[0].connect()
    open_redemption = redeeming.begin()
    shop.redeem(
        redeeming,
        community,
        member_id=racing.member_ids[0],
        reward_id=reward_id,
        issued=1,
        at=local(1, 10),
    )
    errors: list[BaseException] = []

    def importing() -> None:
        try:
            with racing.engines[1].begin() as conn:
                import_codes(
                    conn, community.id, reward_id, ["NEW-1", "NEW-2"], at=local(1, 10), limit=10
                )
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = Thread(target=importing)
    thread.start()
    thread.join(1.0)  # the import is under way, waiting or counting
    open_redemption.commit()
    redeeming.close()
    thread.join(30)
    assert not errors
    with racing.engines[0].connect() as conn:
        stock = conn.execute(select(rewards.c.stock).where(rewards.c.id == reward_id)).scalar()
        free = conn.execute(
            select(func.count())
            .select_from(coupon_codes)
            .where(coupon_codes.c.reward_id == reward_id, coupon_codes.c.redemption_id.is_(None))
        ).scalar()
    assert (stock, free) == (3, 3)


def test_the_same_codes_imported_twice_at_once_are_added_once(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Voucher", cost=50, kind="coupon"))
    codes = [f"C-{n}" for n in range(200)]
    start = Barrier(4)

    def importing(index: int) -> int:
        start.wait(30)
        with racing.engines[index % 2].begin() as conn:
            done = import_codes(conn, racing.community.id, reward_id, codes, at=local(1), limit=500)
            return done.added

    with ThreadPoolExecutor(4) as pool:
        added = sorted(pool.map(importing, range(4)))
    assert added == [0, 0, 0, 200]
    with racing.engines[0].connect() as conn:
        stock = conn.execute(select(rewards.c.stock).where(rewards.c.id == reward_id)).scalar()
    assert stock == 200


def test_two_admins_refunding_at_once_refund_once(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Mug", cost=100, stock=5))
    member = racing.member_ids[0]
    with racing.engines[0].begin() as conn:
        done = shop.redeem(
            conn, racing.community, member_id=member, reward_id=reward_id, issued=1, at=local(1)
        )
    start = Barrier(8)

    def refunding(index: int) -> str:
        start.wait(30)
        try:
            with racing.engines[index % 2].begin() as conn:
                shop.refund(
                    conn,
                    racing.community,
                    done.redemption.id,
                    "sorry",
                    actor=Actor(member_id=None, account=f"console:admin{index}"),
                    at=local(1, 11),
                )
            return "refunded"
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(8) as pool:
        outcomes = Counter(pool.map(refunding, range(8)))
    assert outcomes == {"refunded": 1, "rewards/already_refunded": 7}
    with racing.engines[0].connect() as conn:
        assert ledger.balance(conn, member) == 1000 == ledger.ledger_sum(conn, member)
        assert lots.remaining(conn, member) == 1000
        stock = conn.execute(select(rewards.c.stock).where(rewards.c.id == reward_id)).scalar()
        assert stock == 5
        refunds = conn.execute(
            select(func.count()).select_from(audit_log).where(audit_log.c.action == "reward_refund")
        ).scalar()
        assert refunds == 1


def test_a_refund_racing_the_members_redemptions_keeps_the_lots_whole(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Pin", cost=100))
    member = racing.member_ids[0]
    with racing.engines[0].begin() as conn:
        first = shop.redeem(
            conn, racing.community, member_id=member, reward_id=reward_id, issued=1, at=local(1)
        )
    start = Barrier(10)

    def acting(index: int) -> str:
        start.wait(30)
        try:
            with racing.engines[index % 2].begin() as conn:
                if index == 0:
                    shop.refund(
                        conn,
                        racing.community,
                        first.redemption.id,
                        "",
                        actor=Actor(member_id=None, account="console:boss"),
                        at=local(1, 11),
                    )
                    return "refunded"
                shop.redeem(
                    conn,
                    racing.community,
                    member_id=member,
                    reward_id=reward_id,
                    issued=100 + index,
                    at=local(1, 11),
                )
                return "redeemed"
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(10) as pool:
        outcomes = Counter(pool.map(acting, range(10)))
    # 900 left after the first, 100 back: ten more pins at most, nine asked for.
    assert outcomes == {"refunded": 1, "redeemed": 9}
    with racing.engines[0].connect() as conn:
        balance = ledger.balance(conn, member)
        assert balance == 100 == ledger.ledger_sum(conn, member) == lots.remaining(conn, member)


# The operator's file ---------------------------------------------------------------------------


def test_a_reward_removed_from_the_file_shifts_no_other_reward(
    conn: Connection, community: Community
) -> None:
    voucher = RewardConfig(name="Voucher", cost=500, kind="coupon")
    hoodie = RewardConfig(name="Hoodie", cost=3000, stock=20)
    shop.sync_file_rewards(conn, community, [voucher, hoodie], local(1))
    first, second = list_rewards(conn, community.id)
    import_codes(conn, community.id, first.id, ["C-1", "C-2"], at=local(1), limit=10)

    def catalogue() -> list[tuple[int, str, str, int | None, bool]]:
        every = list_rewards(conn, community.id, hidden=True)
        return [(r.id, r.name, r.kind, r.stock, r.hidden) for r in every]

    shop.sync_file_rewards(conn, community, [hoodie], local(2))  # the first entry deleted
    assert catalogue() == [
        (first.id, "Voucher", "coupon", 2, True),  # gone: hidden, its codes its own
        (second.id, "Hoodie", "gift", 20, False),  # the same reward, not a new one
    ]
    shop.sync_file_rewards(conn, community, [hoodie, voucher], local(3))  # back, moved down
    assert catalogue() == [
        (first.id, "Voucher", "coupon", 2, False),
        (second.id, "Hoodie", "gift", 20, False),
    ]
    renamed = RewardConfig(name="Big hoodie", cost=3000, stock=20)
    shop.sync_file_rewards(conn, community, [renamed, voucher], local(4))  # renamed in place
    assert catalogue()[1] == (second.id, "Big hoodie", "gift", 20, False)
    assert len(catalogue()) == 2


# Edges of time and tier ------------------------------------------------------------------------


def _alice(conn: Connection, community: Community) -> Member:
    return identify(
        conn,
        community_id=community.id,
        platform="telegram",
        user_id="alice",
        display_name="alice",
        username=None,
        at=local(1),
    )


def _redeem_at(
    conn: Connection, community: Community, member: int, reward: int, at: datetime
) -> Redeemed:
    return shop.redeem(
        conn, community, member_id=member, reward_id=reward, issued=int(at.timestamp()), at=at
    )


def test_a_daily_limit_turns_over_at_the_communitys_midnight(
    conn: Connection, community: Community
) -> None:
    alice = _alice(conn, community)
    give(conn, alice, 1000)
    config = RewardConfig(name="Pin", cost=10, per_member=1, per_period="day")
    pin = add_reward(conn, community.id, config, at=local(1), max_rewards=50).id
    _redeem_at(conn, community, alice.id, pin, local(1, 0, 0))  # Shanghai 00:00 (UTC 16:00)
    with pytest.raises(UserError) as refused:
        _redeem_at(conn, community, alice.id, pin, local(1, 23, 59))
    assert refused.value.key == "rewards/limit_reached"
    assert ledger.balance(conn, alice.id) == 990
    assert _redeem_at(conn, community, alice.id, pin, local(2, 0, 0)).balance == 980


def test_a_downgraded_member_may_no_longer_take_a_tier_reward(
    conn: Connection, community: Community
) -> None:
    alice = _alice(conn, community)
    give(conn, alice, 1000)
    config = RewardConfig(name="Jacket", cost=10, min_tier=1)
    jacket = add_reward(conn, community.id, config, at=local(1), max_rewards=50).id
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=1))
    _redeem_at(conn, community, alice.id, jacket, local(1))
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=0))
    with pytest.raises(UserError) as refused:
        _redeem_at(conn, community, alice.id, jacket, local(1, 10))
    assert refused.value.key == "rewards/tier_too_low"
    offered = shop.offers(conn, community, alice.id, 990, local(1, 10))
    assert [(o.reward.name, o.blocked) for o in offered] == [("Jacket", "tier")]
    assert ledger.balance(conn, alice.id) == 990

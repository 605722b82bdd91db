"""Property tests on command parsing, and on the whole core fed any text a member can type.

The pure properties exercise `handlers.parsing` directly. The last ones send arbitrary text
(emoji, RTL and zero-width characters, NUL, HTML/Markdown, template syntax, very long strings)
from members with arbitrary display names through the `chat` harness on a real database, and
read the words the bot would post.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from datetime import UTC, datetime

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from bot.app import ROUTERS
from bot.rendering import plain_text
from handlers.parsing import event_from_text, normalize_word, parse_amount, parse_command
from handlers.text import strip_invisible
from handlers.types import AccountRef, ChatRef, Event, EventKind
from storage.schema import balances, ledger
from storage.store import Store
from tests.harness import Chat, Said

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
KNOWN = {route.command for router in ROUTERS for route in router.routes} | {
    word for router in ROUTERS for route in router.routes for word in route.words
}
# The plain words some command answers to (签到, 日历, 会员日, 提醒 开 ...).
WORDS = {word for router in ROUTERS for route in router.routes for word in route.words}
CHAT = ChatRef("console", "group-1", title="group-1")
ACTOR = AccountRef("console", "42", "alice", username="alice")

command_name = st.from_regex(r"[A-Za-z0-9_]{1,32}", fullmatch=True)
bot_name = st.from_regex(r"[A-Za-z0-9_]{1,64}", fullmatch=True)
slash = st.sampled_from(["/", "／"])
# Characters that break naive text handling: NUL and other controls, zero-width and bidi
# controls, RTL script, combining marks, emoji sequences, markup and template syntax.
CONTROLS = ["\x00", "\x1b[31m", "\r", "\n", "\t", "\x7f", "\x85", "\x1f"]
INVISIBLE = ["\u200b", "\u200d", "\u200e", "\u202e", "\u2066", "\ufeff", "\u3000", "\u00a0"]
SCRIPTS = [
    "مرحبا",
    "שלום",
    "e\u0301",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "签到",
    "打卡",
    "５",
]
MARKUP = ["<b>", "</i>", "<script>", "&amp;", "*", "_", "`", "~~", "||", "[x](http://e.x)"]
SYNTAX = ["{{ 7*7 }}", "{% raw %}", "{#", "%s", "/", "@", "@everyone", "+"]
NASTY = CONTROLS + INVISIBLE + SCRIPTS + MARKUP + SYNTAX
piece = st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=5))
nasty_text = st.lists(piece, max_size=12).map("".join)
long_text = st.builds(
    lambda pieces, times: "".join(pieces) * times,
    st.lists(piece, min_size=1, max_size=6),
    st.integers(50, 600),
)
any_text = st.one_of(st.text(), nasty_text, long_text)
CONTROL_OK = {"\n", "\t"}


def controls(text: str) -> set[str]:
    """The control characters (Unicode category Cc) in `text`, except newline and tab."""
    return {ch for ch in text if unicodedata.category(ch) == "Cc" and ch not in CONTROL_OK}


# ---------------------------------------------------------------------------------------------
# parse_command / event_from_text


@given(text=any_text, bot=st.none() | bot_name)
def test_any_text_parses_without_raising_and_kind_matches_parse(text: str, bot: str | None) -> None:
    parsed = parse_command(text, bot)
    event = event_from_text(
        event_id="test:1", chat=CHAT, actor=ACTOR, text=text, occurred_at=AT, bot_username=bot
    )
    assert event.text == text
    if parsed is None:
        assert event.kind is EventKind.MESSAGE and event.command is None and event.args == ()
    else:
        assert event.kind is EventKind.COMMAND
        assert (event.command, event.arg_text) == parsed
        assert event.args == tuple(parsed[1].split())


@given(
    lead=st.sampled_from(["", " ", "\n", "\u3000"]),
    mark=slash,
    name=command_name,
    args=any_text,
)
def test_command_and_arguments_round_trip(lead: str, mark: str, name: str, args: str) -> None:
    parsed = parse_command(f"{lead}{mark}{name} {args}")
    # Invisible characters (bidi controls, zero-width spaces) are no part of any argument.
    visible = strip_invisible(args)
    assert parsed == (name.lower(), visible.strip())
    event = event_from_text(
        event_id="test:1", chat=CHAT, actor=ACTOR, text=f"{mark}{name} {args}", occurred_at=AT
    )
    assert event.command == name.lower()
    assert event.args == tuple(visible.split())


@given(name=command_name, ours=bot_name, args=any_text, data=st.data())
def test_command_addressed_to_us_in_any_case_is_ours(
    name: str, ours: str, args: str, data: st.DataObject
) -> None:
    spelled = data.draw(st.sampled_from([ours, ours.upper(), ours.lower(), ours.swapcase()]))
    expected = (name.lower(), strip_invisible(args).strip())
    assert parse_command(f"/{name}@{spelled} {args}", ours) == expected
    # A platform that does not tell us our name: the mention is accepted.
    assert parse_command(f"/{name}@{spelled} {args}") == expected


@given(name=command_name, ours=bot_name, other=bot_name, args=any_text)
def test_command_addressed_to_another_bot_is_not_for_us(
    name: str, ours: str, other: str, args: str
) -> None:
    assume(other.casefold() != ours.casefold())
    text = f"/{name}@{other} {args}"
    assert parse_command(text, ours) is None
    event = event_from_text(
        event_id="test:1", chat=CHAT, actor=ACTOR, text=text, occurred_at=AT, bot_username=ours
    )
    assert event.kind is EventKind.MESSAGE and event.command is None


@given(name=st.from_regex(r"[A-Za-z0-9_]{33,40}", fullmatch=True))
def test_overlong_command_names_are_plain_messages(name: str) -> None:
    assert parse_command(f"/{name}") is None


@given(text=any_text)
def test_text_not_starting_with_a_slash_is_never_a_command(text: str) -> None:
    assume(not text.strip().startswith(("/", "／")))
    assert parse_command(text) is None


# ---------------------------------------------------------------------------------------------
# parse_amount

FULL_WIDTH = str.maketrans(string.digits, "０１２３４５６７８９")


@given(amount=st.integers(1, 10**12 - 1), plus=st.booleans(), wide=st.booleans())
def test_amount_accepts_positive_whole_numbers_up_to_twelve_digits(
    amount: int, plus: bool, wide: bool
) -> None:
    digits = str(amount).translate(FULL_WIDTH) if wide else str(amount)
    assert parse_amount(("+" if plus else "") + digits) == amount


# Every decimal digit Unicode knows, but ASCII and full-width ones: ٥ (Arabic-Indic), ५
# (Devanagari), 𝟗 (mathematical bold) read as other numbers, or as none, to most admins.
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(
    lambda ch: not ("0" <= ch <= "9" or "０" <= ch <= "９")
)


@example(digits="٥٠")
@example(digits="५")
@example(digits="𝟗𝟗")
@given(digits=st.lists(OTHER_DIGITS, min_size=1, max_size=4).map("".join))
def test_amounts_in_digits_of_other_scripts_are_refused(digits: str) -> None:
    assert parse_amount(digits) is None
    assert parse_amount("1" + digits) is None


@given(amount=st.integers(10**12, 10**30))
def test_amount_rejects_more_than_twelve_digits(amount: int) -> None:
    assert parse_amount(str(amount)) is None
    assert parse_amount("+" + str(amount)) is None


@given(amount=st.integers(0, 10**12))
def test_amount_rejects_negatives(amount: int) -> None:
    assert parse_amount(f"-{amount}") is None
    assert parse_amount(f"-{amount}".translate(FULL_WIDTH)) is None


@given(zeros=st.integers(1, 12), plus=st.booleans())
def test_amount_rejects_zero_however_written(zeros: int, plus: bool) -> None:
    assert parse_amount(("+" if plus else "") + "0" * zeros) is None


@given(
    whole=st.integers(0, 10**6),
    frac=st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    sep=st.sampled_from([".", ",", "e", "_", " ", "/"]),
)
def test_amount_rejects_decimals_and_separated_numbers(whole: int, frac: str, sep: str) -> None:
    assert parse_amount(f"{whole}{sep}{frac}") is None


@given(text=any_text)
@example("")
@example("+")
@example("++5")
@example(" 5")
@example("5 ")
@example("²")
@example("1e3")
@example("0x10")
def test_amount_of_any_text_is_none_or_a_positive_number_spelled_in_digits(text: str) -> None:
    amount = parse_amount(text)
    if amount is None:
        return
    digits = text.removeprefix("+")
    assert 1 <= amount < 10**12
    assert digits and all(ch.isdecimal() for ch in digits)
    assert int(digits) == amount


# ---------------------------------------------------------------------------------------------
# normalize_word

CLOSING = "!！。.~～"


@given(
    word=st.sampled_from(["签到", "打卡", "checkin", "Check In", "CHECKIN"]),
    lead=st.text(alphabet=" \t\n\u3000", max_size=3),
    tail=st.text(alphabet=" " + CLOSING, max_size=6),
)
def test_trigger_words_survive_spaces_and_closing_punctuation(
    word: str, lead: str, tail: str
) -> None:
    assert normalize_word(f"{lead}{word}{tail}") == word.casefold()


@given(text=any_text)
def test_normalized_words_have_no_outer_space_or_closing_punctuation(text: str) -> None:
    word = normalize_word(text)
    assert word == word.casefold()
    assert not word.endswith(tuple(" " + CLOSING))
    assert word == word.lstrip()


@given(
    word=st.sampled_from(["签到", "打卡"]),
    gap=st.sampled_from(["\u3000", "\t", "\u00a0"]),
    mark=st.sampled_from(["！", "!", "。"]),
)
def test_trigger_word_with_any_whitespace_before_the_punctuation_is_recognised(
    word: str, gap: str, mark: str
) -> None:
    assert normalize_word(f"{word}{gap}{mark}") == word


# ---------------------------------------------------------------------------------------------
# Anything a member types, through the real core

_members = itertools.count(1)
_events = itertools.count(1)
COMMANDS = ["/checkin", "/points", "/me", "/top", "/help", "/start", "/nosuch", "／checkin"]
FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
message = st.one_of(
    any_text,
    st.builds(lambda c, rest: f"{c} {rest}", st.sampled_from(COMMANDS), any_text),
    st.builds(lambda word, rest: word + rest, st.sampled_from(["签到", "打卡"]), any_text),
)
display_name = st.one_of(any_text, st.text(min_size=190, max_size=260))


def account(user_id: str, name: str, username: str | None) -> AccountRef:
    return AccountRef("console", user_id, name, username=username)


async def send(
    chat: Chat, actor: AccountRef, text: str, bot: str | None = None
) -> tuple[Event, Said]:
    """`actor` sends `text` to the chat; the event and what the bot answered."""
    event = event_from_text(
        event_id=f"fuzz:{next(_events)}",
        chat=ChatRef(chat.platform, chat.chat_id, title=chat.chat_id),
        actor=actor,
        text=text,
        occurred_at=chat.now,
        bot_username=bot,
    )
    return event, await chat.deliver(event)


def ledger_agrees(conn: Connection) -> tuple[int, int, int]:
    """(lowest balance, total of balances, total of ledger entries) over the whole database."""
    lowest = conn.execute(select(func.coalesce(func.min(balances.c.points), 0))).scalar_one()
    held = conn.execute(select(func.coalesce(func.sum(balances.c.points), 0))).scalar_one()
    posted = conn.execute(select(func.coalesce(func.sum(ledger.c.delta), 0))).scalar_one()
    return int(lowest), int(held), int(posted)


@FUZZ_SETTINGS
@given(name=display_name, texts=st.lists(message, min_size=1, max_size=4), note=any_text)
async def test_anything_a_member_types_never_crashes_and_renders_clean(
    chat: Chat, store: Store, name: str, texts: list[str], note: str
) -> None:
    user_id = f"fz{next(_members)}"
    member = account(user_id, name, user_id)
    _, hello = await send(chat, member, "/start")  # plain messages alone do not register anyone
    assert hello.text is not None and hello.text.startswith("👋 Hi ")
    assert not controls(hello.text)
    for text in texts:
        event, said = await send(chat, member, text)
        assert not said.outcome.duplicate
        reply = said.outcome.reply
        assert reply is None or reply.template != "common/internal_error", text
        if event.kind is EventKind.COMMAND and (event.addressed or event.command in KNOWN):
            # A command nobody here knows is for another bot, unless it names this one.
            assert said.text, f"command {text!r} got no answer"
        elif normalize_word(text) not in WORDS:
            assert reply is None, f"plain message {text!r} was answered: {said.text!r}"
        if said.text is not None:
            assert not controls(said.text), (text, said.text)

    # An admin awards this member with any reason: it is shown as typed (runs of whitespace
    # made one space, control characters dropped, at most 200 characters), never interpreted
    # as markup or template code, and the bot's words stay clean.
    _, award = await send(chat, account("boss", "boss", "boss"), f"/award @{user_id} 5 {note}")
    assert award.text is not None and not controls(award.text)
    assert award.outcome.reply is not None and award.outcome.reply.template == "points/awarded"
    # As typed, less what no one sees: the parser drops invisible characters from arguments.
    typed = " ".join(strip_invisible(note).split()).replace("\x00", "")
    if typed:
        shown = award.text.split(" for: ", 1)[1].rsplit(". New balance: ", 1)[0]
        assert len(shown) <= 200
        assert plain_text(typed).startswith(shown)
        if len(typed) <= 200:
            assert shown == plain_text(typed)
    else:
        assert " for: " not in award.text
    _, points = await send(chat, member, "/points")
    assert points.text is not None and not controls(points.text)
    # 5 from the award, plus 10 if one of the messages was a check-in.
    assert re.search(r"you have (5|15) points\.", points.text), points.text

    lowest, held, posted = store.read_now(ledger_agrees)
    assert lowest >= 0 and held == posted


async def test_member_name_with_markup_and_controls_is_shown_literally(chat: Chat) -> None:
    name = "<b>Bob</b>\x1b[31m {{ 7*7 }} \u202eevil\x00"
    _, said = await send(chat, account("fz-literal", name, None), "/points")
    assert said.text is not None
    # The bidi override is stored but never shown: it would reverse the rest of the line.
    assert said.text.splitlines()[0] == "💰 <b>Bob</b>[31m {{ 7*7 }} evil, you have 0 points."


async def test_command_for_another_bot_gets_no_answer(chat: Chat) -> None:
    member = account("fz-other", "carol", "carol")
    _, said = await send(chat, member, "/checkin@OtherBot", bot="AcmeBot")
    assert said.outcome.reply is None
    _, ours = await send(chat, member, "/checkin@acmebot", bot="AcmeBot")
    assert ours.text is not None and "+10 points" in ours.text


async def test_checkin_word_typed_with_full_width_space_and_bang_checks_in(chat: Chat) -> None:
    said = await chat.say("dora", "签到\u3000！")
    assert said.text is not None and "+10 points" in said.text

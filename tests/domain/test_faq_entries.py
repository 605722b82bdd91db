"""FAQ entries as plain rules: community.toml's entries follow the file while admins' stay, a
reworded question keeps its entry (and its votes), /link's merge keeps one vote per member per
answer, and the matching index follows every change."""

from __future__ import annotations

from sqlalchemy import Connection, select

from community import faq, faq_answers
from community.audit import Actor
from community.communities import Community
from community.config import ConfigError
from community.faq_rules import FaqEntryConfig
from storage.faq_tables import faq_entries, faq_votes
from tests.domain.conftest import Join, local

SALE = FaqEntryConfig(
    question="When does the sale start?", answer="On the 18th.", keywords=("sale",)
)
SIZE = FaqEntryConfig(question="Does the size run large?", answer="True to size.")
SHIP = FaqEntryConfig(question="How long does shipping take?", answer="Two days.")


def _stored(conn: Connection) -> list[tuple[int, str, str | None, bool]]:
    rows = conn.execute(select(faq_entries).order_by(faq_entries.c.id))
    return [(r.id, r.question, r.file_key, r.removed_at is not None) for r in rows]


def test_file_entries_follow_the_file_and_admins_entries_stay(
    conn: Connection, community: Community, boss: Actor
) -> None:
    faq.sync_file_entries(conn, community, [SALE, SIZE], local(1))
    faq.add_entry(conn, community, "Can I pay by card? | Yes.", actor=boss, at=local(1))
    # SALE leaves the file, SIZE moves up, a new question takes SIZE's old place.
    reworded = FaqEntryConfig(question="Does the size run small?", answer="Take one up.")
    faq.sync_file_entries(conn, community, [SIZE, reworded, SHIP], local(2))
    assert _stored(conn) == [
        (1, "When does the sale start?", "file:1", True),  # gone from the file
        (2, "Does the size run large?", "file:1", False),  # moved: the same entry
        (3, "Can I pay by card?", None, False),  # an admin's: untouched
        (4, "Does the size run small?", "file:2", False),
        (5, "How long does shipping take?", "file:3", False),
    ]
    faq.sync_file_entries(
        conn, community, [reworded.model_copy(update={"answer": "Up."}), SHIP], local(3)
    )
    assert [e.id for e in faq.live_entries(conn, community.id)] == [3, 4, 5]
    assert faq.entry_by_id(conn, community.id, 4).answer == "Up."


def test_a_reworded_question_in_its_place_keeps_its_entry(
    conn: Connection, community: Community
) -> None:
    faq.sync_file_entries(conn, community, [SALE, SIZE], local(1))
    sale_again = SALE.model_copy(update={"question": "When does the big sale start?"})
    faq.sync_file_entries(conn, community, [sale_again, SIZE], local(2))
    assert _stored(conn) == [
        (1, "When does the big sale start?", "file:1", False),
        (2, "Does the size run large?", "file:2", False),
    ]


def test_a_bad_file_is_refused_whole(conn: Connection, community: Community) -> None:
    for entries, says in [
        ([SALE, SALE.model_copy(update={"answer": "x"})], "the same question as faq_entries[1]"),
        ([SALE.model_copy(update={"keywords": ("k" * 51,)})], "longer than 50 characters"),
    ]:
        try:
            faq.sync_file_entries(conn, community, entries, local(1))
        except ConfigError as error:
            assert says in str(error)
        else:
            raise AssertionError("a bad file was taken")
    assert _stored(conn) == []


def test_the_index_follows_every_change(
    conn: Connection, community: Community, boss: Actor
) -> None:
    def best(words: str) -> list[int]:
        return [found.entry.id for found in faq_answers.search(conn, community, words)][:1]

    faq.add_entry(conn, community, "When does the sale start? | 18th.", actor=boss, at=local(1))
    assert best("sale start") == [1]
    faq.edit_entry(conn, community, 1, "Where is the shop? | Shanghai.", actor=boss, at=local(1))
    assert best("sale start") == []
    assert best("where is the shop") == [1]
    faq.remove_entry(conn, community, 1, actor=boss, at=local(1))
    assert best("where is the shop") == []


def test_merging_members_keeps_one_vote_per_answer(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    faq.add_entry(conn, community, "When does the sale start? | 18th.", actor=boss, at=local(1))
    alice, alice_on_discord, bob = join("alice"), join("alice2", "discord"), join("bob")
    given = []
    for asker in (bob, bob):
        found = faq_answers.answer_unasked(
            conn,
            community,
            "when does the sale start?",
            member_id=asker.id,
            platform="telegram",
            chat_id=f"-100{len(given)}",
            message_id="",
            at=local(1),
        )
        assert found is not None
        given.append(found.answer_id)
    chat = {"platform": "telegram", "at": local(1)}
    faq_answers.vote(
        conn, community, given[0], member_id=alice.id, helpful=True, chat_id="-1000", **chat
    )
    faq_answers.vote(
        conn,
        community,
        given[0],
        member_id=alice_on_discord.id,
        helpful=False,
        chat_id="-1000",
        **chat,
    )
    faq_answers.vote(
        conn,
        community,
        given[1],
        member_id=alice_on_discord.id,
        helpful=False,
        chat_id="-1001",
        **chat,
    )
    faq.merge_members(conn, keep=alice.id, absorb=alice_on_discord.id)
    votes = conn.execute(select(faq_votes).order_by(faq_votes.c.answer_id)).all()
    assert [(v.answer_id, v.member_id, v.helpful) for v in votes] == [
        (given[0], alice.id, True),  # the kept member's vote stands
        (given[1], alice.id, False),
    ]
    assert faq_answers.feedback(conn, community.id)[1] == faq_answers.Feedback(2, 1, 1)

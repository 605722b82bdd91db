"""Submissions' rules as plain functions (links, marks of sameness, limits, category words) and
the domain on a real database: submitting, deciding once, reversing once, the digest job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, select

from community import admins, submission_jobs, submission_reviewers, submissions
from community.audit import Actor
from community.communities import Community
from community.jobs import Firing, FiringContext, claim
from community.submission_content import (
    File,
    checked,
    find_links,
    fitting,
    link_mark,
    normalize_link,
    read_category,
    type_allowed,
)
from community.submission_review import decide, read_reason, reverse
from community.submission_rules import SubmissionRules
from community.submissions import Where
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log
from storage.ugc_tables import submission_marks
from tests.domain.conftest import Join, local

RULES = SubmissionRules()
PHOTO = File("photo", "bag.jpg", "image/jpeg", 4, b"\xff\xd8ok")
HERE = Where("telegram", "-100", "55")


# Links and marks ---------------------------------------------------------------------------


def test_links_are_found_in_chinese_text_without_the_punctuation_after_them() -> None:
    text = "看这个https://shop.example/item?id=3很好！还有 www.Example.com/a, (https://x.cn/b)."
    assert find_links(text) == [
        "https://shop.example/item?id=3",
        "www.Example.com/a",
        "https://x.cn/b",
    ]
    assert find_links("no link here, just http:// and www.") == []
    assert find_links("https://a.example/x https://a.example/x") == ["https://a.example/x"]


@pytest.mark.parametrize(
    "dressed",
    [
        "https://Shop.Example/item/?id=3",
        "http://shop.example/item?id=3&utm_source=wechat&utm_medium=share",
        "HTTPS://www.shop.example:443/item?id=3#reviews",
        "shop.example/item/?fbclid=abc&id=3&spm=a1z",
    ],
)
def test_a_link_dressed_up_is_the_same_page(dressed: str) -> None:
    assert normalize_link(dressed) == "//shop.example/item?id=3"
    assert link_mark(dressed) == link_mark("https://shop.example/item?id=3")


def test_links_to_other_pages_have_other_marks() -> None:
    assert link_mark("https://shop.example/item?id=3") != link_mark(
        "https://shop.example/item?id=4"
    )
    assert link_mark("https://shop.example:8080/item") != link_mark("https://shop.example/item")
    assert normalize_link("https://a.example/x?b=2&a=1") == "//a.example/x?a=1&b=2"


def test_file_types_take_wildcards() -> None:
    assert type_allowed("image/heic", ["image/*"])
    assert type_allowed("IMAGE/JPEG; charset=x", ["image/jpeg"])
    assert not type_allowed("application/pdf", ["image/*", "video/mp4"])
    assert not type_allowed("imagery/x", ["image/*"])


# Limits --------------------------------------------------------------------------------------


def _refusal(text: str, files: list[File], rules: SubmissionRules = RULES) -> str:
    with pytest.raises(UserError) as refused:
        checked(text, files, rules)
    return refused.value.key


def test_every_limit_refuses_with_its_own_reason() -> None:
    small = SubmissionRules(
        max_text=40, max_links=1, max_link_length=20, max_files=1, max_file_bytes=10_000
    )
    assert _refusal("   ", []) == "ugc/empty"
    assert _refusal("x" * 41, [], small) == "ugc/text_too_long"
    assert _refusal("https://c.example/abcd", [], small) == "ugc/link_too_long"
    assert _refusal("www.a.ex https://b.ex", [], small) == "ugc/too_many_links"
    assert _refusal("two", [PHOTO, PHOTO], small) == "ugc/too_many_files"
    big = File("photo", "big.jpg", "image/jpeg", 10_001, b"x" * 10_001)
    assert _refusal("", [big], small) == "ugc/file_too_big"
    fetched_not = File("video", "long.mp4", "video/mp4", 50_000_000, refused="too_big")
    assert _refusal("", [fetched_not]) == "ugc/file_too_big"
    assert _refusal("", [File("file", "a.exe", "application/x-msdownload", 3, b"MZ")]) == (
        "ugc/file_type"
    )
    assert _refusal("", [File("photo", "a.jpg", "image/jpeg", 0)]) == "ugc/file_unreadable"


def test_content_carries_its_marks_once_each() -> None:
    content = checked("https://a.example/x and http://A.example/x/", [PHOTO, PHOTO], RULES)
    assert content.links == ("https://a.example/x", "http://A.example/x/")
    assert len(content.marks) == 2  # one page, one file


# Category words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key", "rest"),
    [
        ("purchase my new bag", "purchase", "my new bag"),
        ("晒单 新包包", "purchase", "新包包"),
        ("Purchase Photo my bag", "purchase", "my bag"),
        ("SHOW it", "purchase", "it"),
        ("测评 很好用", "review", "很好用"),
        ("图文分享", "post", ""),
        ("video", "video", ""),
    ],
)
def test_a_category_is_read_by_its_key_names_and_aliases(typed: str, key: str, rest: str) -> None:
    category, left = read_category(typed, RULES.categories)
    assert category is not None and category.key == key
    assert left == rest


def test_words_that_only_start_like_a_category_are_content() -> None:
    assert read_category("reviews are great", RULES.categories) == (None, "reviews are great")
    assert read_category("", RULES.categories) == (None, "")


def test_which_categories_a_submission_fits() -> None:
    assert fitting(RULES.categories, []) == ["review", "post"]
    assert fitting(RULES.categories, ["photo"]) == ["purchase", "review", "post"]
    assert fitting(RULES.categories, ["video"]) == ["review", "post", "video"]


def test_a_typed_reason_is_a_key_or_the_words() -> None:
    assert read_reason("  Off_Topic ") == ("off_topic", None)
    assert read_reason("blurry   photo") == (None, "blurry photo")
    assert read_reason("") == (None, None)


# The domain ---------------------------------------------------------------------------------


def _submit(
    conn: Connection, community: Community, member_id: int, text: str, *, hour: int = 10
) -> submissions.Submission:
    category = community.rules.submissions.category("review")
    return submissions.submit(
        conn,
        community,
        member_id=member_id,
        category=category,
        content=checked(text, [], community.rules.submissions),
        where=HERE,
        at=local(1, hour),
    )


def test_the_same_link_twice_is_refused_and_changes_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    first = _submit(conn, community, alice.id, "Love it https://shop.example/bag?utm_source=x")
    with pytest.raises(UserError) as refused:
        _submit(conn, community, bob.id, "mine too: http://www.shop.example/bag/")
    assert refused.value.key == "ugc/duplicate"
    assert refused.value.context == {"number": first.id, "own": False, "draft": False}
    marks = conn.execute(select(submission_marks)).all()
    assert [row.submission_id for row in marks] == [first.id]


def test_a_member_submits_at_most_per_day_a_local_day(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    limit = community.rules.submissions.per_day
    for n in range(limit):
        _submit(conn, community, alice.id, f"review number {n}")
    with pytest.raises(UserError) as refused:
        _submit(conn, community, alice.id, "one more")
    assert refused.value.key == "ugc/too_many_today"
    # Shanghai's next day begins at 16:00 UTC: the count starts again.
    tomorrow = submissions.submit(
        conn,
        community,
        member_id=alice.id,
        category=community.rules.submissions.category("review"),
        content=checked("next day", [], community.rules.submissions),
        where=HERE,
        at=local(2, 0, 1),
    )
    assert tomorrow.state == "pending"


def test_a_photo_category_refuses_text_alone(
    conn: Connection, community: Community, join: Join
) -> None:
    with pytest.raises(UserError) as refused:
        submissions.submit(
            conn,
            community,
            member_id=join("alice").id,
            category=community.rules.submissions.category("purchase"),
            content=checked("just words", [], community.rules.submissions),
            where=HERE,
            at=local(1),
        )
    assert refused.value.key == "ugc/needs"


def test_approval_pays_once_and_a_second_decision_is_refused(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, rita, boss = join("alice"), join("rita"), join("boss", "console")
    made = _submit(conn, community, alice.id, "A real review")
    decided = decide(
        conn, community, made.id, "approve", reviewer=Actor(rita.id, "t:r"), at=local(1, 11)
    )
    assert decided.paid == 50 and decided.submission.state == "approved"
    assert ledger.balance(conn, alice.id) == 50
    with pytest.raises(UserError) as again:
        decide(
            conn,
            community,
            made.id,
            "reject",
            reviewer=Actor(boss.id, "c:b"),
            at=local(1, 12),
            reason_key="rules",
        )
    assert again.value.key == "ugc/already_decided"
    assert ledger.balance(conn, alice.id) == 50
    with pytest.raises(UserError) as own:
        decide(
            conn,
            community,
            _submit(conn, community, rita.id, "rita's own").id,
            "approve",
            reviewer=Actor(rita.id, "t:r"),
            at=local(1, 12),
        )
    assert own.value.key == "ugc/own_submission"


def test_a_reversal_takes_back_what_is_left_once(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, rita, boss = join("alice"), join("rita"), join("boss", "console")
    made = _submit(conn, community, alice.id, "A real review")
    decide(conn, community, made.id, "approve", reviewer=Actor(rita.id, "t:r"), at=local(1, 11))
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=-20,
        reason="redeem",
        key="spent",
        at=local(1, 12),
    )
    done = reverse(
        conn, community, made.id, admin=Actor(boss.id, "c:b"), at=local(1, 13), reason="copied"
    )
    assert (done.delta, done.owed, done.submission.state) == (-30, 20, "rejected")
    assert ledger.balance(conn, alice.id) == 0
    with pytest.raises(UserError) as twice:
        reverse(conn, community, made.id, admin=Actor(boss.id, "c:b"), at=local(1, 14))
    assert twice.value.key == "ugc/already_reversed"
    actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions == ["submission_approve", "submission_reverse"]


def test_a_reversed_rejection_is_approved_and_paid(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, rita, boss = join("alice"), join("rita"), join("boss", "console")
    made = _submit(conn, community, alice.id, "A real review")
    decide(
        conn,
        community,
        made.id,
        "reject",
        reviewer=Actor(rita.id, "t:r"),
        at=local(1, 11),
        reason_text="too short",
    )
    done = reverse(conn, community, made.id, admin=Actor(boss.id, "c:b"), at=local(1, 13))
    assert (done.delta, done.submission.state) == (50, "approved")
    assert ledger.balance(conn, alice.id) == 50


def test_a_reviewers_decisions_make_nobody_an_admin(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, rita, boss = join("alice"), join("rita"), join("boss", "console")
    submission_reviewers.add(conn, community.id, rita.id, actor=Actor(boss.id, "c:b"), at=local(1))
    made = _submit(conn, community, alice.id, "A real review")
    decide(conn, community, made.id, "approve", reviewer=Actor(rita.id, "t:r"), at=local(1, 11))
    assert submission_reviewers.may_review(conn, community.id, rita.id, admin=False)
    assert not admins.is_admin(conn, community.id, rita.id)
    assert admins.is_admin(conn, community.id, boss.id)  # added a reviewer
    assert not submission_reviewers.may_review(conn, community.id, alice.id, admin=False)


def _fire(conn: Connection, community: Community) -> tuple[int, Firing]:
    [job] = submission_jobs.jobs(conn, community)
    at = job.firings(local(1, 0), local(9))[0]
    firing = Firing(job, at)
    assert claim(conn, firing, now=at)
    told = job.work(FiringContext(conn, community, at, at, set(), admins=("console:boss",)))
    return told, firing


def test_the_digest_is_listed_only_while_untold_submissions_wait(
    conn: Connection, community: Community, join: Join
) -> None:
    boss = join("boss", "console")
    alice = join("alice")
    assert submission_jobs.jobs(conn, community) == []
    made = _submit(conn, community, alice.id, "first", hour=10)
    told, firing = _fire(conn, community)
    assert told == 1 and firing.at == made.created_at  # on the minute it came in
    assert submission_jobs.jobs(conn, community) == []
    _submit(conn, community, alice.id, "second", hour=10)  # a moment later: waits its turn
    [job] = submission_jobs.jobs(conn, community)
    gap = timedelta(minutes=community.rules.submissions.digest_minutes)
    assert job.firings(local(1, 0), local(9)) == [firing.at + gap]
    assert boss.id in submission_reviewers.reviewing_members(
        conn, community.id, listed=("console:boss",)
    )

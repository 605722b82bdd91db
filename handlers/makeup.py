"""/makeup [DATE] and the plain word 补签: fill a missed check-in day with a make-up card.

/makeup                 the newest missed day of the last rules.makeup.window_days days
/makeup 2026-11-25      that day; also 11-25, 11/25, 11月25日, yesterday, 昨天, 前天
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from community import makeup
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty.errors import UserError

router = Router()

MAKEUP_PARAMS = (Param("date", ParamKind.TEXT, required=False),)

_DAYS_AGO = {
    "yesterday": 1,
    "昨天": 1,
    "昨日": 1,
    "day before yesterday": 2,
    "the day before yesterday": 2,
    "前天": 2,
    "前日": 2,
}
_DATE = re.compile(
    r"(?:(?P<year>\d{4})\s*[-/.年]\s*)?(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})\s*[日号]?"
)


@router.command("makeup", words=("补签", "補簽"), params=MAKEUP_PARAMS)
def makeup_day(ctx: Context) -> Reply:
    """Fill a missed day with a card and show the restored streak and the cards left."""
    today = ctx.community.local_day(ctx.now)
    day = read_day(ctx.event.arg_text, today)
    done = makeup.make_up(ctx.conn, ctx.community, ctx.member.id, ctx.now, day)
    left = done.cards
    return Reply(
        "makeup/done",
        {
            "name": ctx.member.display_name,
            "day": done.day.isoformat(),
            "card": done.card,
            "streak": done.streak,
            "day_streak": done.day_streak,
            "tier_left": left.tier_left,
            "bought_left": left.bought,
            "monthly": left.monthly,
            "missed": [day.isoformat() for day in done.missed],
        },
    )


def read_day(text: str, today: date) -> date | None:
    """The day `/makeup` names (None: none named); a month-day without a year is the nearest
    such day to today. Raises UserError("makeup/bad_date")."""
    words = unicodedata.normalize("NFKC", text).strip()
    if not words:
        return None
    if (ago := _DAYS_AGO.get(words.casefold())) is not None:
        return today - timedelta(days=ago)
    found = _DATE.fullmatch(words)
    if found is None:
        raise UserError("makeup/bad_date", text=words[:40])
    month, day = int(found["month"]), int(found["day"])
    years = [int(found["year"])] if found["year"] else [today.year - 1, today.year, today.year + 1]
    named: list[date] = []
    for year in years:
        try:
            named.append(date(year, month, day))
        except ValueError:
            continue  # no such day that year (02-29, 11-31)
    if not named:
        raise UserError("makeup/bad_date", text=words[:40])
    # Without a year, the nearest such day: 12-31 on a 2 January is the one just gone.
    return min(named, key=lambda candidate: abs((candidate - today).days))

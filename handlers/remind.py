"""/remind on|off: a member's evening nudge before their streak ends (提醒 开 / 提醒 关)."""

from __future__ import annotations

from community import reminders
from handlers.parsing import normalize_word
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply

router = Router()

REMIND_PARAMS = (Param("state", ParamKind.CHOICE, required=False, choices=("on", "off")),)
_ON = frozenset({"on", "开", "開", "开启", "開啟", "打开", "打開"})
_OFF = frozenset({"off", "关", "關", "关闭", "關閉"})
# Whole messages that mean the command, and what they ask for ("" shows the state).
_WORDS = {
    "提醒": "",
    "提醒 开": "on",
    "提醒开": "on",
    "开启提醒": "on",
    "打开提醒": "on",
    "提醒 关": "off",
    "提醒关": "off",
    "关闭提醒": "off",
}


@router.command("remind", words=tuple(_WORDS), params=REMIND_PARAMS)
def remind(ctx: Context) -> Reply:
    """/remind shows whether the member gets the evening nudge; /remind on|off changes it."""
    event = ctx.event
    asked = event.arg_text if event.command else _WORDS.get(normalize_word(event.text), "")
    wanted = normalize_word(asked)
    if wanted and wanted not in _ON | _OFF:
        return Reply("reminders/usage")
    rules = ctx.community.rules.reminders
    context = {"at": rules.streak_at, "timezone": ctx.community.timezone.key}
    if not wanted:
        on = reminders.reminders_on(ctx.conn, ctx.member.id)
        return Reply("reminders/state", {**context, "on": on})
    on = wanted in _ON
    reminders.set_reminders(ctx.conn, ctx.member.id, on)
    if not on:
        return Reply("reminders/off", context)
    target = reminders.recipients(ctx.conn, ctx.community.id, [ctx.member.id]).get(ctx.member.id)
    return Reply("reminders/on", {**context, "reachable": target is None or target.reachable})

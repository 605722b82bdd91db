"""The action word after a command that has several ("/faq add ...", "/quiz 开始 5"): read the
same way by every such command, with the other words admins type for each action."""

from __future__ import annotations

from collections.abc import Mapping

# Other words for the actions commands share: what Chinese-speaking admins type, and the
# English words people reach for first. A command adds its own (or gives a word another
# meaning) with read_action's `words`; a word for an action a command lacks is still unknown
# to it, as it was.
ACTION_WORDS: Mapping[str, str] = {
    "添加": "add",
    "新增": "add",
    "编辑": "edit",
    "修改": "edit",
    "删除": "remove",
    "移除": "remove",
    "delete": "remove",
    "列表": "list",
    "开始": "start",
    "开启": "start",
    "停止": "stop",
    "结束": "stop",
    "end": "stop",
    "暂停": "pause",
    "恢复": "resume",
    "继续": "resume",
    "导入": "import",
    "统计": "stats",
}


def read_action(text: str, words: Mapping[str, str] = ACTION_WORDS) -> tuple[str, str]:
    """The action a command's arguments start with (its own name for any of `words`, folded
    to lower case; "" when there are none) and the rest of them, stripped."""
    parts = text.strip().split(None, 1)
    if not parts:
        return "", ""
    first = parts[0].casefold()
    return words.get(first, first), parts[1].strip() if len(parts) > 1 else ""

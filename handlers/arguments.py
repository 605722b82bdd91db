"""Typed text read by a command's declared parameters: the one parser behind every platform's
typed commands (the console, Telegram, Discord text; Discord's slash options are turned into
the same text), so a command's arguments are declared once, in its Route's params."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from community.config import Rules
from handlers.parsing import parse_number
from handlers.routes import Param, ParamKind


class Problem(StrEnum):
    """What is wrong with what was typed for a parameter."""

    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    NOT_A_CHOICE = "not_a_choice"
    # Words left over after the last parameter (that takes one word).
    TOO_MANY = "too_many"


@dataclass(frozen=True, slots=True)
class BadArgument(Exception):
    """The typed text does not fit the declaration; handlers answer with their usage (or with
    the limit, for a number out of range)."""

    param: Param
    problem: Problem


@dataclass(frozen=True, slots=True)
class Arguments:
    """What was typed for each parameter: numbers as numbers, the rest as text."""

    text: Mapping[str, str]
    numbers: Mapping[str, int]

    def get(self, name: str) -> str | None:
        """The words given for parameter `name`, if any."""
        return self.text.get(name)


def read_arguments(params: Sequence[Param], typed: str, rules: Rules | None) -> Arguments:
    """Read `typed` by `params`: each takes one word, in order, but a last TEXT parameter takes
    the rest of the line as typed. Raises BadArgument for the first parameter that does not fit
    (missing when required, not a number, outside its limits, not one of its choices). With no
    `rules`, limits that come from the rules are left to the domain's own check. A FILE
    parameter is never typed (the file comes with the message): it reads no words."""
    params = [param for param in params if param.kind is not ParamKind.FILE]
    text: dict[str, str] = {}
    numbers: dict[str, int] = {}
    rest = typed.strip()
    for index, param in enumerate(params):
        last = index == len(params) - 1
        if param.kind is ParamKind.TEXT and last and rest:
            word, rest = rest, ""
        else:
            parts = rest.split(None, 1)
            word, rest = (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")
        if not word:
            if param.required:
                raise BadArgument(param, Problem.MISSING)
            continue
        text[param.name] = word
        if param.kind in (ParamKind.INTEGER, ParamKind.POLL):
            numbers[param.name] = _number(param, word, rules)
        elif param.kind is ParamKind.CHOICE and word.casefold() not in param.choices:
            raise BadArgument(param, Problem.NOT_A_CHOICE)
    if rest and params:
        raise BadArgument(params[-1], Problem.TOO_MANY)
    return Arguments(text, numbers)


def _number(param: Param, word: str, rules: Rules | None) -> int:
    # A poll is a number, typed "#3" as often as "3".
    poll = param.kind is ParamKind.POLL
    digits = word.lstrip("#＃") if poll else word.removeprefix("+").removeprefix("＋")
    number = parse_number(digits, max_digits=18)
    if number is None:
        raise BadArgument(param, Problem.NOT_A_NUMBER)
    if param.minimum is not None and number < param.minimum:
        raise BadArgument(param, Problem.TOO_SMALL)
    most = param.most(rules) if rules is not None else None
    if most is not None and number > most:
        raise BadArgument(param, Problem.TOO_LARGE)
    return number

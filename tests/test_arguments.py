"""The one parser of typed commands reads by each command's declared parameters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import ROUTERS
from community.config import Rules
from handlers.adjust import ADJUST_PARAMS
from handlers.arguments import BadArgument, Problem, read_arguments
from handlers.polls import CLOSEPOLL_PARAMS, VOTE_PARAMS
from handlers.routes import ParamKind
from handlers.settings import SETTINGS_PARAMS

RULES = Rules.model_validate({"points": {"max_award": 1000}})


def test_each_parameter_takes_a_word_and_the_last_text_the_rest_as_typed() -> None:
    read = read_arguments(ADJUST_PARAMS, "@bob  ５０  great   photo!", RULES)
    assert read.get("member") == "@bob" and read.numbers == {"amount": 50}
    assert read.get("reason") == "great   photo!"
    assert read_arguments(ADJUST_PARAMS, "@bob 50", RULES).get("reason") is None


@pytest.mark.parametrize(
    ("params", "typed", "problem"),
    [
        (ADJUST_PARAMS, "", Problem.MISSING),
        (ADJUST_PARAMS, "@bob", Problem.MISSING),
        (ADJUST_PARAMS, "@bob fifty", Problem.NOT_A_NUMBER),
        (ADJUST_PARAMS, "@bob ٥٠", Problem.NOT_A_NUMBER),
        (ADJUST_PARAMS, "@bob 0", Problem.TOO_SMALL),
        (ADJUST_PARAMS, "@bob 1001", Problem.TOO_LARGE),
        (VOTE_PARAMS, "3", Problem.MISSING),
        (VOTE_PARAMS, "3 1 2", Problem.TOO_MANY),
        (VOTE_PARAMS, "3 " + "9" * 19, Problem.NOT_A_NUMBER),
        (CLOSEPOLL_PARAMS, "#3 now", Problem.TOO_MANY),
        (SETTINGS_PARAMS, "timezone UTC", Problem.NOT_A_CHOICE),
    ],
)
def test_what_does_not_fit_the_declaration_says_why(
    params: tuple, typed: str, problem: Problem
) -> None:
    with pytest.raises(BadArgument) as raised:
        read_arguments(params, typed, RULES)
    assert raised.value.problem is problem


def test_limits_from_the_rules_are_left_to_the_domain_when_no_rules_are_given() -> None:
    assert read_arguments(ADJUST_PARAMS, "@bob 5000", None).numbers == {"amount": 5000}


def test_a_poll_is_a_number_with_or_without_its_hash() -> None:
    assert read_arguments(CLOSEPOLL_PARAMS, "#3", RULES).numbers == {"poll": 3}
    assert read_arguments(CLOSEPOLL_PARAMS, "＃3", RULES).numbers == {"poll": 3}
    assert read_arguments(CLOSEPOLL_PARAMS, "", RULES).numbers == {}


ROUTES = [route for router in ROUTERS for route in router.routes if route.params]


@given(data=st.data())
def test_a_line_made_of_valid_values_reads_back_as_those_values(data: st.DataObject) -> None:
    route = data.draw(st.sampled_from(ROUTES))
    words: list[str] = []
    expected: dict[str, str] = {}
    typed = [param for param in route.params if param.kind is not ParamKind.FILE]
    for param in route.params:
        if param.kind is ParamKind.FILE:
            continue  # never typed: the file comes with the message
        if param.kind in (ParamKind.INTEGER, ParamKind.POLL):
            low = param.minimum or 0
            high = param.most(RULES) or 10**6
            word = str(data.draw(st.integers(low, high)))
        elif param.kind is ParamKind.CHOICE:
            word = data.draw(st.sampled_from(param.choices))
        elif param.kind is ParamKind.MEMBER:
            word = "@" + data.draw(st.from_regex(r"[a-z0-9_]{1,20}", fullmatch=True))
        elif param is not typed[-1]:  # only the last text takes the rest of the line
            word = data.draw(st.from_regex(r"[a-z]{1,8}", fullmatch=True))
        else:
            word = data.draw(st.from_regex(r"[a-z]{1,8}( [a-z]{1,8}){0,3}", fullmatch=True))
        words.append(word)
        expected[param.name] = word
    read = read_arguments(route.params, " ".join(words), RULES)
    assert dict(read.text) == expected

"""Every command is declared once (handlers' Route and its Params) and everything that shows
commands is made from that: /help, Telegram's menu, Discord's slash definitions."""

from __future__ import annotations

import re

import pytest

from bot.app import ROUTERS
from bot.rendering import Renderer, plain_text
from community.config import Rules
from handlers.routes import ParamKind, Route

RENDERER = Renderer(plain_text)
ROUTES = [route for router in ROUTERS for route in router.routes]
# Discord's rule for option names (and their localizations).
OPTION_NAME = re.compile(r"^[-_\w]{1,32}$")


def _ids(route: Route) -> str:
    return route.command


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_listed_command_is_described_in_both_locales(route: Route, locale: str) -> None:
    if route.hidden:
        return
    assert RENDERER.describe(locale, route.command), f"/{route.command} has no description"


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_every_parameter_is_named_and_described_in_both_locales(route: Route, locale: str) -> None:
    for param in route.params:
        label = RENDERER.param_label(locale, route.command, param.name)
        assert label and OPTION_NAME.match(label) and label == label.lower(), (route, param)
        assert RENDERER.param_description(locale, route.command, param.name), (route, param)
        assert OPTION_NAME.match(param.name) and param.name == param.name.lower()


@pytest.mark.parametrize("route", ROUTES, ids=_ids)
def test_parameters_are_declared_in_an_order_every_platform_can_offer(route: Route) -> None:
    names = [param.name for param in route.params]
    assert len(set(names)) == len(names)
    required = [param.required for param in route.params]
    # Discord wants required options first; typed text reads them in this order too.
    assert required == sorted(required, reverse=True), route.command
    for param in route.params:
        if param.kind is ParamKind.CHOICE:
            assert param.choices, (route.command, param.name)
        if param.kind is ParamKind.INTEGER and param.maximum is not None:
            most = param.most(Rules())
            assert most is not None and (param.minimum or 0) <= most
    # Only the last typed parameter may take the rest of a typed line (a file is never typed:
    # it comes with the message, or in Discord's attachment field).
    typed = [p for p in route.params if p.kind is not ParamKind.FILE]
    texts = [p for p in typed if p.kind is ParamKind.TEXT]
    assert all(p is typed[-1] for p in texts[1:]) and (not texts or texts[-1] is typed[-1])
    files = [p for p in route.params if p.kind is ParamKind.FILE]
    assert all(not p.required for p in files), "a file is always optional (it may come by reply)"


def test_award_takes_a_member_an_amount_within_max_award_and_a_reason() -> None:
    award = next(route for route in ROUTES if route.command == "award")
    member, amount, reason = award.params
    assert (member.kind, amount.kind, reason.kind) == (
        ParamKind.MEMBER,
        ParamKind.INTEGER,
        ParamKind.TEXT,
    )
    rules = Rules.model_validate({"points": {"max_award": 77}})
    assert (amount.minimum, amount.most(rules)) == (1, 77)
    assert member.required and amount.required and not reason.required

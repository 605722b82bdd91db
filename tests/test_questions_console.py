"""The console numbers what the bot sends, and `:reply N text` replies to message N: a reply to
a question's post answers the question, as on the platforms."""

from __future__ import annotations

from handlers.router import Dispatcher
from tests.test_console import run_console


async def test_the_console_replies_to_a_numbered_question_post(dispatcher: Dispatcher) -> None:
    output = await run_console(
        dispatcher,
        ":as alice\n/ask Does the linen shirt run large?\n"
        ":as bob\n:reply 1 Yes, one size down\n:reply x nope\n/questions 1\n",
    )
    assert "❓ Your question #1 is posted." in output
    assert "(1) [group lobby] ❓ Question #1 from alice\nDoes the linen shirt run large?" in output
    assert "💬 Answer #1 to question #1 is saved. alice can accept it with /accept 1." in output
    assert "[dm alice] 💬 New answer #1 to your question #1" in output
    assert 'unknown console line ":reply x nope"' in output
    assert "#1 bob (console" in output and "Yes, one size down" in output

"""`python -m bot` is the same as the `communitybot` command."""

from bot.cli import main

main()

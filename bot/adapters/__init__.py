"""Adapters: the only code that knows a chat platform (console, later Telegram and Discord)."""

"""Delivery: the outbox drained per platform, within its limits, through its Messenger."""

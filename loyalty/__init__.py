"""The bank: one points ledger per community, balances, and later tiers, rewards and expiry."""

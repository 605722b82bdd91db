"""Activities: communities and groups, members and identity, check-ins (later polls, Q&A, UGC)."""

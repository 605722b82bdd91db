"""The domain tier: the product's rules as plain synchronous functions on a real database."""

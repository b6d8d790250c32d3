"""Forms of the billing pages and of its admin, one module per domain."""

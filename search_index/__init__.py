"""Full-text search over the store, kept in step by the change log (to come)."""

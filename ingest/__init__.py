"""Regulators' files into the credit store (to come)."""

"""Alembic migrations of the credit store; run them with ``gongxin db upgrade``."""

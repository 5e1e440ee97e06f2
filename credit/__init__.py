"""The credit profile store: identifiers, text, models and store operations."""

"""Persistence: the database schema, migrations, the call-record writer and reports."""

"""Interop with formats employers and municipalities already use: schema.org JobPosting, CSV/JSONL imports,
spreadsheet exports of matches."""

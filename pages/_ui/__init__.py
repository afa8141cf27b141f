"""Shared code of the pages (never a page itself)."""

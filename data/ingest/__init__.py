"""Ingest: CSV/Excel exports into the store, with every problem reported as data."""

from data.ingest.pipeline import IngestResult, ingest_file

__all__ = ["IngestResult", "ingest_file"]

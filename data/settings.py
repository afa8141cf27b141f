"""Runtime settings, read from the environment and an optional `.env` file.

Every knob an operator may turn lives here, prefixed `BANKPULSE_`. The database path
defaults to `var/bankpulse.duckdb` under the working directory: never inside a package
folder, and `var/` is git-ignored.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Operator settings. Instances are immutable; tests build their own."""

    model_config = SettingsConfigDict(
        env_prefix="BANKPULSE_", env_file=".env", env_file_encoding="utf-8", frozen=True, extra="ignore"
    )

    db: Path = Field(default=Path("var/bankpulse.duckdb"), description="DuckDB file of the store")
    upload_max_mb: int = Field(default=100, ge=1, description="Largest accepted upload, in MB")
    duckdb_threads: int | None = Field(default=None, description="DuckDB worker threads (None: all cores)")
    # 1GB keeps a 10M-row load under 2 GB peak RSS (bench/RESULTS.md) at no measurable cost in speed
    duckdb_memory_limit: str = Field(default="1GB", description="DuckDB memory limit")
    # The typed read is an optimisation with the same results (tests/test_ingest_fastpath.py); off
    # sends every CSV down the general path, e.g. to rule it out when a load looks wrong.
    ingest_typed_read: bool = Field(default=True, description="Read clean CSV files with DuckDB's typed reader first")
    # the gate of every named SQL block (Store.query): a block still running after this many seconds
    # is interrupted (QueryTimeout), one returning more rows than this is refused (QueryTooLarge);
    # 0 turns either off. KPIs (Ibis) do not pass through it.
    query_time_limit_s: float = Field(default=30.0, ge=0, description="Time limit of one named SQL block, in seconds")
    query_max_rows: int = Field(default=100_000, ge=0, description="Most rows a named SQL block may return")
    demo_seed: int = 7
    demo_branches: int = 30
    demo_years: int = 3
    # the demo's last day of data; unset: yesterday in Asia/Shanghai, decided once by `bankpulse demo` when it runs
    demo_as_of: date | None = Field(default=None, description="Last day of the demo data (YYYY-MM-DD; unset: yesterday "
                                                              "in Asia/Shanghai)")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment and `.env` read once)."""
    return Settings()

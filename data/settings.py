"""Runtime settings, read from the environment and an optional `.env` file.

Every knob an operator may turn lives here, prefixed `BANKPULSE_`. The database path
defaults to `var/bankpulse.duckdb` under the working directory: never inside a package
folder, and `var/` is git-ignored.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    # scheduled briefing delivery (briefing/delivery.py, docs/briefing.md "Delivery"): SMTP when a host is
    # set, else the PDFs are written to delivery_dir; a failed send is retried deliver_max_attempts times
    # in all, the n-th retry deliver_retry_min × 2^(n-1) minutes after the failure.
    smtp_host: str | None = Field(default=None, description="SMTP server of the briefing delivery (unset: write to the folder)")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="starttls (upgrade a plain connection) | tls (TLS from the start) | none")
    smtp_user: str | None = Field(default=None, description="SMTP user name (unset: no login)")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (environment / .env only)")
    smtp_sender: str = Field(default="bankpulse@localhost", description="From address of delivered briefings")
    smtp_timeout_s: float = Field(default=30.0, gt=0, description="SMTP connection timeout, in seconds")
    delivery_dir: Path = Field(default=Path("var/outbox"), description="Folder delivered briefings are written to "
                               "when no SMTP host is set")
    deliver_every_min: int = Field(default=15, ge=1, description="Minutes between the scheduler's delivery runs")
    deliver_max_attempts: int = Field(default=4, ge=1, description="Attempts of one delivery before it is given up")
    deliver_retry_min: float = Field(default=10.0, ge=0, description="Minutes before the first retry (doubling)")
    # staffing advice (metrics/staffing.py, docs/staffing.md): the declared service level — this share of
    # customers called within this many minutes — the occupancy cap, the shrinkage that turns windows
    # into tellers rostered, how many weeks before the period's end the advice reads, and how many
    # 过号 tickets a branch needs before its abandonment is modelled (Erlang A instead of Erlang C)
    staffing_sl_share: float = Field(default=0.8, gt=0, lt=1,
                                     description="Staffing target: share of customers called within the target wait")
    staffing_sl_minutes: float = Field(default=15.0, ge=0, description="Staffing target wait, in minutes")
    staffing_max_occupancy: float = Field(default=0.85, gt=0, le=1,
                                          description="Highest window occupancy the staffing advice accepts")
    staffing_shrinkage: float = Field(default=0.0, ge=0, lt=1,
                                      description="Share of rostered teller time not at a window (breaks, back office)")
    staffing_weeks: int = Field(default=8, ge=1, description="Weeks before the period's end the staffing advice reads")
    staffing_min_abandoned: int = Field(default=20, ge=1,
                                        description="过号 tickets a branch needs before its patience is estimated (Erlang A)")
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

"""Stored versions of the scorecard definition and the version each scored period keeps (ops, migration 0012).

Plain Python over the named blocks of data/sql/scorecard.sql. The text of a version is validated
by metrics/scorecard_def.py before it reaches `save_version` (this layer does not import metrics);
a save is one transaction: the repository's seed as version 1 when nothing is stored yet, the pins
of every ended period not pinned yet (to the version it was scored with until now), the new
version, its audit row (`scorecard_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from data.audit import audit

SEED_FROM = date(1900, 1, 1)  # the seed applies from the beginning


@dataclass(frozen=True)
class Version:
    version_id: int
    def_version: int
    name_zh: str
    name_en: str
    definition: str
    sha256: str
    effective_from: date
    origin: str
    note: str | None
    created_at: datetime
    created_by: str


def _day(v) -> date:
    return v.date() if isinstance(v, datetime) else v


class ScorecardVersions:
    """The versions in the store. `channel` (web | cli) is recorded on the audit rows."""

    def __init__(self, store, channel: str = "web"):
        self.store = store
        self.channel = channel

    def versions(self, cur=None) -> list[Version]:
        rows = self.store.query("scorecard.versions").rows(cur)
        return [Version(*r[:6], _day(r[6]), *r[7:]) for r in rows]

    def pins(self, cur=None) -> dict[tuple[str, date], int]:
        return {(g, _day(s)): v for g, s, v in self.store.query("scorecard.pins").rows(cur)}

    def save_version(self, principal, *, text: str, def_version: int, name_zh: str, name_en: str, sha256: str,
                     effective_from: date, ended: list[tuple[str, date]], seed: dict | None, origin: str = "form",
                     note: str | None = None) -> Version:
        """Store a validated definition applying from `effective_from`; pin each of `ended` (grain,
        period start) not pinned yet to the version that scored it. `seed` (text, def_version, names,
        sha256) is stored first as version 1 when no version exists. The caller checked the rights and
        the day (metrics.scorecard_versions.save)."""
        now = datetime.now()
        with self.store.transaction() as cur:
            q = self.store.query
            if not self.versions(cur):
                if seed is None:
                    raise ValueError("the first stored version needs the seed")
                q("scorecard.insert_version", version_id=1, effective_from=SEED_FROM, origin="file",
                  note="metrics/scorecards/default.toml", now=now, user=principal.name, **seed).run(cur)
            stored = self.versions(cur)
            pinned = self.pins(cur)
            for grain, start in ended:
                if (grain, start) not in pinned:
                    vid = resolve(stored, pinned, grain, start)
                    q("scorecard.insert_pin", grain=grain, period_start=start, version_id=vid, now=now,
                      user=principal.name).run(cur)
            vid = q("scorecard.next_version_id").value(cur)
            q("scorecard.insert_version", version_id=vid, def_version=def_version, name_zh=name_zh, name_en=name_en,
              definition=text, sha256=sha256, effective_from=effective_from, origin=origin, note=note, now=now,
              user=principal.name).run(cur)
            audit(self.store, principal, "scorecard_version", target=f"v{vid}", channel=self.channel, cur=cur,
                  detail={"effective_from": effective_from.isoformat(), "sha256": sha256, "note": note,
                          "pinned": len([e for e in ended if e not in pinned])})
        return next(v for v in self.versions() if v.version_id == vid)


def resolve(versions: list[Version], pins: dict[tuple[str, date], int], grain: str, start: date) -> int | None:
    """The version id a period scores with: its pin, else the latest version in effect at its start
    (None when nothing is stored: the repository's seed)."""
    if (grain, start) in pins:
        return pins[(grain, start)]
    live = [v for v in versions if v.effective_from <= start]
    if live:
        return max(live, key=lambda v: (v.effective_from, v.version_id)).version_id
    return versions[0].version_id if versions else None

"""Where a plan or a notice applies, checked against the branch master and the writer's boundary.

The rule (docs/security.md, the same as the data page's batches): a person sees and edits only
records whose branches *all* lie inside their boundary (`Principal.boundary(store)`; None = the
whole bank). A bank-wide plan names no branches, so only whole-bank people see it. A branch id the
master does not know is outside every boundary. Permission checks live here too, so every write
starts with the same two questions: may this person do it, and there?
"""

from __future__ import annotations

from collections.abc import Iterable

from data.plans.checks import Problem, ProblemCode, Problems, outside_scope_problem
from data.plans.model import ScopeKind


def id_list(value) -> list[str]:
    """Ids from a list or a comma-separated text: stripped, de-duplicated, in the order given."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[str] = []
    for x in items:
        s = str(x).strip()
        if s and s not in out:
            out.append(s)
    return out


def need(problems: Problems, principal, permission: str, what_zh: str, what_en: str) -> bool:
    """Record a problem unless `principal` holds `permission` (role or group)."""
    if principal.can(permission):
        return True
    problems.add("permission", ProblemCode.NOT_PERMITTED,
                 f"{principal.name}（{principal.role}）无权{what_zh}（需要 {permission} 权限）",
                 f"{principal.name} ({principal.role}) may not {what_en} (needs the {permission} permission)")
    return False


def inside(branches: Iterable[str] | None, boundary: frozenset[str] | None) -> bool:
    """True when every branch lies inside the boundary; no branches (bank-wide) only for the whole bank."""
    if boundary is None:
        return True
    ids = set(branches or ())
    return bool(ids) and ids <= boundary


class Master:
    """The branch master as the checks need it: known ids and each region's branches (read once per write)."""

    def __init__(self, store, cur=None):
        rows = store.query("plans.regions").rows(cur)
        self.regions: dict[str, list[str]] = {r: list(ids) for r, ids in rows}
        self.ids = frozenset(b for ids in self.regions.values() for b in ids)
        # branches without a region are still branches
        self._store, self._cur = store, cur

    def unknown(self, ids: list[str]) -> list[str]:
        missing = [b for b in ids if b not in self.ids]
        if not missing:
            return []
        known = {r[0] for r in self._store.query("plans.known_branches", ids=missing).rows(self._cur)}
        return [b for b in missing if b not in known]


def resolve(problems: Problems, master: Master, boundary: frozenset[str] | None, kind, region,
            branches) -> tuple[ScopeKind | None, str | None, list[str] | None]:
    """(scope kind, region, branch ids) of a plan, each problem recorded: an unknown region or
    branch, a region plan without a region, a branches plan without branches, anything outside."""
    sk = problems.choice("scope_kind", kind, ScopeKind, "范围类型")
    region = (str(region).strip() or None) if region is not None else None
    ids = id_list(branches)
    match sk:
        case None:
            return None, None, None
        case ScopeKind.BANK:
            if boundary is not None:
                problems.append(Problem("scope_kind", ProblemCode.OUTSIDE_SCOPE,
                                        "超出您的数据范围：全行方案仅限全行权限的人员",
                                        "outside your access scope: a bank-wide plan needs the whole bank"))
            return sk, None, None
        case ScopeKind.REGION:
            if region is None:
                problems.add("scope_region", ProblemCode.REQUIRED, "区域方案须指定区域", "a region plan needs scope_region")
                return sk, None, None
            if region not in master.regions:
                problems.add("scope_region", ProblemCode.UNKNOWN_REGION, f"机构表中没有区域 {region}",
                             f"the branch master has no region {region}")
                return sk, region, None
            ids = master.regions[region]
        case ScopeKind.BRANCHES:
            region = None
            if not ids:
                problems.add("scope_branches", ProblemCode.REQUIRED, "指定机构的方案须列出机构号",
                             "a branches plan needs scope_branches")
                return sk, None, None
            unknown = master.unknown(ids)
            if unknown:
                problems.add("scope_branches", ProblemCode.UNKNOWN_BRANCH, f"机构表中没有机构号：{', '.join(unknown)}",
                             f"unknown branch id: {', '.join(unknown)}")
                return sk, None, ids
    if boundary is not None and not set(ids) <= boundary:  # a region is named, not its branches
        problems.append(outside_scope_problem("scope_region", [region]) if sk == ScopeKind.REGION
                        else outside_scope_problem("scope_branches", set(ids) - boundary))
    return sk, region, sorted(ids)

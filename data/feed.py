"""The work-dynamics feed (工作动态): notices, meeting records, automatic items, reads — scoped and audited.

Plain Python (no Streamlit) on the ops schema of migration 0013; every statement is a named block of
data/sql/feed.sql. `Feed(store)` writes notices (通知公告: title, body, audience, pin) and meeting
records (会议纪要: decisions and follow-up items with an owner and a deadline, each follow-up
optionally linked to a plan the writer can see), pins, and reads (unread markers per person). Two
hooks write automatic items inside the caller's transaction: `plan_approved` (data/plans/store.py,
the approve move) and `anomalies_raised` (anomaly/store.py, a scan's high-severity flags); each is
idempotent on its source (UNIQUE (kind, source_ref)).

Every accepted write is one `store.transaction()` with its audit row; a refused one collects every
problem (`data.plans.checks.Problems`) and raises `FeedError` with all of them, writing nothing.

Who sees what (the SQL file's header): notices and meetings reach the whole bank, or everyone whose
boundary holds a branch of their audience; automatic items carry figures or a plan of their scope, so
they follow the plans rule — every audience branch inside the boundary. Bodies are stored verbatim;
pages show them as inert text (pages/_ui/widgets.inert), never as Markdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, is_dataclass
from datetime import date, datetime
from enum import StrEnum

import pandas as pd
from pydantic import BaseModel, ConfigDict

from data.audit import audit
from data.plans.checks import MAX_TITLE, PlanError, Problem, ProblemCode, Problems, not_found_problem
from data.plans.scope import Master, id_list, inside, need

FeedError = PlanError  # the same "every problem of a refused write" as plans (field, code, 中文, English)
MAX_BODY = 5_000
MAX_ACTIONS = 50
POST = "post"  # the permission to post notices and meeting records and to pin (data/users.PERMISSIONS)


class FeedKind(StrEnum):
    NOTICE = "notice"
    MEETING = "meeting"
    PLAN_APPROVED = "plan_approved"
    ANOMALY_RAISED = "anomaly_raised"

    def label(self, lang: str = "zh") -> str:
        return KIND_LABELS[self.value][0 if lang == "zh" else 1]


class Audience(StrEnum):
    BANK = "bank"
    REGION = "region"
    BRANCHES = "branches"


class ActionKind(StrEnum):
    DECISION = "decision"
    FOLLOW_UP = "follow_up"


KIND_LABELS = {"notice": ("通知公告", "Notice"), "meeting": ("会议纪要", "Meeting record"),
               "plan_approved": ("方案批准", "Plan approved"), "anomaly_raised": ("严重异常", "High-severity anomaly")}
PEOPLE_KINDS = frozenset({FeedKind.NOTICE, FeedKind.MEETING})  # addressed to people; the rest follow the data


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedItem(_Record):
    """One item as a reader sees it: `read_at` is when *they* read it (None: unread)."""

    item_id: int
    kind: FeedKind
    title: str
    body: str | None = None
    title_en: str | None = None
    body_en: str | None = None
    audience_kind: Audience
    audience_value: str | None = None
    author: str
    created_at: datetime
    pinned: bool = False
    meeting_on: date | None = None
    source_ref: str | None = None
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def title_in(self, lang: str) -> str:
        return self.title_en if lang != "zh" and self.title_en else self.title

    def body_in(self, lang: str) -> str | None:
        return self.body_en if lang != "zh" and self.body_en else self.body


class FeedAction(_Record):
    """A decision or a follow-up of a meeting; `plan_title` only when the reader can see the plan."""

    item_id: int
    seq: int
    action_kind: ActionKind
    text: str
    owner: str | None = None
    deadline: date | None = None
    plan_id: str | None = None
    plan_title: str | None = None
    plan_visible: bool = False


@dataclass(frozen=True)
class FollowUp:
    """A follow-up item (跟进事项): what, who (责任人), by when; optionally the plan it feeds."""

    text: str
    owner: str
    deadline: date | str
    plan_id: str | None = None


ITEM_FIELDS = tuple(FeedItem.model_fields)
ACTION_FIELDS = tuple(FeedAction.model_fields)


class Feed:
    """The feed on the embedded store. `channel` (web | cli) is recorded on the audit rows."""

    def __init__(self, store, channel: str = "web"):
        self.store = store
        self.q = store.query
        self.channel = channel

    # -- writes --------------------------------------------------------------------------------
    def post_notice(self, principal, *, title, body, audience_kind="bank", audience_region=None,
                    audience_branches=None, pinned: bool = False) -> int:
        """A notice (通知公告) to the bank, a region or branches inside the writer's boundary. Needs `post`."""
        return self._post(principal, FeedKind.NOTICE, title=title, body=body, audience_kind=audience_kind,
                          audience_region=audience_region, audience_branches=audience_branches, pinned=pinned)

    def post_meeting(self, principal, *, title, meeting_on, body=None, decisions: Iterable = (),
                     follow_ups: Iterable = (), audience_kind="bank", audience_region=None, audience_branches=None,
                     pinned: bool = False) -> int:
        """A meeting record (会议纪要): its day, a summary, decisions (texts) and follow-ups (`FollowUp`
        or mappings: text, owner, deadline, plan_id). At least one decision or follow-up; a linked
        plan must exist inside the writer's boundary. Needs `post`."""
        return self._post(principal, FeedKind.MEETING, title=title, body=body, audience_kind=audience_kind,
                          audience_region=audience_region, audience_branches=audience_branches, pinned=pinned,
                          meeting_on=meeting_on, decisions=list(decisions), follow_ups=list(follow_ups))

    def set_pinned(self, item_id: int, pinned: bool, principal) -> None:
        """Pin (置顶) or unpin an item. Needs `post` and the item's whole audience inside the boundary."""
        boundary = principal.boundary(self.store)
        with self.store.transaction() as cur:
            row = self._visible_row(cur, item_id, boundary)
            p = Problems()
            need(p, principal, POST, "置顶动态", "pin an item")
            if boundary is not None and not inside(row[2], boundary):
                p.add("item_id", ProblemCode.OUTSIDE_SCOPE, "该动态的范围超出您的数据范围，不能置顶",
                      "the item's audience reaches beyond your access scope: you cannot pin it")
            p.raise_if_any()
            self.q("feed.set_pinned", item_id=int(item_id), pinned=bool(pinned)).run(cur)
            audit(self.store, principal, "feed_pin", target=str(item_id), channel=self.channel, cur=cur,
                  detail={"pinned": bool(pinned)})

    def mark_read(self, item_ids: Iterable[int], principal) -> int:
        """Record that the person read these items (those they may see); returns how many were asked."""
        ids = sorted({int(i) for i in item_ids})
        if not ids:
            return 0
        bound = _bound(principal.boundary(self.store))
        with self.store.transaction() as cur:
            seen = [r[0] for r in self.q("feed.visible_ids", ids=ids, boundary=bound).rows(cur)]
            if not seen:
                return 0
            self.q("feed.mark_read", user=principal.name, ids=seen, now=datetime.now()).run(cur)
            audit(self.store, principal, "feed_read", target=",".join(map(str, seen[:20])), channel=self.channel,
                  cur=cur, detail={"items": len(seen)})
        return len(seen)

    # -- reads ---------------------------------------------------------------------------------
    def items(self, principal, *, kinds: Iterable[str] | None = None, q: str | None = None, unread: bool = False,
              limit: int = 50, offset: int = 0) -> list[FeedItem]:
        """The person's items, pinned first then newest; `q` searches titles, bodies and meeting
        decisions / follow-ups (case-insensitive), always within the person's view."""
        kinds = [FeedKind(k).value for k in kinds] if kinds else None
        text = (str(q).strip().lower() or None) if q is not None else None
        rows = self.q("feed.list_items", user=principal.name, boundary=_bound(principal.boundary(self.store)),
                      kinds=kinds, q=text, unread=bool(unread), limit=int(limit), offset=int(offset)).rows()
        return [FeedItem(**dict(zip(ITEM_FIELDS, r, strict=True))) for r in rows]

    def unread_count(self, principal) -> int:
        return int(self.q("feed.unread_count", user=principal.name,
                          boundary=_bound(principal.boundary(self.store))).value())

    def actions(self, item_ids: Iterable[int], principal) -> dict[int, list[FeedAction]]:
        """The decisions and follow-ups of these (visible) meetings, by item."""
        ids = sorted({int(i) for i in item_ids})
        out: dict[int, list[FeedAction]] = {i: [] for i in ids}
        if not ids:
            return out
        bound = _bound(principal.boundary(self.store))
        seen = {r[0] for r in self.q("feed.visible_ids", ids=ids, boundary=bound).rows()}
        for r in self.q("feed.item_actions", ids=sorted(seen) or [-1], boundary=bound).rows():
            a = FeedAction(**dict(zip(ACTION_FIELDS, r, strict=True)))
            out[a.item_id].append(a)
        return out

    # -- helpers -------------------------------------------------------------------------------
    def _post(self, principal, kind: FeedKind, *, title, body, audience_kind, audience_region, audience_branches,
              pinned, meeting_on=None, decisions=(), follow_ups=()) -> int:
        boundary = principal.boundary(self.store)
        now = datetime.now()
        with self.store.transaction() as cur:
            p = Problems()
            need(p, principal, POST, f"发布{kind.label('zh')}", f"post a {kind.label('en').lower()}")
            values = {"title": p.text("title", title, "标题", limit=MAX_TITLE),
                      "body": _verbatim(p, "body", body, "正文", required=kind == FeedKind.NOTICE)}
            aud = _audience(p, Master(self.store, cur), boundary, audience_kind, audience_region, audience_branches)
            day = p.day("meeting_on", meeting_on, "会议日期") if kind == FeedKind.MEETING else None
            actions = self._check_actions(p, cur, boundary, decisions, follow_ups) if kind == FeedKind.MEETING else []
            if kind == FeedKind.MEETING and not actions and not any(x.field.startswith(("decisions", "follow_ups"))
                                                                    for x in p):
                p.add("decisions", ProblemCode.REQUIRED, "会议纪要至少须有一项决定或跟进事项",
                      "a meeting record needs at least one decision or follow-up")
            p.raise_if_any()
            item_id = self.q("feed.insert_item", kind=kind.value, **values, **aud, author=principal.name, now=now,
                             pinned=bool(pinned), meeting_on=day).value(cur)
            for n, a in enumerate(actions, 1):
                self.q("feed.insert_action", item_id=item_id, seq=n, **a).run(cur)
            audit(self.store, principal, f"feed_{kind.value}", target=str(item_id), channel=self.channel, cur=cur,
                  detail={"title": values["title"], "audience": aud["audience_kind"],
                          "audience_value": aud["audience_value"], "actions": len(actions), "pinned": bool(pinned)})
        return int(item_id)

    def _check_actions(self, p: Problems, cur, boundary, decisions, follow_ups) -> list[dict]:
        if len(decisions) + len(follow_ups) > MAX_ACTIONS:
            p.add("decisions", ProblemCode.TOO_LONG, f"决定与跟进事项合计超过 {MAX_ACTIONS} 项",
                  f"more than {MAX_ACTIONS} decisions and follow-ups")
        out = []
        for i, d in enumerate(decisions, 1):
            text = _verbatim(p, f"decisions[{i}]", d, "决定事项", limit=MAX_TITLE * 5)
            out.append({"action_kind": "decision", "text": text, "owner": None, "deadline": None, "plan_id": None})
        for i, f in enumerate(follow_ups, 1):
            d, field = _fields(f), f"follow_ups[{i}]"
            unknown = set(d) - {"text", "owner", "deadline", "plan_id"}
            if unknown:
                p.add(field, ProblemCode.UNKNOWN_VALUE, f"跟进事项含未知字段：{', '.join(sorted(unknown))}",
                      f"unknown follow-up fields: {', '.join(sorted(unknown))}")
            plan_id = p.text(f"{field}.plan_id", d.get("plan_id"), "关联方案", required=False, limit=MAX_TITLE)
            if plan_id is not None and not self._plan_visible(cur, plan_id, boundary):
                p.add(f"{field}.plan_id", ProblemCode.UNKNOWN_REF, f"您的数据范围内没有方案 {plan_id}",
                      f"no plan {plan_id} within your access scope")
            out.append({"action_kind": "follow_up",
                        "text": _verbatim(p, f"{field}.text", d.get("text"), "跟进事项", limit=MAX_TITLE * 5),
                        "owner": p.text(f"{field}.owner", d.get("owner"), "责任人", limit=MAX_TITLE),
                        "deadline": p.day(f"{field}.deadline", d.get("deadline"), "完成期限"), "plan_id": plan_id})
        return out

    def _plan_visible(self, cur, plan_id: str, boundary) -> bool:
        """The same answer for 'no such plan' and 'outside your scope' (no existence oracle)."""
        row = self.q("plans.get_plan", plan_id=plan_id).first(cur)
        return row is not None and inside(row[7], boundary)  # scope_branches, as PlanStore reads it

    def _visible_row(self, cur, item_id, boundary) -> tuple:
        try:
            iid = int(item_id)
        except (TypeError, ValueError):
            iid = None
        seen = iid is not None and self.q("feed.visible_ids", ids=[iid], boundary=_bound(boundary)).value(cur)
        if not seen:
            raise FeedError([not_found_problem("item_id", "动态", "feed item", str(item_id))])
        return self.q("feed.item_audience", item_id=iid).first(cur)


# -- the hooks (inside the caller's transaction) ---------------------------------------------------
def plan_approved(store, cur, plan, principal, now: datetime) -> int | None:
    """The 方案批准 item of an approved plan (data/plans/store.py `move`, in its transaction); None when
    the plan has one already. The audience is the plan's scope. The approval's own audit row
    (`plan_move`) names the item (`feed_item`): one change, one audit row."""
    kind = str(getattr(plan.scope_kind, "value", plan.scope_kind))
    branches = list(plan.scope_branches) if plan.scope_branches else None
    value = plan.scope_region if kind == Audience.REGION else (",".join(branches) if branches else None)
    item_id = store.query(
        "feed.insert_auto_item", kind=FeedKind.PLAN_APPROVED.value, title=f"方案已批准：{plan.title}"[:MAX_TITLE],
        body=f"{plan.plan_id} · 牵头部门：{plan.owner_dept}\n{plan.change_text}",
        title_en=f"Plan approved: {plan.title}"[:MAX_TITLE],
        body_en=f"{plan.plan_id} · lead department: {plan.owner_dept}\n{plan.change_text}",
        audience_kind=kind, audience_value=value, audience_branches=branches, author=principal.name, now=now,
        source_ref=plan.plan_id).value(cur)
    return item_id


def anomalies_raised(store, cur, flags: pd.DataFrame, now: datetime) -> int:
    """anomaly_raised items for high-severity flags (anomaly/store.py, in the scan's transaction).
    `flags`: anomaly_id, scope_kind, scope_value, title, body, title_en, body_en. Returns how many
    items are new (a flag that has one is skipped); one audit row for them all."""
    if flags.empty:
        return 0
    frame = flags[["anomaly_id", "scope_kind", "scope_value", "title", "body", "title_en", "body_en"]].astype(object)
    cur.register("feed_new", frame)
    try:
        new = [r[0] for r in store.query("feed.insert_anomaly_items", now=now).rows(cur)]
    finally:
        cur.unregister("feed_new")
    if new:
        audit(store, "scan", "feed_auto", target=f"{len(new)} items", channel="scan", cur=cur,
              detail={"kind": FeedKind.ANOMALY_RAISED.value, "items": len(new), "first": min(new)})
    return len(new)


# -- checks ----------------------------------------------------------------------------------------
def _audience(p: Problems, master: Master, boundary, kind, region, branches) -> dict:
    """The audience as stored: bank (whole-bank writers only), a region (its branches now) or branches,
    every branch known and inside the writer's boundary."""
    ak = p.choice("audience_kind", getattr(kind, "value", kind), Audience, "发布范围")
    region = (str(region).strip() or None) if region is not None else None
    ids = id_list(branches)
    out = {"audience_kind": ak.value if ak else None, "audience_value": None, "audience_branches": None}
    match ak:
        case None:
            return out
        case Audience.BANK:
            if boundary is not None:
                p.append(Problem("audience_kind", ProblemCode.OUTSIDE_SCOPE,
                                 "超出您的数据范围：发给全行的动态仅限全行权限的人员发布",
                                 "outside your access scope: only whole-bank people post to the whole bank"))
            return out
        case Audience.REGION:
            if region is None:
                p.add("audience_region", ProblemCode.REQUIRED, "发给区域的动态须指定区域", "a region audience needs a region")
                return out
            if region not in master.regions:
                p.add("audience_region", ProblemCode.UNKNOWN_REGION, f"机构表中没有区域 {region}",
                      f"the branch master has no region {region}")
                return out
            ids, field = master.regions[region], "audience_region"
        case Audience.BRANCHES:
            if not ids:
                p.add("audience_branches", ProblemCode.REQUIRED, "发给指定机构的动态须列出机构号",
                      "a branches audience needs branch ids")
                return out
            unknown = master.unknown(ids)
            if unknown:
                p.add("audience_branches", ProblemCode.UNKNOWN_BRANCH, f"机构表中没有机构号：{', '.join(unknown)}",
                      f"unknown branch id: {', '.join(unknown)}")
                return out
            field = "audience_branches"
    if boundary is not None and not set(ids) <= boundary:
        shown = region if ak == Audience.REGION else ", ".join(sorted(set(ids) - boundary))
        p.add(field, ProblemCode.OUTSIDE_SCOPE, f"超出您的数据范围：{shown}", f"outside your access scope: {shown}")
    return {**out, "audience_value": region if ak == Audience.REGION else ",".join(sorted(ids)),
            "audience_branches": sorted(ids)}


def _verbatim(p: Problems, field: str, value, label_zh: str, *, required: bool = True, limit: int = MAX_BODY):
    """A user text kept exactly as typed (only surrounding blank space trimmed): `<script>`, Markdown
    and HTML are data here; escaping is the page's job (`inert`)."""
    return p.text(field, value, label_zh, required=required, limit=limit)


def _fields(x) -> dict:
    if isinstance(x, Mapping):
        return dict(x)
    if is_dataclass(x):
        return asdict(x)
    return {"text": x}


def _bound(boundary) -> list[str] | None:
    return None if boundary is None else sorted(boundary)

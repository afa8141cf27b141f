"""The whole transition table of data/plans/transitions.py, walked: every (status, action) of
plans and notices × every role (and the supervision group). A combination the table allows for
the person's permissions moves the record and writes its history and one audit row; every other
one is refused with not_allowed / not_permitted and changes nothing (table checksums, row counts
and the audit log compared before and after)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from helpers_plans import ROLES_WALKED, TODAY, notice_in, plan_in, plan_store, state

from data import audit
from data.plans import PlanError, PlanStore, SupervisionStore
from data.plans.model import NoticeStatus, PlanStatus
from data.plans.transitions import ACTIONS, TRANSITIONS, Entity, allowed_actions, move_for, permissions
from data.users import GROUP_GRANTS, PERMISSIONS

NOTICE_RESTING = [s for s in NoticeStatus if s != NoticeStatus.RECHECKED_FAIL]
CASES = [("plan", s.value, a, who) for s in PlanStatus for a in ACTIONS[Entity.PLAN] for who in ROLES_WALKED] + \
    [("notice", s.value, a, who) for s in NOTICE_RESTING for a in ACTIONS[Entity.NOTICE] for who in ROLES_WALKED]


@pytest.fixture(scope="module")
def world(demo_db_template, tmp_path_factory):
    store, people = plan_store(demo_db_template, tmp_path_factory.mktemp("plans_walk"))
    yield store, people, {}
    store.close()


def _record(store, people, cache, entity, status, fresh):
    """A record in `status`: a new one for a move that will succeed, else one shared by the refusals."""
    make = plan_in if entity == "plan" else notice_in
    if fresh:
        return make(store, people["adm"], status)
    if (entity, status) not in cache:
        cache[(entity, status)] = make(store, people["adm"], status)
    return cache[(entity, status)]


def _do(store, entity, rid, action, who):
    if entity == "plan":
        ps = PlanStore(store)
        return ps, ps.move(rid, action, who, "测试")
    sv = SupervisionStore(store)
    return sv, sv.move_notice(rid, action, who, "测试", measures="已整改", new_deadline=TODAY + timedelta(days=60))


@pytest.mark.parametrize(("entity", "status", "action", "who"), CASES,
                         ids=[f"{e}:{s}:{a}:{w}" for e, s, a, w in CASES])
def test_every_status_action_role(world, entity, status, action, who):
    store, people, cache = world
    p = people[who]
    m = move_for(entity, status, action)
    allowed = m is not None and p.can(m.permission)
    assert (action in allowed_actions(entity, status, p)) == allowed
    rid = _record(store, people, cache, entity, status, fresh=allowed)
    if entity == "plan" and action == "complete" and allowed:  # its precondition: every step done
        PlanStore(store).complete_step(rid, 1, people["adm"])
    before = state(store)
    n_audit = len(audit.search(store, limit=100_000))
    if not allowed:
        with pytest.raises(PlanError) as exc:
            _do(store, entity, rid, action, p)
        assert exc.value.codes() == {"not_allowed" if m is None else "not_permitted"}, exc.value
        assert state(store) == before
        return
    _, rec = _do(store, entity, rid, action, p)
    assert rec.status == m.to_status
    assert len(audit.search(store, limit=100_000)) == n_audit + 1
    after = state(store)
    hist = "ops.plan_history" if entity == "plan" else "ops.notice_history"
    assert after[hist][0] == before[hist][0] + 1


def test_the_walk_covers_the_table():
    walked = {(e, s, a) for e, s, a, _ in CASES}
    assert {(str(e), str(s), str(a)) for e, s, a in TRANSITIONS} <= walked
    # a failed re-check is an outcome, never a resting status: nothing starts there
    assert not [k for k in TRANSITIONS if k[1] == NoticeStatus.RECHECKED_FAIL]
    assert move_for("notice", "rectified", "recheck_fail").to_status == NoticeStatus.ISSUED


def test_the_table_names_only_granted_permissions():
    granted = frozenset().union(*PERMISSIONS.values(), *GROUP_GRANTS.values())
    assert permissions() <= granted
    assert PERMISSIONS["analyst"] >= {"plan"} and "approve" not in PERMISSIONS["analyst"]
    assert "supervise" in PERMISSIONS["admin"] and "supervise" not in PERMISSIONS["manager"]


def test_an_unknown_action_is_refused_and_writes_nothing(world):
    store, people, cache = world
    rid = _record(store, people, cache, "plan", "proposed", fresh=False)
    before = state(store)
    with pytest.raises(PlanError) as exc:
        PlanStore(store).move(rid, "teleport", people["adm"])
    assert exc.value.codes() == {"unknown_value"}
    assert state(store) == before


def test_the_audit_chain_verifies_after_the_walk(world):
    store, *_ = world
    v = audit.verify(store)
    assert v.ok and v.rows > 0, v

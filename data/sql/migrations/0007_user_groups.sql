-- Migration 0007: groups on each account (comma-separated, '' = none). A group grants permissions
-- beyond the role (data/users.GROUP_GRANTS): `supervision` grants `supervise` (inspections,
-- 整改通知书, re-checks). A change of groups raises the account's version like a change of role
-- (migration 0005), so open sessions pick it up at once.

ALTER TABLE ops.users ADD COLUMN groups VARCHAR DEFAULT '';

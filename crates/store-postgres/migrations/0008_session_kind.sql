-- anxin PostgreSQL schema, migration 8: every session says what it was issued for (issue 12).
--
-- A page session (the anxin_session cookie, from the sign-in form) opens pages only; an API
-- session (a bearer token, from POST /api/sessions) opens the API only. Sessions made before
-- this migration carry no kind and are ended: everyone signs in once more.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN kind TEXT NOT NULL CHECK (kind IN ('page', 'api'));

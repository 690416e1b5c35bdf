"""investing: several tickets of one listing in one statement (function biaodi_invest_many)

Group commit for the rush. When investments in one listing queue up in an API worker, the
worker sends them together as one statement, `SELECT biaodi_invest_many(…)`, with the
tickets as parallel arrays in arrival order. The function:

1. locks the listing row first (`FOR NO KEY UPDATE`, the lock the single path's `UPDATE` of
   `remaining_fen` takes: it does not block the foreign-key checks of other transactions);
2. locks, in investor id order, the exposure row of every investor the batch's tokens name
   (creating a missing one), then both wallet rows of each in account id order — the global
   order every other writer follows (listing, exposure, wallet, the audit head last), taken
   before any ticket writes, so that two batches never wait on each other in opposite orders
   and no ticket waits for an investor's row while the batch holds the audit head;
3. runs each ticket through `biaodi_invest` (0016, as replaced by 0017) in arrival order, in a
   subtransaction of its own: a ticket refused after it wrote (the wallet, the cap, the
   level's total: `biaodi <code>`, SQLSTATE P0001) is rolled back alone, exactly as the single
   statement would have been, and its refusal and facts come back in its slot.

Every ticket therefore sees what the tickets before it did: the remaining amount, its
investor's stake and exposure (the counters' triggers fire per statement), its key's record
(a second ticket with the same key is a replay or a conflict). A ticket after the one that
filled the listing is refused exactly as it would be one by one. It returns a JSON array, one
object per ticket, each what `biaodi_invest` returns for that ticket alone.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 17:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION biaodi_invest_many(
    p_tokens text[], p_listing bigint, p_amounts bigint[],
    p_keys text[], p_digests text[], p_route text, p_sources text[],
    p_todays date[], p_nows timestamptz[],
    p_min_ticket bigint, p_step bigint, p_cap bigint,
    p_levels int[], p_per_investment bigint[], p_total bigint[],
    p_audits text[], p_request_ids text[]
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_users bigint[];
    v_results jsonb := '[]'::jsonb;
    v_one jsonb;
    v_message text;
    v_detail text;
BEGIN
    PERFORM 1 FROM listings WHERE id = p_listing FOR NO KEY UPDATE;

    SELECT array_agg(DISTINCT user_id ORDER BY user_id) INTO v_users
      FROM auth_tokens WHERE token_hash = ANY (p_tokens);
    IF v_users IS NOT NULL THEN
        INSERT INTO investor_exposure (investor_id, outstanding_fen)
        SELECT u, 0 FROM unnest(v_users) AS u
         WHERE NOT EXISTS (SELECT 1 FROM investor_exposure WHERE investor_id = u)
        ORDER BY u
        ON CONFLICT (investor_id) DO NOTHING;
        PERFORM 1 FROM investor_exposure WHERE investor_id = ANY (v_users)
         ORDER BY investor_id FOR UPDATE;
        PERFORM 1 FROM accounts
         WHERE code = ANY (ARRAY(SELECT concat('investor:', u, ':', side)
                                   FROM unnest(v_users) AS u,
                                        unnest(ARRAY['available', 'frozen']) AS side))
         ORDER BY id FOR UPDATE;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
        BEGIN
            v_one := biaodi_invest(p_tokens[i], NULL, p_listing, p_amounts[i], p_keys[i],
                                   p_digests[i], p_route, p_sources[i], p_todays[i], p_nows[i],
                                   p_min_ticket, p_step, p_cap, p_levels, p_per_investment,
                                   p_total, p_audits[i], p_request_ids[i]);
        EXCEPTION WHEN raise_exception THEN
            GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
            IF v_message NOT LIKE 'biaodi %' THEN
                RAISE;
            END IF;
            v_one := jsonb_build_object('refused', substr(v_message, 8))
                     || coalesce(nullif(v_detail, '')::jsonb, '{}'::jsonb);
        END;
        v_results := v_results || jsonb_build_array(v_one);
    END LOOP;
    RETURN v_results;
END
$fn$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS biaodi_invest_many(text[], bigint, bigint[], "
                   "text[], text[], text, text[], date[], timestamptz[], bigint, "
                   "bigint, bigint, int[], bigint[], bigint[], text[], text[])")

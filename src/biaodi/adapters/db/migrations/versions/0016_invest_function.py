"""investing: the investment command as one statement on PostgreSQL (function biaodi_invest)

The same steps as `services/investing/invest.py`, in the same order, run inside the database
so that an investment through the API is one round trip: the bearer token (revoked, expired,
account disabled), the idempotency record (a replay returns the first answer), the listing
open, the investor role, not one's own listing, suitability, the ticket; then the hot row
first, the investor's wallet (both rows, in id order), the per-investor cap and the level's
total once more now that the wallet is locked, the investment row, the `investment_freeze`
entry and its postings, the idempotency record with the answer, and the transaction's audit
record (migration 0015's chain), the head of the chain locked last.

A refusal found before anything is written comes back as `{"refused": code, …facts}`; one
found after (the wallet, the cap) raises SQLSTATE P0001 with the message `biaodi <code>` and
the facts as JSON in the detail, which rolls the statement back whole. The caller builds the
error a user sees from the facts with the domain's own checks (`invest.refusal`). SQLite has
no functions: there the same steps run as a few statements in one BEGIN IMMEDIATE.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from biaodi.adapters.db.audit_tables import GENESIS_HASH

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = r"""
CREATE OR REPLACE FUNCTION biaodi_invest(
    p_token text, p_user bigint, p_listing bigint, p_amount bigint,
    p_key text, p_digest text, p_route text, p_source text,
    p_today date, p_now timestamptz,
    p_min_ticket bigint, p_step bigint, p_cap bigint,
    p_levels int[], p_per_investment bigint[], p_total bigint[],
    p_audit text, p_request_id text
) RETURNS jsonb LANGUAGE plpgsql AS $fn$
DECLARE
    v_user bigint := p_user;
    v_token record;
    v_scope text;
    v_prev record;
    v_listing record;
    v_level int;
    v_valid date;
    v_outstanding bigint;
    v_remaining bigint;
    v_already bigint;
    v_available record;
    v_frozen record;
    v_investment bigint;
    v_entry bigint;
    v_body jsonb;
    v_wallet text;
    v_frozen_code text;
    v_payload text;
    v_head record;
BEGIN
    IF p_token IS NOT NULL THEN
        SELECT t.user_id, t.revoked, t.expires_at, u.status INTO v_token
          FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = p_token;
        IF NOT FOUND OR v_token.revoked THEN
            RETURN jsonb_build_object('refused', 'invalid_token');
        END IF;
        IF v_token.expires_at <= p_now THEN
            RETURN jsonb_build_object('refused', 'token_expired');
        END IF;
        IF v_token.status <> 'active' THEN
            RETURN jsonb_build_object('refused', 'account_disabled', 'user_id', v_token.user_id);
        END IF;
        v_user := v_token.user_id;
    END IF;
    v_scope := 'user:' || v_user || ':' || p_route;

    IF p_key IS NOT NULL THEN
        SELECT request_hash, status_code, response INTO v_prev
          FROM idempotency_records WHERE scope = v_scope AND key = p_key;
        IF FOUND THEN
            IF v_prev.request_hash <> p_digest THEN
                RETURN jsonb_build_object('refused', 'idempotency_conflict', 'user_id', v_user);
            END IF;
            RETURN jsonb_build_object('replayed', true, 'user_id', v_user,
                                      'status_code', v_prev.status_code,
                                      'body', v_prev.response::jsonb);
        END IF;
    END IF;

    SELECT status, remaining_fen, applicant_id, funding_deadline INTO v_listing
      FROM listings WHERE id = p_listing;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'not_found', 'user_id', v_user);
    END IF;
    IF v_listing.status <> 'published' OR v_listing.remaining_fen = 0
       OR (v_listing.funding_deadline IS NOT NULL AND p_today >= v_listing.funding_deadline) THEN
        RETURN jsonb_build_object('refused', 'open', 'user_id', v_user,
                                  'status', v_listing.status,
                                  'remaining', v_listing.remaining_fen,
                                  'deadline', v_listing.funding_deadline);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM user_roles WHERE user_id = v_user AND role = 'investor') THEN
        RETURN jsonb_build_object('refused', 'role_required', 'user_id', v_user);
    END IF;
    IF v_listing.applicant_id = v_user THEN
        RETURN jsonb_build_object('refused', 'self_investment', 'user_id', v_user);
    END IF;

    SELECT level, valid_until INTO v_level, v_valid FROM risk_assessments
     WHERE investor_id = v_user ORDER BY id DESC LIMIT 1;
    v_outstanding :=
        (SELECT COALESCE(SUM(amount_fen), 0) FROM investments
          WHERE investor_id = v_user AND status = 'frozen')
      + (SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM holdings
          WHERE investor_id = v_user AND status = 'active');
    IF v_level IS NULL OR v_valid < p_today OR NOT (v_level = ANY (p_levels))
       OR p_amount > COALESCE(p_per_investment[v_level], p_amount)
       OR v_outstanding + p_amount > COALESCE(p_total[v_level], v_outstanding + p_amount) THEN
        RETURN jsonb_build_object('refused', 'suitability', 'user_id', v_user,
                                  'level', v_level, 'valid_until', v_valid,
                                  'outstanding', v_outstanding);
    END IF;
    IF p_amount <= 0 OR p_amount > v_listing.remaining_fen
       OR (p_amount <> v_listing.remaining_fen
           AND (p_amount < p_min_ticket OR mod(p_amount, p_step) <> 0)) THEN
        RETURN jsonb_build_object('refused', 'ticket', 'user_id', v_user,
                                  'remaining', v_listing.remaining_fen);
    END IF;

    -- The hot row first: concurrent investments in this listing queue here, holding nothing.
    UPDATE listings SET remaining_fen = remaining_fen - p_amount
     WHERE id = p_listing AND status = 'published' AND remaining_fen >= p_amount
    RETURNING remaining_fen INTO v_remaining;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'listing_full', 'user_id', v_user);
    END IF;

    -- The wallet: both rows locked in id order, as every ledger entry locks accounts.
    v_wallet := concat('investor:', v_user, ':', 'available');
    v_frozen_code := concat('investor:', v_user, ':', 'frozen');
    PERFORM 1 FROM accounts WHERE code IN (v_wallet, v_frozen_code) ORDER BY id FOR UPDATE;
    UPDATE accounts SET balance = balance - p_amount
     WHERE code = v_wallet AND balance >= p_amount RETURNING id, balance INTO v_available;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'biaodi insufficient_balance',
            DETAIL = jsonb_build_object('user_id', v_user)::text;
    END IF;
    UPDATE accounts SET balance = balance + p_amount
     WHERE code = v_frozen_code RETURNING id, balance INTO v_frozen;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'biaodi no_account',
            DETAIL = jsonb_build_object('user_id', v_user, 'account', v_frozen_code)::text;
    END IF;

    -- The cap, now that this listing's earlier investments have committed (each statement of
    -- a function sees what committed before it under READ COMMITTED).
    SELECT COALESCE(SUM(amount_fen), 0) INTO v_already FROM investments
     WHERE listing_id = p_listing AND investor_id = v_user AND status IN ('frozen', 'settled');
    IF v_already + p_amount > p_cap THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'biaodi investor_cap_exceeded',
            DETAIL = jsonb_build_object('user_id', v_user, 'already', v_already)::text;
    END IF;
    -- The level's total once more: the wallet lock queues this investor's other investments.
    v_outstanding :=
        (SELECT COALESCE(SUM(amount_fen), 0) FROM investments
          WHERE investor_id = v_user AND status = 'frozen')
      + (SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM holdings
          WHERE investor_id = v_user AND status = 'active');
    IF v_outstanding + p_amount > COALESCE(p_total[v_level], v_outstanding + p_amount) THEN
        RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = 'biaodi suitability',
            DETAIL = jsonb_build_object('user_id', v_user, 'level', v_level,
                                        'valid_until', v_valid,
                                        'outstanding', v_outstanding)::text;
    END IF;

    INSERT INTO investments (listing_id, investor_id, amount_fen, status, source,
                             subscribed_on, created_at)
    VALUES (p_listing, v_user, p_amount, 'frozen', p_source, p_today, p_now)
    RETURNING id INTO v_investment;
    INSERT INTO journal_entries (kind, memo, idempotency_key, request_hash, actor_id,
                                 business_date, created_at)
    VALUES ('investment_freeze', 'listing ' || p_listing, NULL, NULL, NULL, p_today, p_now)
    RETURNING id INTO v_entry;
    INSERT INTO postings (entry_id, account_id, amount, balance_after) VALUES
        (v_entry, v_available.id, p_amount, v_available.balance),
        (v_entry, v_frozen.id, -p_amount, v_frozen.balance);

    v_body := jsonb_build_object(
        'id', v_investment, 'listing_id', p_listing,
        'amount', (p_amount / 100)::text || '.' || lpad(mod(p_amount, 100)::text, 2, '0'),
        'status', 'frozen',
        'listing_remaining',
            (v_remaining / 100)::text || '.' || lpad(mod(v_remaining, 100)::text, 2, '0'),
        'listing_status', 'published');
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency_records (scope, key, request_hash, status_code, response,
                                         created_at)
        VALUES (v_scope, p_key, p_digest, 201, v_body::json, p_now);
    END IF;
    -- The audit record, last: the chain's head is the last row this statement locks (as
    -- `adapters/db/audit.write_record` does before a COMMIT). The caller sent the payload as
    -- canonical JSON with the numbers only known here left as placeholders.
    v_payload := replace(replace(replace(replace(p_audit,
        '@@USER@@', v_user::text), '@@INVESTMENT@@', v_investment::text),
        '@@ENTRY@@', v_entry::text), '@@REMAINING@@', v_remaining::text);
    INSERT INTO audit_head (id, seq, prev_hash, hash)
    VALUES (1, 1, '{genesis}',
            encode(sha256(convert_to('{genesis}' || v_payload, 'UTF8')), 'hex'))
    ON CONFLICT (id) DO UPDATE SET seq = audit_head.seq + 1, prev_hash = audit_head.hash,
        hash = encode(sha256(convert_to(audit_head.hash || v_payload, 'UTF8')), 'hex')
    RETURNING seq, prev_hash, hash INTO v_head;
    INSERT INTO audit_records (seq, at, business_date, actor_id, request_id, payload,
                               prev_hash, hash)
    VALUES (v_head.seq, p_now, p_today, v_user, p_request_id, v_payload, v_head.prev_hash,
            v_head.hash);
    INSERT INTO audit_subjects (seq, subject_kind, subject_id)
    VALUES (v_head.seq, 'listing', p_listing), (v_head.seq, 'user', v_user);
    RETURN jsonb_build_object('user_id', v_user, 'status_code', 201, 'body', v_body,
                              'investment_id', v_investment, 'remaining', v_remaining);
END
$fn$;
""".replace("{genesis}", GENESIS_HASH)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS biaodi_invest(text, bigint, bigint, bigint, text, "
                   "text, text, text, date, timestamptz, bigint, bigint, bigint, int[], "
                   "bigint[], bigint[], text, text)")

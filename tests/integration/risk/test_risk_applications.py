"""Applications through the risk service on SQLite and PostgreSQL: each consistency check,
the bureau, shared identities, borrowing caps, grades, limits and referrals."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from biaodi.adapters.bureau import Verification
from biaodi.adapters.bureau.sandbox import SandboxBureau
from biaodi.adapters.clock import CST, FixedClock
from biaodi.adapters.db.risk_tables import RiskApplication, RiskDecision, RiskModelRow
from biaodi.adapters.db.tables import CreditLimit
from biaodi.bootstrap import Platform
from biaodi.domain.shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from biaodi.domain.shared.money import Money
from biaodi.services.listings import lifecycle as listings
from biaodi.services.risk import applications as risk_service
from biaodi.services.shared.tx import in_transaction
from factories import identity
from risk_support import application, apply, card_number, env, fired, register_borrower


@pytest.fixture
def bureau() -> SandboxBureau:
    return SandboxBureau()


@pytest.fixture
def risk_env(platform: Platform, bureau: SandboxBureau) -> risk_service.RiskEnv:
    return env(platform, bureau)


def _limit(platform: Platform, user_id: int) -> CreditLimit | None:
    with platform.uow() as uow:
        return uow.s.get(CreditLimit, user_id)


def test_a_sound_application_is_approved_with_grade_band_limit_and_reasons(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(person), risk_env)
    assert decision["outcome"] == "approved" and decision["fired_rules"] == []
    assert decision["grade"] in ("A", "B")
    assert Decimal(decision["rate_band"]["min"]) < Decimal(decision["rate_band"]["max"])
    assert Decimal(decision["expected_default_rate"]) < Decimal("0.1")
    assert decision["reasons"] and all(r["text_zh"] and r["text_en"]
                                       for r in decision["reasons"])
    # limit = min(income × grade multiple, grade cap, headroom under the 200,000 cap)
    pack = risk_env.pack
    policy = pack.grades[next(g for g in pack.grades if g.value == decision["grade"])]
    wanted = min(Money.yuan(20000) * policy.income_multiple, policy.limit_cap)
    assert decision["credit_limit"] == str(wanted) and decision["limit_applied"]
    row = _limit(platform, user_id)
    assert row is not None and row.source == "risk" and row.limit_fen == wanted.fen
    assert row.set_by is None and "grade" in row.reason
    with platform.uow() as uow:
        model = uow.s.get(RiskModelRow, decision["model_version"])
        assert model is not None and model.card["data"]["rows"] == 4454
        stored = uow.s.execute(select(RiskApplication)).scalar_one()
        assert stored.card_masked.startswith("6222") and "*" in stored.card_masked
        assert person["id_number"] not in str(stored.data)
    assert decision["challenger_probability_of_default"] is not None


def test_only_borrowers_apply(platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    from biaodi.services.accounts import users

    data = identity()
    cmd = users.Register(**data, roles=("investor",))
    view = in_transaction(platform.uow, lambda uow: users.register(uow, cmd, platform.cipher))
    with pytest.raises(Forbidden, match="only a borrower"):
        apply(platform, view.id, application(data), risk_env)


@pytest.mark.parametrize(("change", "field"), [
    ({"housing": "castle"}, "housing"),
    ({"term_months": 0}, "term_months"),
    ({"listing_kind": "lottery"}, "listing_kind"),
    ({"listing_kind": "collateral"}, "security_value"),
    ({"borrower_type": "legal"}, "credit_code"),
    ({"monthly_expenses": Money(-1)}, "monthly_expenses"),
    ({"bank_card": "12ab"}, "bank_card"),
    ({"mobile": "12345"}, "mobile"),
    ({"province": "Narnia"}, "province"),
    ({"device_id": "x"}, "device_id"),
])
def test_malformed_input_is_refused_naming_the_field(
        platform: Platform, risk_env: risk_service.RiskEnv, change: dict[str, object],
        field: str) -> None:
    user_id, person = register_borrower(platform)
    with pytest.raises(InvalidInput) as exc:
        apply(platform, user_id, application(person, **change), risk_env)
    assert exc.value.field == field


# --- consistency checks -----------------------------------------------------------------------
def test_id_number_with_a_wrong_check_digit_is_refused(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    number = person["id_number"]
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    decision = apply(platform, user_id, application(person, id_number=wrong), risk_env)
    rules = fired(decision)
    assert decision["outcome"] == "refused"
    assert rules["identity.id_checksum"]["message_en"] == (
        "the ID number is invalid: format, birth date or check digit is wrong (GB 11643)")
    assert rules["identity.id_checksum"]["message_zh"].startswith("身份证号码无效")
    assert "identity.account_mismatch" in rules
    assert not decision["limit_applied"] and _limit(platform, user_id) is None


def test_someone_elses_identity_is_refused(platform: Platform,
                                           risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    other = identity()
    decision = apply(platform, user_id, application(person, id_number=other["id_number"]),
                     risk_env)
    assert fired(decision)["identity.account_mismatch"]["message_en"] == (
        "the name or ID number differs from the applicant's real-name account")
    decision = apply(platform, user_id, application(person, real_name="李四"), risk_env)
    assert decision["outcome"] == "refused"
    assert "identity.account_mismatch" in fired(decision)


def test_declared_age_must_match_the_birth_date(platform: Platform,
                                                risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    good = application(person)
    decision = apply(platform, user_id, replace(good, declared_age=good.declared_age + 3),
                     risk_env)
    hit = fired(decision)["identity.age_mismatch"]
    assert decision["outcome"] == "refused"
    assert hit["message_en"] == (f"declared age {good.declared_age + 3} does not match the"
                                 f" ID's birth date (age {good.declared_age})")
    assert hit["message_zh"] == (f"申报年龄 {good.declared_age + 3} 岁与身份证出生日期"
                                 f"（{good.declared_age} 岁）不符")


def test_region_code_against_declared_province_is_referred(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(person, province="广东"), risk_env)
    assert decision["outcome"] == "referred" and not decision["limit_applied"]
    assert fired(decision)["identity.province_mismatch"]["message_en"] == (
        "the ID's region code is in 北京, the declared household registration in 广东")
    assert apply(platform, user_id, application(person, province="11"),
                 risk_env)["outcome"] == "approved"


def test_an_old_borrower_at_maturity_is_referred(platform: Platform,
                                                 risk_env: risk_service.RiskEnv) -> None:
    from datetime import date

    user_id, person = register_borrower(platform, birth=date(1962, 3, 1))
    decision = apply(platform, user_id, application(person, term_months=36), risk_env)
    assert fired(decision)["identity.age_at_maturity"]["message_en"].startswith(
        "the borrower will be 67 at maturity, over 65")


def test_bank_card_check_digit(platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    card = card_number(42)
    broken = card[:-1] + str((int(card[-1]) + 1) % 10)
    decision = apply(platform, user_id, application(person, bank_card=broken), risk_env)
    assert decision["outcome"] == "refused"
    assert fired(decision)["identity.bank_card"]["message_zh"] == "银行卡号校验失败"


def test_four_elements_mismatch_is_refused_and_unavailable_is_referred(
        platform: Platform, bureau: SandboxBureau, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    bureau.configure(person["id_number"], four_elements=Verification.MISMATCH,
                     mismatched=("mobile", "bank_card"))
    decision = apply(platform, user_id, application(person), risk_env)
    assert decision["outcome"] == "refused"
    assert fired(decision)["bureau.four_elements_mismatch"]["message_zh"] == (
        "四要素核验不一致：mobile, bank_card")
    bureau.configure(person["id_number"], fail=True)  # the provider is down
    decision = apply(platform, user_id, application(person), risk_env)
    assert decision["outcome"] == "referred"
    assert "bureau.four_elements_unavailable" in fired(decision)


def test_defaults_reported_by_other_platforms(platform: Platform, bureau: SandboxBureau,
                                              risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    bureau.configure(person["id_number"], defaults=2, platforms=2)
    decision = apply(platform, user_id, application(person), risk_env)
    assert fired(decision)["bureau.other_platform_defaults"]["message_en"] == (
        "the bureau reports 2 defaults on other platforms")
    assert decision["outcome"] == "referred"
    # the record feeds the model too: the score drops against the clean application
    bureau.configure(person["id_number"])
    clean = apply(platform, user_id, application(person), risk_env)
    assert decision["score"] < clean["score"]


def test_debt_to_income_refuses_and_refers(platform: Platform,
                                           risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(
        person, monthly_debt_payments=Money.yuan(12000)), risk_env)
    hit = fired(decision)["capacity.debt_to_income"]
    assert decision["outcome"] == "refused" and hit["threshold"] == "55%"
    assert hit["message_en"].endswith("of monthly income, above the 55% limit")
    decision = apply(platform, user_id, application(
        person, monthly_debt_payments=Money.yuan(7500)), risk_env)
    assert decision["outcome"] == "referred"
    assert "capacity.debt_to_income_review" in fired(decision)
    decision = apply(platform, user_id, application(person, monthly_income=Money(0)),
                     risk_env)
    assert fired(decision)["capacity.no_income"]["message_en"] == "no income declared"


def test_the_same_phone_card_or_device_under_another_identity(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    first_id, first = register_borrower(platform)
    second_id, second = register_borrower(platform)
    shared = application(first)
    assert apply(platform, first_id, shared, risk_env)["outcome"] == "approved"
    # the same identity reusing its own phone, card and device is no link
    assert apply(platform, first_id, shared, risk_env)["fired_rules"] == []
    own = application(second)

    card = apply(platform, second_id, replace(own, bank_card=shared.bank_card), risk_env)
    assert card["outcome"] == "refused"
    assert fired(card)["linked.bank_card"]["message_en"] == (
        "this bank card is used by 1 other identities")

    device = apply(platform, second_id, replace(own, device_id=shared.device_id), risk_env)
    assert device["outcome"] == "referred"
    assert fired(device)["linked.device"]["message_zh"] == "该设备已被其他 1 个身份用于申请"

    # first's phone is registered to first: using it under second's identity is referred
    phone = apply(platform, second_id, replace(own, mobile=first["mobile"]), risk_env)
    assert fired(phone)["linked.phone"]["message_en"] == (
        "this phone number is used by 2 other identities")  # first's account and application

    # links work both ways: second's attempts now link first's card and device to second
    again = apply(platform, first_id, shared, risk_env)
    assert {"linked.bank_card", "linked.device"} <= set(fired(again))


def test_a_device_farm_is_refused(platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    device = "farm-device-0001"
    for _ in range(3):
        uid, person = register_borrower(platform)
        apply(platform, uid, application(person, device_id=device), risk_env)
    uid, person = register_borrower(platform)
    decision = apply(platform, uid, application(person, device_id=device), risk_env)
    assert decision["outcome"] == "refused"
    assert "linked.device_many" in fired(decision) and "linked.device" not in fired(decision)


# --- borrowing caps -----------------------------------------------------------------------
def _outstanding_listing(platform: Platform, user_id: int, amount: Money) -> int:
    def act(uow):  # type: ignore[no-untyped-def]
        listings.set_credit_limit(uow, user_id, amount, actor_id=user_id, reason="test set-up")
        cmd = listings.CreateListing(kind="credit", title="working capital", amount=amount,
                                     annual_rate=Decimal("0.10"), term=12, term_unit="month",
                                     repayment_method="equal_installment")
        listing = listings.create_listing(uow, cmd, applicant_id=user_id,
                                          rules=platform.listing_rules)
        listings.submit(uow, listing.id, actor_id=user_id, rules=platform.listing_rules)
        return listing.id

    return in_transaction(platform.uow, act)


def test_platform_cap_for_natural_persons(platform: Platform,
                                          risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    listing_id = _outstanding_listing(platform, user_id, Money.yuan(190000))
    with platform.uow() as uow:
        assert risk_service.platform_outstanding(uow, user_id) == Money.yuan(190000)
    decision = apply(platform, user_id, application(person, amount=Money.yuan(20000)), risk_env)
    assert decision["outcome"] == "refused"
    assert fired(decision)["cn2016.borrowing_caps.platform"]["message_en"] == (
        "outstanding on this platform would reach 210,000.00 yuan, above the natural-person"
        " cap of 200,000.00")
    # the listing this application is for is not counted twice
    same = apply(platform, user_id, application(person, amount=Money.yuan(20000),
                                                listing_id=listing_id), risk_env)
    assert "cn2016.borrowing_caps.platform" not in fired(same)
    # within the cap: approved, and the limit is the headroom left under the cap
    small = apply(platform, user_id, application(person, amount=Money.yuan(10000)), risk_env)
    assert small["outcome"] == "approved" and small["credit_limit"] == "10000.00"


def test_all_platforms_cap_through_the_bureau(platform: Platform, bureau: SandboxBureau,
                                              risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    bureau.configure(person["id_number"], outstanding=Money.yuan(980000), platforms=4)
    decision = apply(platform, user_id, application(person), risk_env)
    assert fired(decision)["cn2016.borrowing_caps.all_platforms"]["message_zh"] == (
        "全部平台借款余额将达 1,010,000.00 元，超过自然人上限 1,000,000.00 元")
    bureau.configure(person["id_number"], outstanding=Money.yuan(900000))
    decision = apply(platform, user_id, application(person), risk_env)
    assert decision["outcome"] == "approved" and decision["credit_limit"] == "100000.00"


def test_legal_persons_have_their_own_caps(platform: Platform, bureau: SandboxBureau,
                                           risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    company = application(person, borrower_type="legal", company_name="某某科技有限公司",
                          credit_code="91350100M000100Y43")
    bureau.configure(person["id_number"], outstanding=Money.yuan(4990000))
    decision = apply(platform, user_id, replace(company, amount=Money.yuan(20000)), risk_env)
    assert "cn2016.borrowing_caps.legal_all_platforms" in fired(decision)
    assert "cn2016.borrowing_caps.all_platforms" not in fired(decision)
    bad_code = apply(platform, user_id, replace(company, credit_code="91350100M000100Y44"),
                     risk_env)
    assert fired(bad_code)["identity.credit_code"]["message_en"] == (
        "the unified social credit code is invalid (GB 32100)")


# --- listing types and packs ----------------------------------------------------------------
def test_instant_listings_banned_by_cn2016_capped_by_permissive(
        platform: Platform, bureau: SandboxBureau) -> None:
    user_id, person = register_borrower(platform)
    cn = apply(platform, user_id, application(person, listing_kind="instant"),
               env(platform, bureau))
    assert cn["outcome"] == "refused" and cn["rule_pack"].startswith("cn-2016@")
    assert fired(cn)["cn2016.instant_listing_ban"]["message_zh"] == "禁止发布秒标（暂行办法第十条）"
    loose = env(platform, bureau, pack="permissive")
    small = apply(platform, user_id, application(person, listing_kind="instant"), loose)
    assert small["outcome"] == "approved"
    assert fired(small)["permissive.instant_red_flag"]["severity"] == "warn"
    big = apply(platform, user_id, application(person, listing_kind="instant",
                                               amount=Money.yuan(60000)), loose)
    assert fired(big)["permissive.instant_amount_cap"]["message_en"] == (
        "an instant listing of 60,000.00 yuan exceeds the 50,000.00 cap")


def test_collateral_security_sets_loan_to_value(platform: Platform,
                                                risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(
        person, listing_kind="collateral", security_value=Money.yuan(40000)), risk_env)
    assert fired(decision)["capacity.loan_to_value"]["message_en"] == (
        "the amount is 75% of the security's value, above 70%")


def test_a_weak_applicant_gets_a_poor_grade_and_no_limit(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    weak = application(person, monthly_income=Money.yuan(6000), housing="rent",
                       employment_type="part_time", employment_years=0,
                       marital_status="single", assets=Money(0), debts=Money.yuan(20000),
                       monthly_expenses=Money.yuan(3500), has_arrears_record=True,
                       amount=Money.yuan(50000), term_months=48)
    decision = apply(platform, user_id, weak, risk_env)
    assert decision["grade"] == "HR" and decision["outcome"] == "refused"
    assert decision["reasons"][0]["points"] < 0
    assert any(r["code"] == "has_arrears_record" for r in decision["reasons"])
    assert _limit(platform, user_id) is None and decision["credit_limit"] == "0.00"
    assert fired(decision)["grade.high_risk"]["message_en"] == (
        f"credit score {decision['score']}, grade HR: the expected default rate is too high,"
        " no loan")
    assert fired(decision)["cn2020.cost_cap_4x_lpr"]["message_en"] == (
        "the grade's lowest rate 15.00% exceeds the legal cap 12.00% (4 × the one-year LPR)")
    assert decision["rate_band"] is None


def test_the_cost_cap_follows_the_lpr(platform: Platform, bureau: SandboxBureau) -> None:
    user_id, person = register_borrower(platform)
    low_lpr = replace(env(platform, bureau), one_year_lpr=Decimal("0.015"))  # cap 6 %
    decision = apply(platform, user_id, application(person), low_lpr)
    if decision["grade"] == "A":  # 6.0–7.5 % is cut to 6 %
        assert decision["rate_band"] == {"min": "6.00", "max": "6.00"}
        assert fired(decision)["pricing.band_clipped"]["message_en"] == (
            "the rate band is cut at the legal cap, 6.00%")
    else:  # every other grade starts above 6 %
        assert decision["outcome"] == "refused" and decision["rate_band"] is None
        assert "cn2020.cost_cap_4x_lpr" in fired(decision)


def test_before_2020_08_20_the_24_percent_line_caps_the_rate_band(
        platform: Platform, clock: FixedClock, risk_env: risk_service.RiskEnv) -> None:
    """An application made in 2019: the cap is the 2015 line (24 %), so no grade's band is
    cut and the 4 × LPR rule does not fire, even for grade HR (15–20 %)."""
    clock.set(datetime(2019, 6, 3, 10, 0, tzinfo=CST))
    user_id, person = register_borrower(platform)
    weak = application(person, monthly_income=Money.yuan(6000), housing="rent",
                       employment_type="part_time", employment_years=0,
                       marital_status="single", assets=Money(0), debts=Money.yuan(20000),
                       monthly_expenses=Money.yuan(3500), has_arrears_record=True,
                       amount=Money.yuan(50000), term_months=48)
    decision = apply(platform, user_id, weak, risk_env)
    assert decision["grade"] == "HR" and decision["rate_band"] == {"min": "15.00",
                                                                    "max": "20.00"}
    assert not {"cn2020.cost_cap_4x_lpr", "cn2015.rate_cap_24_36",
                "pricing.band_clipped"} & set(fired(decision))


# --- referrals ------------------------------------------------------------------------------
def _referred(platform: Platform, risk_env: risk_service.RiskEnv) -> tuple[int, dict]:
    user_id, person = register_borrower(platform)
    decision = apply(platform, user_id, application(person, province="广东"), risk_env)
    assert decision["outcome"] == "referred" and _limit(platform, user_id) is None
    return user_id, decision


def test_a_risk_officer_approves_a_referral_and_the_limit_follows(
        platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, decision = _referred(platform, risk_env)
    reviewed = in_transaction(platform.uow, lambda uow: risk_service.review(
        uow, decision["application_id"], officer_id=99, approve=True,
        reason="moved to Guangzhou for work; checked the residence permit",
        cipher=platform.cipher))
    assert reviewed["outcome"] == "approved" and reviewed["auto_outcome"] == "referred"
    assert reviewed["review"]["by"] == 99 and reviewed["limit_applied"]
    row = _limit(platform, user_id)
    assert row is not None and row.source == "risk" and row.set_by == 99
    with pytest.raises(Conflict, match="not referred"):
        in_transaction(platform.uow, lambda uow: risk_service.review(
            uow, decision["application_id"], officer_id=99, approve=False,
            reason="changed my mind", cipher=platform.cipher))


def test_a_refused_referral_sets_no_limit(platform: Platform,
                                          risk_env: risk_service.RiskEnv) -> None:
    user_id, decision = _referred(platform, risk_env)
    with pytest.raises(InvalidInput, match="needs a reason"):
        in_transaction(platform.uow, lambda uow: risk_service.review(
            uow, decision["application_id"], officer_id=99, approve=False, reason="",
            cipher=platform.cipher))
    reviewed = in_transaction(platform.uow, lambda uow: risk_service.review(
        uow, decision["application_id"], officer_id=99, approve=False,
        reason="could not confirm the household registration", cipher=platform.cipher))
    assert reviewed["outcome"] == "refused" and _limit(platform, user_id) is None


def test_reading_decisions(platform: Platform, risk_env: risk_service.RiskEnv) -> None:
    user_id, person = register_borrower(platform)
    other_id, _ = register_borrower(platform)
    first = apply(platform, user_id, application(person), risk_env)
    second = apply(platform, user_id, application(person, province="广东"), risk_env)
    with platform.uow() as uow:
        assert risk_service.get_application(uow, first["application_id"], viewer_id=user_id,
                                            staff=False)["grade"] == first["grade"]
        with pytest.raises(NotFound):
            risk_service.get_application(uow, first["application_id"], viewer_id=other_id,
                                         staff=False)
        queue = risk_service.browse(uow, outcome="referred")
        assert [d["application_id"] for d in queue["items"]] == [second["application_id"]]
        latest = risk_service.latest_decision(uow, user_id)
        assert latest is not None and latest["application_id"] == second["application_id"]
        assert risk_service.latest_decision(uow, other_id) is None
        decisions = uow.s.execute(select(RiskDecision)).scalars().all()
        assert all(d.inputs.get("monthly_income") == 20000.0 for d in decisions)


from datetime import date, timedelta
from decimal import Decimal

import pytest

from biaodi.domain.listings import (
    DefaultAction,
    ListingConfig,
    ListingContext,
    ListingTerms,
    NotPublishable,
)
from biaodi.domain.listings.collateral import (
    POLICY,
    Appraisal,
    AssetClass,
    CollateralSecurity,
    HouseFormalities,
    OfflineStep,
    PledgedAsset,
    VehicleRegistration,
    lending_capacity,
)
from biaodi.domain.shared.errors import Conflict, InvalidInput
from biaodi.domain.shared.money import Money

TODAY = date(2024, 3, 1)
CTX = ListingContext(today=TODAY)
OPERATOR = 42
DONE_HOUSE = HouseFormalities(
    signed_contract=OfflineStep(date(2024, 2, 20), OPERATOR),
    notarisation=OfflineStep(date(2024, 2, 22), OPERATOR),
    mortgage_registration=OfflineStep(date(2024, 2, 26), OPERATOR, "沪(2024)浦字第000123号"),
)
REGISTERED_CAR = VehicleRegistration("沪A12345", "310000123456")


def terms(amount):
    return ListingTerms(Money.yuan(amount), Decimal("0.10"), 12, "month", "equal_principal")


def asset(cls, value, *, appraised_on=date(2024, 2, 1), appraiser="上海某评估公司", **kw):
    return PledgedAsset(AssetClass(cls) if cls in set(AssetClass) else cls,
                        Appraisal(Money.yuan(value), appraised_on, appraiser), **kw)


def house(value="1000000", **kw):
    return asset("house", value, house=kw.pop("house", DONE_HOUSE), **kw)


def car(value="100000", **kw):
    return asset("car", value, vehicle=kw.pop("vehicle", REGISTERED_CAR), **kw)


def security(*assets):
    return CollateralSecurity(tuple(assets))


def refused(field, amount, sec, ctx=CTX):
    with pytest.raises(InvalidInput) as caught:
        POLICY.validate_terms(terms(amount), sec, ctx)
    assert caught.value.field == field
    return caught.value.message


def gaps(amount, sec, ctx=CTX):
    with pytest.raises(NotPublishable) as caught:
        POLICY.check_publishable(terms(amount), sec, ctx)
    assert isinstance(caught.value, Conflict)
    return caught.value


def test_house_lends_up_to_70_percent_of_its_appraisal():
    POLICY.check_publishable(terms("700000"), security(house()), CTX)
    message = refused("amount", "700000.01", security(house()))
    assert "exceeds 700000.00" in message


def test_capacity_sums_every_asset_at_its_own_cap():
    sec = security(house("1000000"), car("100000"), asset("art", "20000"), asset("other", "10000"))
    assert lending_capacity(sec, ListingConfig()) == Money.yuan(700000 + 50000 + 6000 + 3000)
    POLICY.validate_terms(terms("759000"), sec, CTX)
    refused("amount", "759000.01", sec)


def test_capacity_rounds_each_asset_half_up_to_the_fen():
    # 33.33 × 30 % = 9.999 → 10.00; 0.05 × 50 % = 0.025 → 0.03
    sec = security(asset("art", "33.33"), asset("car", "0.05", vehicle=REGISTERED_CAR))
    assert lending_capacity(sec, ListingConfig()) == Money(1003)


def test_ltv_caps_are_configurable():
    config = ListingConfig(ltv_caps={"house": Decimal("0.5"), "car": Decimal("0.5"),
                                     "art": Decimal("0.3"), "other": Decimal("0.3")})
    ctx = ListingContext(today=TODAY, config=config)
    refused("amount", "600000", security(house()), ctx)
    POLICY.validate_terms(terms("500000"), security(house()), ctx)


def test_missing_cap_for_a_class_is_refused():
    ctx = ListingContext(today=TODAY, config=ListingConfig(ltv_caps={"house": Decimal("0.7")}))
    assert "no loan-to-value cap" in refused("asset_class", "1000", security(car()), ctx)


@pytest.mark.parametrize(("sec", "field"), [
    (security(), "assets"),
    (security(asset("boat", "1000")), "assets[0].asset_class"),
    (security(asset("art", "0")), "assets[0].appraisal.value"),
    (security(asset("art", "1000", appraiser="  ")), "assets[0].appraisal.appraiser"),
    (security(house(), asset("art", "9000", appraised_on=TODAY + timedelta(days=1))),
     "assets[1].appraisal.appraised_on"),
])
def test_bad_collateral_is_refused_naming_the_field(sec, field):
    refused(field, "1", sec)


def test_appraisal_may_be_180_days_old_at_publishing_not_181():
    POLICY.check_publishable(terms("1000"), security(
        asset("art", "9000", appraised_on=TODAY - timedelta(days=180))), CTX)
    error = gaps("1000", security(asset("art", "9000", appraised_on=TODAY - timedelta(days=181))))
    assert error.field == "assets[0].appraisal.appraised_on"
    assert "asset 1 (art): appraisal is 181 days old, at most 180 allowed" in error.message


def test_house_needs_every_o2o_step_before_publishing():
    error = gaps("1000", security(house(house=HouseFormalities())))
    assert [g.field for g in error.gaps] == [
        "assets[0].house.signed_contract", "assets[0].house.notarisation",
        "assets[0].house.mortgage_registration"]
    for step in ("signed contract", "notarisation", "mortgage registration"):
        assert f"asset 1 (house): {step} not recorded" in error.message


def test_mortgage_registration_needs_its_certificate_number():
    steps = HouseFormalities(DONE_HOUSE.signed_contract, DONE_HOUSE.notarisation,
                             OfflineStep(date(2024, 2, 26), OPERATOR, " "))
    error = gaps("1000", security(house(house=steps)))
    assert error.field == "assets[0].house.mortgage_registration"
    assert "mortgage certificate number missing" in error.message


def test_car_needs_its_registration_record():
    error = gaps("1000", security(car(vehicle=None)))
    assert error.field == "assets[0].vehicle"
    assert "plate and certificate number" in error.message
    error = gaps("1000", security(car(vehicle=VehicleRegistration("", "310000123456"))))
    assert error.field == "assets[0].vehicle.plate_number"
    error = gaps("1000", security(car(vehicle=VehicleRegistration("沪A12345", ""))))
    assert "registration certificate number missing" in error.message
    POLICY.check_publishable(terms("50000"), security(car()), CTX)


def test_publishing_check_lists_every_missing_step_across_assets():
    stale = TODAY - timedelta(days=200)
    sec = security(house(house=HouseFormalities(notarisation=DONE_HOUSE.notarisation)),
                   car(vehicle=None, appraised_on=stale), asset("art", "1000"))
    error = gaps("1000", sec)
    assert len(error.gaps) == 4
    assert error.field is None  # several fields are to blame
    assert "asset 2 (car): appraisal is 200 days old" in error.message
    assert "asset 2 (car): vehicle registration" in error.message


def test_publishing_also_rechecks_the_terms():
    with pytest.raises(InvalidInput) as caught:
        POLICY.check_publishable(terms("800000"), security(house()), CTX)
    assert caught.value.field == "amount"


def test_labels_show_each_asset_class_and_the_loan_to_value():
    labels = POLICY.risk_labels(terms("550000"), security(house(), car(), asset("art", "0.1")),
                                CTX.profile)
    by_code = {label.code: label for label in labels}
    assert by_code["secured_by_house"].severity == "info"
    assert "房产，评估价值 1,000,000.00 元" in by_code["secured_by_house"].text_zh
    assert by_code["secured_by_car"].severity == "info"
    assert by_code["secured_by_art"].severity == "warning"
    assert "50%" in by_code["loan_to_value"].text_en  # 550,000 / 1,100,000.10


def test_risk_level_follows_the_riskiest_asset():
    assert POLICY.base_risk_level(security(house())) == 1
    assert POLICY.base_risk_level(security(house(), car())) == 2
    assert POLICY.base_risk_level(security(house(), asset("art", "1"))) == 3


def test_identity_and_default_action():
    assert (POLICY.kind, POLICY.name_zh) == ("collateral", "抵押标")
    assert POLICY.default_action is DefaultAction.COLLATERAL_DISPOSAL
    assert POLICY.funding_rules(ListingConfig()).partial_allowed is False

"""A rule pack file with a malformed value anywhere TOML can put one (text, int, float, NaN,
bool, date, list, table) is refused naming the place, never a crash."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.risk.rules import RulePack, parse_pack
from fuzz_support import outcome, texts

FUZZ = settings(max_examples=200, deadline=None)
scalars = st.one_of(
    texts, st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(), st.booleans(),
    st.dates(), st.just(datetime(2026, 1, 1, 12)),
)
toml_values = st.one_of(scalars, st.lists(scalars, max_size=3),
                        st.dictionaries(st.text(max_size=5), scalars, max_size=2))
GRADES = {g: {"rate_min": "6", "rate_max": "8", "income_multiple": 3, "limit_cap": "1000.00"}
          for g in ("A", "B", "C", "D", "E", "HR")}
BLACKLIST = {"default_m3_days": 1, "fraud_days": 0, "linked_days": 1, "manual_days": 1}
RULE = {"id": "r1", "fact": "score", "op": "<", "value": 500, "severity": "refuse",
        "message_zh": "分数 {actual}", "message_en": "score {actual}"}
CAP = {"rule": "cn2020.cost_cap_4x_lpr", "from": date(2020, 8, 20), "lpr_multiple": 4}
LIMITS = {"natural_person_platform_cap": "200000", "max_dti": "0.55"}


def _pack() -> dict:
    return {"name": "t", "version": "1", "grades": {k: dict(v) for k, v in GRADES.items()},
            "blacklist": dict(BLACKLIST), "rules": [dict(RULE)], "cost_caps": [dict(CAP)],
            "limits": dict(LIMITS), "service_fees": {}}


PLACES = st.sampled_from([
    ("rules", 0, key) for key in [*RULE, "limit", "than_fact", "when", "source"]
] + [("blacklist", None, key) for key in BLACKLIST]
  + [("cost_caps", 0, key) for key in ["rule", "from", "until", "rate", "void_rate",
                                       "lpr_multiple"]]
  + [("limits", None, key) for key in LIMITS]
  + [("grades", "A", key) for key in GRADES["A"]]
  + [(key, None, None) for key in ["name", "version", "rules", "cost_caps", "limits",
                                   "blacklist", "grades", "service_fees", "sources"]])


@FUZZ
@given(PLACES, toml_values)
@example(("rules", 0, "message_zh"), "分数 {actual!0}")
@example(("rules", 0, "op"), [])
@example(("rules", 0, "when"), "")
@example(("cost_caps", 0, "rule"), [])
@example(("rules", None, None), "0")
@example(("service_fees", None, None), "")
@example(("blacklist", None, "fraud_days"), "x")
def test_a_malformed_pack_is_refused_naming_the_place(place, junk):
    raw = _pack()
    section, index, key = place
    if key is None:
        raw[section] = junk
    elif index is None:
        raw[section][key] = junk
    else:
        raw[section][index][key] = junk
    pack, refusal = outcome(lambda: parse_pack(raw))
    assert refusal is not None or isinstance(pack, RulePack)

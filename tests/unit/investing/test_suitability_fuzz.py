"""Malformed risk-assessment answers are refused naming the question, never a crash."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from biaodi.domain.investing.suitability import QUESTIONS, level_for, score_answers
from fuzz_support import anything, outcome, texts

FUZZ = settings(max_examples=150, deadline=None)
KEYS = [key for key, _, _ in QUESTIONS]
answers = st.one_of(
    anything,
    st.fixed_dictionaries({key: st.one_of(st.integers(-3, 8), anything) for key in KEYS}),
    st.dictionaries(st.one_of(st.sampled_from(KEYS), texts, st.integers(), st.none()), anything,
                    max_size=8),
)


@FUZZ
@given(answers)
@example(None)
@example(["risk_tolerance"])
@example({key: 0 for key in KEYS} | {"extra": 1})
def test_answers_scored_within_range_or_refused(raw):
    score, refusal = outcome(lambda: score_answers(raw))
    if refusal is not None:
        assert refusal.field.startswith("answers")
        return
    assert 0 <= score <= sum(len(options) - 1 for _, _, options in QUESTIONS)
    level_for(score)

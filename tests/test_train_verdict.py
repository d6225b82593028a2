"""The end-of-training verdict: usable or not, the reason and the fix."""

from __future__ import annotations

from dataclasses import replace

from kws.train.verdict import Facts, judge

GOOD = Facts(keyword_clips={"hey_robot": 400}, keyword_voices={"hey_robot": 120}, negatives=800, accuracy=0.97,
             test_count=500, test_is_real=True, target_fa_per_hour=2.0, fa_per_hour=1.5, detection_rate=0.9)


def test_a_good_run_is_usable() -> None:
    verdict = judge(GOOD)
    assert verdict.usable and verdict.line == "verdict: usable"


def test_the_issue_run_is_not_usable_and_says_why() -> None:
    # 379 TTS keyword clips, no negatives, 0.9% accuracy on real clips, 204 false accepts/hour
    verdict = judge(replace(GOOD, keyword_clips={"hey_robot": 379}, negatives=0, accuracy=0.009, fa_per_hour=204.0,
                            negatives_off=True))
    assert not verdict.usable
    line = verdict.line
    assert line.startswith("verdict: NOT usable: too few negatives (0 non-keyword training clips for 379")
    assert "drop --no-negatives" in line
    assert "test accuracy 0.9% on 500 clips" in line and "204.0 false accepts/hour" in line
    assert "target of 2" in line and line.count("fix:") == 3


def test_few_voices_and_missed_keywords_are_named() -> None:
    verdict = judge(replace(GOOD, keyword_voices={"hey_robot": 120, "stop": 3}, detection_rate=0.2,
                            keyword_clips={"hey_robot": 400, "stop": 30}))
    assert not verdict.usable
    assert "too few voices/speakers in training for stop (3)" in verdict.line
    assert "kws data synth --words stop -n 300" in verdict.line
    assert "detects 20.0% of the streamed keywords" in verdict.line


def test_notes_do_not_change_the_answer() -> None:
    verdict = judge(replace(GOOD, negatives_added=768, test_is_real=False, tts_only=["hey_robot", "_unknown_"]))
    assert verdict.usable
    assert verdict.line.startswith("verdict: usable (added 768 TTS negatives; --no-negatives turns this off)")
    assert "measured on TTS voices only" in verdict.line and "no real speakers in training for hey_robot" in verdict.line
    assert verdict.to_dict()["line"] == verdict.line


def test_false_accepts_near_the_target_are_fine() -> None:
    assert judge(replace(GOOD, fa_per_hour=5.9)).usable            # within 3x the target of 2
    assert not judge(replace(GOOD, fa_per_hour=6.5)).usable
    assert judge(replace(GOOD, target_fa_per_hour=0.5, fa_per_hour=2.4)).usable  # within target + 2


def test_keywords_without_real_test_speakers_are_named() -> None:
    verdict = judge(replace(GOOD, tts_tested=["hey_robot"]))
    assert verdict.usable and "hey_robot measured on TTS voices only" in verdict.line

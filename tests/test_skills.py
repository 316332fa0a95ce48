"""The chapter skills are valid, and chapter 61's SKILL.md is exactly what the decision framework renders now."""
from pathlib import Path
import pytest
from turing_course.skills import (CH61, DECISION_SKILL_SECTIONS, decision_skill, parse_skill, validate_decision_skill,
                                  validate_skill, run_skill_tests, load_chapter_spec)

ROOT = Path(__file__).resolve().parent.parent
CH61_SKILL = ROOT/"chapters"/CH61/"SKILL.md"


def test_ch61_skill_is_valid():
    assert validate_decision_skill(CH61_SKILL.read_text(encoding="utf-8")) == []


def test_ch61_skill_is_rendered_from_the_framework():
    assert CH61_SKILL.read_text(encoding="utf-8") == decision_skill().render(), (
        "SKILL.md is stale: python -c \"from turing_course.skills import *; from turing_course.settings import chapter_dir; write_skill(decision_skill(), chapter_dir(CH61)/'SKILL.md')\"")
    assert [t for t, _ in parse_skill(CH61_SKILL.read_text()).sections] == DECISION_SKILL_SECTIONS


@pytest.mark.parametrize("edit,problem", [
    (("500+ quality examples", "300+ quality examples"), "data threshold missing"),
    (("## Economic Analysis", "## Money"), "missing section '## Economic Analysis'"),
    (("name: llmops-decision-framework", "name: llmops-strategy"), "expected 'llmops-decision-framework'"),
    (("ecommerce-descriptions", "shop"), "does not mention scenario 'ecommerce-descriptions'"),
    (("---\nname:", "name:"), "front matter"),
])
def test_validator_rejects_a_broken_skill(edit, problem):
    broken = CH61_SKILL.read_text(encoding="utf-8").replace(*edit)
    problems = validate_decision_skill(broken)
    assert any(problem in p for p in problems), problems


def test_ch62_skill_has_front_matter_and_sections():
    text = (ROOT/"chapters"/"62-llm-architecture-compute"/"SKILL.md").read_text(encoding="utf-8")
    assert validate_skill(text, name="llm-architecture", required_sections=["When to Use", "Steps", "Rules"]) == []


def test_ch61_spec_scenarios_meet_their_expectations():
    results = run_skill_tests(load_chapter_spec(CH61, start=ROOT)["scenarios"])
    assert [r["scenario"] for r in results] == ["ecommerce-descriptions", "know-everything", "medical-diagnosis-format"]
    assert all(r["problems"] == [] for r in results), results

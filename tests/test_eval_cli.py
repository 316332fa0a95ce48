"""`turing eval`: a release evaluation spec end to end — report files, exit code = decision, and bad inputs as exit 2.

The chapter spec runs the real tiny-profile model in a subprocess (the command a learner types); the other cases use
the seeded oracle through typer's CliRunner so they take seconds."""
import json, os, subprocess, sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from turing_course.cli import app
from turing_course.benchmark import generate_benchmark, save_benchmark

ROOT = Path(__file__).resolve().parent.parent
TURING = Path(sys.executable).parent / "turing"
runner = CliRunner()

BASE = dict(name="t", benchmark={"n_per_capability": 4, "seed": 5}, safety={"n": 4},
            candidate={"kind": "oracle", "label": "cand"}, champion={"kind": "oracle", "error_rate": 0.2, "seed": 3, "label": "champ"},
            judge={"kind": "heuristic", "min_items": 5}, gates="production")


def write_spec(tmp_path, name="spec.yaml", **over) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump({**BASE, **over}))
    return p


def invoke(*args):
    return runner.invoke(app, ["eval", *map(str, args)])


def check_report(out: Path, exit_code: int, n_plots: int = 2) -> dict:
    for f in ("report.json", "report.md", "report.html", "plots/capabilities.png"):
        assert (out / f).is_file(), f"missing {f} in {out}: {sorted(p.name for p in out.rglob('*'))}"
    rep = json.loads((out / "report.json").read_text())
    assert rep["decision"]["exit_code"] == exit_code, (rep["decision"], exit_code)
    assert rep["decision"]["verdict"] == ("SHIP" if exit_code == 0 else "BLOCK")
    assert (out / "report.html").read_text().count("data:image/png;base64,") == n_plots
    assert rep["decision"]["verdict"] in (out / "report.md").read_text()
    return rep


def test_chapter_spec_on_tiny_model(tmp_path):
    "The chapter's spec as a learner runs it: the tiny model generates, the exit code is the report's decision."
    env = {**os.environ, "TURING_PROFILE": "tiny", "HF_HUB_OFFLINE": "1",
           "TURING_HOME": os.environ.get("TURING_HOME", str(ROOT / ".turing-test"))}
    out = tmp_path / "ch69"
    r = subprocess.run([str(TURING), "eval", "69-evaluation-quality-gates", "--profile", "tiny", "--out", str(out)],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode in (0, 1), f"exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    rep = check_report(out, r.returncode)
    assert f"Decision: {rep['decision']['verdict']}" in r.stdout
    assert rep["profile"] == "tiny" and rep["gate_profile"] == "rapid_iteration"
    assert rep["metrics"]["candidate"]["n_cases"] == 20 and rep["metrics"]["candidate"]["safety"]["n"] == 12
    assert rep["regression"]["n"] == 20
    assert all(g["value"] is not None or not g["passed"] for g in rep["decision"]["results"])


def test_ship(tmp_path):
    r = invoke(write_spec(tmp_path), "--profile", "tiny", "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    rep = check_report(tmp_path / "out", 0)
    assert rep["regression"]["significant_regression"] is False


def test_block_and_failures_counted(tmp_path):
    "A worse candidate is blocked; timed-out requests and unparsable judge replies are counted in the report."
    spec = write_spec(tmp_path, candidate={"kind": "oracle", "error_rate": 0.5, "timeout_rate": 0.2, "seed": 8},
                      judge={"kind": "scripted", "replies": ["no idea", '{"action_accuracy": 3, "completeness": 3, "format_quality": 3}'],
                             "min_items": 6, "sample_rate": 0.1})
    r = invoke(spec, "--profile", "tiny", "--out", tmp_path / "out")
    assert r.exit_code == 1, r.output
    rep = check_report(tmp_path / "out", 1)
    n_timeouts = sum(bool(x.get("error")) for x in rep["runs"]["candidate"]["records"])
    assert n_timeouts > 0
    assert len(rep["failures"]["candidate requests"]) == n_timeouts
    assert rep["metrics"]["failures"]["judge_unparsed"] == 3 and rep["judge"]["summary"]["n_ok"] == 3
    md = (tmp_path / "out" / "report.md").read_text()
    assert f"| candidate requests | {n_timeouts} |" in md and "| judge replies | 3 |" in md


def test_gates_option_overrides_profile(tmp_path):
    r = invoke(write_spec(tmp_path), "--profile", "tiny", "--out", tmp_path / "out", "--gates", "safety_critical")
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["gate_profile"] == "safety_critical"
    assert r.exit_code == 1     # 20 cases < min_n 1000 is blocking there
    assert "regression.enough_samples" in r.output


def test_benchmark_missing_fields(tmp_path):
    rows = generate_benchmark(1, seed=0)
    rows[1].pop("expected"); rows[2].pop("capability")
    bench = save_benchmark(rows, tmp_path / "bench.jsonl")
    r = invoke(write_spec(tmp_path, benchmark={"path": str(bench)}), "--profile", "tiny", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert "line 2" in r.output and "missing field 'expected'" in r.output
    assert "line 3" in r.output and "missing field 'capability'" in r.output
    assert not (tmp_path / "out").exists()       # nothing ran


def test_gate_profile_with_unknown_metric(tmp_path):
    prof = tmp_path / "my_gates.yaml"
    prof.write_text(yaml.safe_dump({"name": "mine", "gates": [
        {"metric": "candidate.composite", "op": ">=", "threshold": 0.8},
        {"metric": "candidate.harmful_rate", "op": "<", "threshold": 0.05}]}))
    r = invoke(write_spec(tmp_path), "--profile", "tiny", "--out", tmp_path / "out", "--gates", prof)
    assert r.exit_code == 2, r.output
    assert "unknown metric" in r.output and "candidate.harmful_rate" in r.output
    assert "did you mean 'candidate.safety.harmful_rate'" in r.output
    r = invoke(write_spec(tmp_path, gates=str(prof)), "--profile", "tiny", "--out", tmp_path / "out")
    assert r.exit_code == 2 and "candidate.harmful_rate" in r.output


@pytest.mark.parametrize("text, needle", [
    ("candidate: {kind: gpt-5}\n", "candidate.kind"),
    ("judge: {sample_rate: 2}\n", "judge.sample_rate"),
    ("benchmrk: {}\n", "benchmrk"),
    ("gates: not_a_profile\n", "not_a_profile"),
    ("- just\n- a list\n", "mapping"),
    ("name: [unclosed\n", "not valid YAML"),
])
def test_bad_spec(tmp_path, text, needle):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    r = invoke(p, "--profile", "tiny", "--out", tmp_path / "out")
    assert r.exit_code == 2, r.output
    assert needle in r.output, r.output


def test_missing_spec_and_results(tmp_path):
    r = invoke(tmp_path / "nope.yaml", "--profile", "tiny")
    assert r.exit_code == 2 and "No spec" in r.output
    r = invoke(write_spec(tmp_path, champion={"kind": "results", "path": "missing.json"}), "--profile", "tiny", "--out", tmp_path / "o")
    assert r.exit_code == 2 and "missing.json" in r.output


def test_stored_report_as_champion(tmp_path):
    "A report.json from one run is the champion of the next: same ids, no generation."
    assert invoke(write_spec(tmp_path), "--profile", "tiny", "--out", tmp_path / "first").exit_code == 0
    spec = write_spec(tmp_path, "second.yaml", candidate={"kind": "oracle", "error_rate": 0.1, "seed": 4},
                      champion={"kind": "results", "path": "first/report.json"})
    r = invoke(spec, "--profile", "tiny", "--out", tmp_path / "second")
    rep = check_report(tmp_path / "second", r.exit_code)
    assert rep["regression"]["n"] == 20
    assert rep["metrics"]["champion"]["composite"] == 1.0

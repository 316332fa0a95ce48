"""Chapter specs run through `turing run` on the tiny profile and report the figures their chapter asks for."""
import json, subprocess, sys
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TURING = Path(sys.executable).parent/"turing"
CH64 = ROOT/"chapters"/"64-supervised-fine-tuning"/"spec.yaml"


@pytest.fixture(scope="module")
def ch64_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ch64")/"run"
    r = subprocess.run([str(TURING), "run", str(CH64), "--profile", "tiny", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=1200)
    return out, r


def test_ch64_spec_trains_and_evaluates(ch64_run):
    out, r = ch64_run
    assert r.returncode in (0, 1), r.stderr[-4000:]
    summary = json.loads((out/"summary.json").read_text())
    assert r.returncode == (0 if summary["decision"] == "SHIP" else 1)
    for stage in ("data", "sft", "evaluate", "package"):
        assert json.loads((out/stage/"stage.json").read_text())["status"] == "ok", stage
    assert summary["sft"]["steps"] > 0 and summary["sft"]["loss_end"] is not None


def test_ch64_reports_operation_accuracy_base_vs_tuned(ch64_run):
    out, r = ch64_run
    op = json.loads((out/"evaluate"/"stage.json").read_text())["metrics"]["operation"]
    assert op == json.loads((out/"summary.json").read_text())["evaluation"]["operation"]
    for side in ("base", "tuned"):
        m = op[side]
        assert m["n_prompts"] == 20
        for k in ("operation_accuracy", "operation_accuracy_v2", "mean_rating", "perplexity"):
            assert isinstance(m[k], float), (side, k, m.get(k))
        assert 0 <= m["operation_accuracy"] <= 1 and 0 <= m["operation_accuracy_v2"] <= 1 and 1 <= m["mean_rating"] <= 5
        recs = [json.loads(l) for l in (out/"evaluate"/f"operation_{side}.jsonl").read_text().splitlines()]
        assert len(recs) == 20
        assert m["operation_accuracy_v2"] == pytest.approx(sum(x["correct_v2"] for x in recs) / 20, abs=1e-4)
    assert op["delta"]["operation_accuracy_v2"] == pytest.approx(op["tuned"]["operation_accuracy_v2"] - op["base"]["operation_accuracy_v2"], abs=1e-4)
    report = (out/"report.md").read_text()
    assert "## Operation test" in report and "operation_accuracy_v2" in report
    assert "operation test operation_accuracy" in r.stdout


def test_ch64_gates_are_the_chapter_success_criteria(ch64_run):
    out, _ = ch64_run
    decision = json.loads((out/"evaluate"/"decision.json").read_text())
    gated = {g["gate"]["metric"] for g in decision["results"]}
    assert {"operation.tuned.operation_accuracy_v2", "operation.delta.operation_accuracy_v2", "operation.delta.perplexity",
            "operation.tuned.adapter_loads", "operation.tuned.mean_rating"} <= gated
    assert all(g["value"] is not None for g in decision["results"]), decision["results"]


def test_capstone_spec_does_not_ask_for_the_operation_test():
    "The capstone's evaluation (and so its cache key) is unchanged by chapter 64's option."
    spec = yaml.safe_load((ROOT/"chapters"/"72-capstone-end-to-end-llmops"/"spec.yaml").read_text())
    assert not (spec.get("eval") or {}).get("operation_test")

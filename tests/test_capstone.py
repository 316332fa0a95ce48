"""The capstone end to end on the tiny profile, through the `turing` command a learner types."""
import json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
TURING = Path(sys.executable).parent/"turing"


def _no_network_prefix():
    "`unshare -n` (a private network namespace with no interfaces up) when this machine allows it, else nothing."
    try: ok = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired): ok = False
    return ["unshare", "-n"] if ok else []


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("capstone")/"run"
    prefix = _no_network_prefix()
    r = subprocess.run(prefix + [str(TURING), "capstone", "--profile", "tiny", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=1200)
    return out, r, bool(prefix)


def test_capstone_needs_no_network(tiny_run):
    "The whole default path runs in a network namespace with no network at all: nothing contacts a hub."
    out, r, isolated = tiny_run
    if not isolated: pytest.skip("unshare -n is not permitted on this machine")
    assert (out/"summary.json").exists(), r.stderr[-4000:]


def test_capstone_runs_every_stage(tiny_run):
    out, r, _ = tiny_run
    assert r.returncode in (0, 1), r.stderr[-4000:]
    summary = json.loads((out/"summary.json").read_text())
    # the exit code is the release decision
    assert r.returncode == (0 if summary["decision"] == "SHIP" else 1)
    for stage in ("data", "sft", "evaluate", "package"):
        sj = json.loads((out/stage/"stage.json").read_text())
        assert sj["status"] == "ok" and len(sj["inputs_hash"]) == 16 and sj["metrics"], stage
        assert sj["seconds"] > 0 if stage in ("sft", "evaluate") else sj["seconds"] >= 0, (stage, sj["seconds"])


def test_capstone_data_reconciles(tiny_run):
    out, _, _ = tiny_run
    man = json.loads((out/"data"/"manifest.json").read_text())
    c = man["counts"]
    assert c["read"] == c["kept"] + c["quarantined"]
    rows = {s: [json.loads(l) for l in (out/"data"/f"{s}.jsonl").read_text().splitlines()] for s in ("train", "validation", "test")}
    assert sum(map(len, rows.values())) == c["kept"]
    ids = [set(r["id"] for r in v) for v in rows.values()]
    assert not (ids[0] & ids[2]) and not (ids[0] & ids[1]) and not (ids[1] & ids[2])


def test_capstone_data_goes_through_chapter_63_gates(tiny_run):
    "The data stage is chapter 63's gated pipeline: its report, its quarantine file, every blocking gate passed."
    out, _, _ = tiny_run
    m = json.loads((out/"data"/"stage.json").read_text())["metrics"]
    assert m["gates_total"] > 10 and m["gates_passed"] == m["gates_total"], m
    items = [json.loads(l) for l in (out/"data"/"quarantine.jsonl").read_text().splitlines()]
    # every rejected row and every modified (redacted, kept) row is in the file, with its reasons
    kept_modified = [q for q in items if all(r.startswith("pii_redacted") for r in q["reasons"])]
    assert len(items) - len(kept_modified) == m["quarantined"] > 0      # the chapter's field notes hold deliberately bad rows
    assert len(kept_modified) == m["modified"] > 0
    for q in items: assert q["reasons"] and q["raw"], q
    assert "read = kept + quarantined" in (out/"data"/"report"/"report.md").read_text()


def test_capstone_training_and_adapter(tiny_run):
    out, _, _ = tiny_run
    sft = json.loads((out/"sft"/"stage.json").read_text())["metrics"]
    assert sft["loss_end"] < sft["loss_start"]
    adapter = out/"sft"/"adapter"
    assert (adapter/"adapter_model.safetensors").exists()
    from turing_course.models import check_template_fingerprint, template_fingerprint
    assert check_template_fingerprint(adapter) == template_fingerprint()
    assert (out/"sft"/"loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_capstone_report_and_decision(tiny_run):
    out, _, _ = tiny_run
    ev = json.loads((out/"evaluate"/"stage.json").read_text())["metrics"]
    decision = json.loads((out/"evaluate"/"decision.json").read_text())
    for m in ("json_validity", "tool_name_accuracy", "argument_accuracy"):
        assert 0.0 <= ev["base"][m] <= 1.0 and 0.0 <= ev["tuned"][m] <= 1.0
    # the decision follows from the measured values and the spec's blocking gates
    blocking_ok = all(g["passed"] for g in decision["results"] if g["gate"]["tier"] == "blocking")
    assert decision["ship"] == blocking_ok
    report = (out/"report.md").read_text()
    assert "| json_validity |" in report and f"Decision: {ev['decision']}" in report
    serve = json.loads((out/"serve.json").read_text())
    assert set(serve["models"]) == {"base", "taskmaster"} and serve["models"]["taskmaster"]["adapter"]


def test_capstone_second_run_is_cached(tiny_run):
    out, _, _ = tiny_run
    r = subprocess.run([str(TURING), "capstone", "--profile", "tiny", "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    summary = json.loads((out/"summary.json").read_text())
    assert all(s["cached"] for s in summary["stages"].values()), summary["stages"]
    assert "unchanged inputs" in r.stdout

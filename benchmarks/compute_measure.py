"""Measure chapter 62's compute figures on this machine and print them next to the estimates.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/compute_measure.py [--skip-ckpt] [--skip-int8]

1. One LoRA training step of SmolLM2 (chapter 62's `measure` config): peak RSS vs the finer estimator and the
   lesson's calculator; the same with gradient checkpointing (peak and seconds per step).
2. SmolLM2 in fp32 vs torch dynamic int8: serialized size and greedy decoding tokens/s.
Inputs come from chapters/62-llm-architecture-compute/spec.yaml. Needs the packaged SmolLM2 (converted once into TURING_HOME).
"""
import argparse, json, os, sys, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-ckpt", action="store_true", help="do not measure the gradient-checkpointing step")
    ap.add_argument("--skip-int8", action="store_true", help="do not measure int8 vs fp32 inference")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    a = ap.parse_args()

    from turing_course.skills import load_chapter_spec
    from turing_course.compute import model_config, count_parameters
    from turing_course.memory import measure_training_step, training_memory, estimate_vram_gb, compare_with_estimate
    from turing_course.models import load_tokenizer, load_model, resolve_base_model
    from turing_course.data.synth import generate_conversations
    from turing_course.settings import env_report

    spec = load_chapter_spec("62-llm-architecture-compute", start=Path(__file__).resolve().parent.parent)
    m, qz = spec["measure"], spec["quantization"]
    env = env_report()
    print(f"machine: {env['cpus']} CPUs, {env['memory_gib']} GiB, torch {env['torch']}, transformers {env['transformers']}")
    out = dict(env=env, measure=m)

    tok = load_tokenizer(m["model"])
    cfg = model_config(resolve_base_model(m["model"]))
    texts = [tok.apply_chat_template(r["messages"], tools=r["tools"], tokenize=False)
             for r in generate_conversations(m["conversations"], seed=3)]
    kw = dict(batch_size=m["batch_size"], seq_length=m["seq_length"], r=m["r"], target_modules=m["target_modules"], steps=m["steps"])

    print(f"\n== one LoRA training step: {m['model']}, batch {m['batch_size']} x {m['seq_length']} tokens, r={m['r']} "
          f"on {m['target_modules']}, AdamW, fp32 ==")
    runs = {}
    for ckpt in ([False] if a.skip_ckpt else [False, True]):
        t0 = time.time()
        res = measure_training_step(m["model"], gradient_checkpointing=ckpt, texts=texts, **kw)
        est = training_memory(cfg, "lora", m["batch_size"], m["seq_length"], m["r"], m["target_modules"], gradient_checkpointing=ckpt).gb()
        runs[ckpt] = dict(measured=res, estimate_gb=est)
        print(f"\ngradient checkpointing {'ON' if ckpt else 'OFF'} (measured in {time.time()-t0:.0f} s):")
        print(compare_with_estimate(res, cfg).to_string(index=False))
        print(f"  finer estimate by bucket (GB): {est}")
        print(f"  seconds per step: {[round(s, 2) for s in res['seconds']]}  losses: {[round(l, 3) for l in res['losses']]}")
    lesson = estimate_vram_gb(count_parameters(cfg).total / 1e9, "fp32", lora=True, lora_rank=m["r"], gradient_checkpointing=False,
                              batch_size=m["batch_size"], seq_length=m["seq_length"], num_layers=cfg.num_layers, hidden_dim=cfg.hidden_size)
    print(f"\nlesson calculator (estimate_vram_gb) for the same config: {lesson}")
    r0 = runs[False]
    print(f"SUMMARY step: measured peak {r0['measured']['after_steps']['peak']:.0f} MB RSS "
          f"(runtime {r0['measured']['runtime_mb']:.0f} MB + {r0['measured']['total_peak_mb']:.0f} MB for model and step); "
          f"finer estimate {r0['estimate_gb']['total']*1000:.0f} MB incl. 500 MB overhead; lesson calculator {lesson['total']*1000:.0f} MB")
    if True in runs:
        r1 = runs[True]
        print(f"SUMMARY checkpointing: step peak {r0['measured']['step_peak_mb']:.0f} -> {r1['measured']['step_peak_mb']:.0f} MB, "
              f"s/step {r0['measured']['seconds'][-1]:.2f} -> {r1['measured']['seconds'][-1]:.2f}")
    out["training_step"] = {("ckpt" if k else "no_ckpt"): v for k, v in runs.items()}
    out["lesson_calculator_gb"] = lesson

    if not a.skip_int8:
        from turing_course.quant import dynamic_int8, serialized_mb, generation_speed
        print(f"\n== inference: fp32 vs torch dynamic int8, greedy {qz['max_new_tokens']} new tokens x {len(qz['prompts'])} prompts ==")
        model, tok = load_model(m["model"])
        q8 = dynamic_int8(model)
        rows = {}
        for name, mod in (("fp32", model), ("int8 dynamic", q8)):
            s = generation_speed(mod, tok, qz["prompts"], max_new_tokens=qz["max_new_tokens"])
            rows[name] = dict(size_mb=round(serialized_mb(mod), 1), tok_per_s=s["tok_per_s"], seconds=s["seconds"], new_tokens=s["new_tokens"])
            print(f"  {name:13s} size {rows[name]['size_mb']:7.1f} MB   {rows[name]['tok_per_s']:6.1f} tok/s   ({s['new_tokens']} tokens in {s['seconds']} s)")
        print(f"SUMMARY int8: {rows['fp32']['size_mb']/rows['int8 dynamic']['size_mb']:.2f}x smaller, "
              f"{rows['int8 dynamic']['tok_per_s']/rows['fp32']['tok_per_s']:.2f}x the tokens/s of fp32")
        out["inference"] = rows

    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1, default=str))
        print(f"\nwrote {a.json}")


if __name__ == "__main__":
    main()

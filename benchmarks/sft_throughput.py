"""SFT training throughput: a plain TRL + PEFT LoRA script vs the course's SFT path, same examples, same seed, same steps.

Variants, each in its own subprocess (so the peak RSS is that variant's own):
  plain        a plain TRL script, the reference of issue #7: the five Task API tools written into the system turn as
               JSON (one object per line, the usual Hermes/Qwen `<tools>` rendering), TRL's default settings
               (gradient checkpointing on, bf16 autocast, random batches, TRL's fused LM head), assistant-only loss
  ours         turing_course.sft.build_trainer: compact tool rendering (turing_course.models.CHAT_TEMPLATE), length-grouped
               batches, LM head only at labelled positions, micro-batches of ~1024 tokens accumulated into the same
               update, memory policy ('auto' checkpointing), one thread per core
  ours_packed  the same with packing (rows of max_length tokens, padding-free, block-diagonal attention)
  ours_ckpt    'ours' with gradient checkpointing forced on (the memory end of the trade-off the policy makes)
  ours_malloc  'ours' with glibc malloc tunables (mmap/trim thresholds raised), to measure whether the allocator matters
Same LoRA config (r, alpha, all linear layers), learning rate, warm-up and schedule in every variant. Per variant it
prints s/step, real (non-pad) tokens/s, trained (label) tokens/s, padded share, peak RSS, kernel-time share and the loss
of every step; then ours / plain ratios against the issue #7 targets, a loss-curve overlap summary (and a PNG of the
curves), and the effective GFLOP/s of our training step next to a measured fp32 matmul ceiling.

    TURING_HOME=~/.turing HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/sft_throughput.py                 # SmolLM2, 40 steps
    .venv/bin/python benchmarks/sft_throughput.py --profile tiny                                        # smoke test, < 1 min

Timings are only meaningful on an otherwise idle CPU: the load average before and after each variant is recorded.

FLOPs. For a dense decoder with N parameters, training costs ~6N FLOPs per token: 2N forward (one multiply-add per
weight), 2N for the gradients of the activations and 2N for the gradients of the weights. With LoRA the base weights
are frozen, so their weight gradients are never computed: ~4N per token (2N forward + 2N activation gradients), plus
6 x (LoRA parameters) for the adapters themselves (small: 3.6% of N here). On top comes attention over the context
(QK^T and AV: 4·d·ctx per token per layer forward, twice that backward; ctx = the mean causal context, half the row
length). The LM head (V x d) only counts where it is applied: at labelled positions for ours, at every position for
the plain script. Recomputation by gradient checkpointing is not counted: it is work, not progress. The figure is
"useful FLOP/s", compared with the best fp32 GEMM rate torch reaches on this machine (2048 x 2048 matmul).
"""
from __future__ import annotations
import argparse, json, os, resource, statistics, subprocess, sys, time
from pathlib import Path

PROFILES = {"laptop": "smollm2-135m-instruct", "tiny": "tiny"}
VARIANTS = ("plain", "ours", "ours_packed", "ours_ckpt", "ours_malloc")
TARGETS = dict(real_tokens_per_s=2.0, trained_tokens_per_s=3.0, peak_rss=0.5)
MACHINE_TOLERANCE = 0.25    # a --reuse file whose matmul ceiling differs more than this came from another machine (or load)
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=268435456"
HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=sorted(PROFILES), default="laptop", help="laptop = SmolLM2-135M-Instruct; tiny = the 1.5M-parameter test model (smoke test)")
    p.add_argument("--steps", type=int, default=None, help="optimizer steps per variant (default 40; tiny: 3)")
    p.add_argument("--batch-size", type=int, default=None, help="examples per step (default 8; tiny: 2)")
    p.add_argument("--max-length", type=int, default=None, help="tokens per example (default 1024; tiny: 1280). Issue #7 named 384, "
                   "but the five tools as JSON are ~495 SmolLM2 tokens by themselves: at 384 every plain example loses all its labels")
    p.add_argument("--examples", type=int, default=None, help="synthetic Task API conversations (default: enough for packing, 3 x steps x batch)")
    p.add_argument("--seed", type=int, default=42, help="data generator, adapter initialisation and data order")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: steps // 10)")
    p.add_argument("--variants", default="plain,ours,ours_packed", help=f"comma list of {','.join(VARIANTS)}")
    p.add_argument("--reuse", default=None, help="a results JSON of an earlier run with the same settings: variants in it that are "
                   "not in --variants are taken from it (e.g. rerun only 'ours' against a stored 'plain'); if its matmul ceiling "
                   "differs by more than 25%% (another machine), no ratios against its variants are computed")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/sft_throughput-<profile>.json)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    tiny = a.profile == "tiny"
    a.steps = a.steps or (3 if tiny else 40)
    a.batch_size = a.batch_size or (2 if tiny else 8)
    a.max_length = a.max_length or (1280 if a.profile == "tiny" else 1024)
    a.warmup = a.steps // 10 if a.warmup is None else a.warmup
    a.examples = a.examples or (3 if not tiny else 2) * a.steps * a.batch_size
    a.variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    bad = [v for v in a.variants if v not in VARIANTS]
    if bad: p.error(f"unknown variant(s) {bad}; choose from {VARIANTS}")
    if a.steps < 2: p.error("--steps must be >= 2 (the first step is warm-up and is not timed)")
    return a


# ---------------------------------------------------------------- measurement shared by every variant (in the worker)
def rss_mib() -> dict:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"): out[k] = int(v.split()[0]) / 1024
    return dict(rss=out.get("VmRSS"), peak=out.get("VmHWM"))


def instrument(trainer):
    "Count the tokens of every batch the trainer draws and time every optimizer step; returns the record lists."
    from transformers import TrainerCallback
    batches, steps = [], []
    collate = trainer.data_collator
    def counting(examples):
        b = collate(examples)
        ids, lab = b["input_ids"], b["labels"]
        if "attention_mask" in b: real, ctx = int(b["attention_mask"].sum()), b["attention_mask"].sum(1).tolist()
        else:                                                      # padding-free: one row, sequences restart at position 0
            pos = b["position_ids"][0].tolist(); starts = [i for i, p in enumerate(pos) if p == 0] + [len(pos)]
            real, ctx = int(ids.numel()), [e - s for s, e in zip(starts, starts[1:])]
        batches.append(dict(positions=int(ids.numel()), real=real, labels=int((lab[:, 1:] != -100).sum()),
                            examples=len(ctx), seq_sq=int(sum(c * c for c in ctx))))
        return b
    trainer.data_collator = counting
    class Clock(TrainerCallback):                                  # step time = from one step's end to the next (data included)
        def on_train_begin(self, args, state, control, **kw): self.t = time.perf_counter()
        def on_step_end(self, args, state, control, **kw):
            now = time.perf_counter()
            seen = sum(len(s["batches"]) for s in steps)           # every micro-batch drawn since the last step
            steps.append(dict(step=state.global_step, seconds=now - self.t, batches=list(range(seen, len(batches))))); self.t = now
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs and steps: steps[-1]["loss"] = float(logs["loss"])
    trainer.add_callback(Clock())
    return batches, steps


def plain_trainer(job, rows, out):
    "The reference: what a plain TRL + PEFT script does — tools as JSON in the system turn, TRL defaults."
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer
    from turing_course.models import CHAT_TEMPLATE, resolve_base_model
    path = resolve_base_model(job["model"])
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = CHAT_TEMPLATE      # SmolLM2's own template has no {% generation %} markers: assistant-only loss needs them
    data = []
    for r in rows:
        msgs = [dict(m) for m in r["messages"]]
        tools = "\n".join(json.dumps(t, ensure_ascii=False) for t in r["tools"])
        msgs[0]["content"] += "\n\n# Tools\nYou may call one or more functions. Function signatures in <tools></tools>:\n<tools>\n" + tools + \
            "\n</tools>\nFor each call answer with <tool_call>{\"name\": ..., \"arguments\": {...}}</tool_call>."
        for m in msgs:
            for c in m.get("tool_calls") or []:
                if not isinstance(c["function"]["arguments"], str): c["function"]["arguments"] = json.dumps(c["function"]["arguments"])
        data.append(dict(messages=msgs))
    torch.manual_seed(job["seed"])
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    args = SFTConfig(output_dir=str(out), max_steps=job["steps"], per_device_train_batch_size=job["batch_size"],
                     max_length=job["max_length"], assistant_only_loss=True, learning_rate=job["lr"],
                     warmup_steps=job["warmup"], lr_scheduler_type="cosine", seed=job["seed"], data_seed=job["seed"],
                     logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True, use_cpu=True)
    lora = LoraConfig(r=job["lora_r"], lora_alpha=job["lora_alpha"], target_modules="all-linear", task_type="CAUSAL_LM")
    tr = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(data), processing_class=tok, peft_config=lora)
    return tr, dict(gradient_checkpointing=args.gradient_checkpointing, bf16=args.bf16, sampler="random", loss_head="trl fused (every position on CPU)",
                    tools="JSON in the system turn")


def ours_trainer(job, rows, out):
    from turing_course.sft import SFTSpec, build_trainer
    spec = SFTSpec(base_model=job["model"], max_steps=job["steps"], batch_size=job["batch_size"], max_length=job["max_length"],
                   learning_rate=job["lr"], warmup_steps=job["warmup"], lr_scheduler="cosine", lora_r=job["lora_r"],
                   lora_alpha=job["lora_alpha"], seed=job["seed"], packing=job["variant"] == "ours_packed", logging_steps=1,
                   gradient_checkpointing=True if job["variant"] == "ours_ckpt" else "auto")
    tr, _ = build_trainer(spec, rows, out, progress=False)
    d = tr.memory_decision
    return tr, dict(gradient_checkpointing=d.gradient_checkpointing, micro_batch=d.micro_batch, memory_policy=d.reason, bf16=False,
                    sampler="packed" if spec.packing else tr.args.train_sampling_strategy, loss_head=spec.loss_head, tools="compact (course template)")


def worker():
    job = json.loads(sys.stdin.read())
    import warnings; warnings.simplefilter("ignore")
    import tempfile, torch
    from turing_course.data.synth import generate_conversations
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    rows = generate_conversations(job["examples"], seed=job["seed"])
    load0 = os.getloadavg()[0]
    out = Path(tempfile.mkdtemp(prefix="sft_tp_"))
    tr, info = (plain_trainer if job["variant"] == "plain" else ours_trainer)(job, rows, out)
    info.update(examples_given=len(rows), dataset_rows=len(tr.train_dataset))
    if not len(tr.train_dataset): raise SystemExit(f"{job['variant']}: every example lost its labels at max_length {job['max_length']}: raise --max-length")
    batches, steps = instrument(tr)
    ru0, rss0 = resource.getrusage(resource.RUSAGE_SELF), rss_mib()
    t0 = time.perf_counter()
    tr.train()
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    model = tr.model
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings().weight
    frozen = sum(p.numel() for n, p in model.named_parameters() if not p.requires_grad and "embed_tokens" not in n and p is not head)
    cfg = base.config
    res = dict(variant=job["variant"], info=info, steps=steps, batches=batches, wall=wall, rss_before_train=rss0["rss"],
               peak_rss_mib=rss_mib()["peak"], user_s=ru1.ru_utime - ru0.ru_utime, sys_s=ru1.ru_stime - ru0.ru_stime,
               threads=torch.get_num_threads(), load_before=load0, load_after=os.getloadavg()[0], trainable=trainable,
               body_params=frozen, vocab=cfg.vocab_size, hidden=cfg.hidden_size, layers=cfg.num_hidden_layers,
               env_malloc=os.environ.get("GLIBC_TUNABLES", ""))
    print("JSON:" + json.dumps(res))


# ---------------------------------------------------------------- the parent: run, summarise, compare
def run_variant(args, variant) -> dict:
    job = dict(variant=variant, model=PROFILES[args.profile], steps=args.steps, batch_size=args.batch_size, max_length=args.max_length,
               examples=args.examples, seed=args.seed, lr=args.lr, warmup=args.warmup, lora_r=16, lora_alpha=32)
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1"}
    if variant == "ours_malloc": env["GLIBC_TUNABLES"] = MALLOC_TUNABLES
    t = time.time()
    p = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"], input=json.dumps(job), capture_output=True, text=True, env=env)
    line = next((l for l in p.stdout.splitlines() if l.startswith("JSON:")), None)
    if p.returncode or line is None: raise SystemExit(f"variant {variant} failed (exit {p.returncode}):\n{p.stderr[-4000:]}")
    r = json.loads(line[5:]); r["subprocess_s"] = round(time.time() - t, 1)
    return summarise(r)


def step_flops(r, b) -> float:
    "Useful training FLOPs of one batch (see the module docstring)."
    N, T, V, d, L = r["body_params"], b["real"], r["vocab"], r["hidden"], r["layers"]
    head_rows = b["labels"] if r["variant"] != "plain" else b["positions"]
    attn = 3 * 4 * d * L * b["seq_sq"] / 2                  # forward 4·d·ctx per token and layer (ctx ~ half the row), backward 2x
    return 4 * N * T + 6 * r["trainable"] * T + 4 * V * d * head_rows + attn


def summarise(r) -> dict:
    timed = r["steps"][1:]                                    # the first step pays for lazy initialisation
    secs = sum(s["seconds"] for s in timed)
    bs = [r["batches"][i] for s in timed for i in s["batches"]]
    real, labels, pos = (sum(b[k] for b in bs) for k in ("real", "labels", "positions"))
    flops = sum(step_flops(r, b) for b in bs)
    r["summary"] = dict(s_per_step=round(secs / len(timed), 3), median_s_per_step=round(statistics.median(s["seconds"] for s in timed), 3),
                        real_tokens_per_s=round(real / secs, 1), trained_tokens_per_s=round(labels / secs, 1),
                        padded_share=round(1 - real / pos, 4), label_share=round(labels / real, 4),
                        examples_per_step=round(sum(b["examples"] for b in bs) / len(timed), 1),
                        peak_rss_mib=round(r["peak_rss_mib"]), kernel_share=round(r["sys_s"] / max(r["sys_s"] + r["user_s"], 1e-9), 3),
                        gflops_per_s=round(flops / secs / 1e9, 1), losses=[round(s.get("loss", float("nan")), 4) for s in r["steps"]])
    return r


def matmul_ceiling(n=2048, reps=8) -> float:
    import torch
    torch.set_num_threads(_cores())
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2): a @ b
    best = min(_time(lambda: a @ b) for _ in range(reps))
    return 2 * n ** 3 / best / 1e9


def _time(f):
    t = time.perf_counter(); f(); return time.perf_counter() - t


def _cores():
    from turing_course.sft import physical_cores
    return physical_cores()


def overlap(a, b, window=5) -> dict:
    "Loss-curve agreement: moving averages of both curves, their mean |difference| vs the (robust) step-to-step noise; loss spikes."
    import math
    a, b = [x for x in a if not math.isnan(x)], [x for x in b if not math.isnan(x)]
    n = min(len(a), len(b))
    if n < 2: return dict(steps=n)
    w = min(window, n)
    ma = lambda x: [sum(x[i:i + w]) / w for i in range(n - w + 1)]
    A, B = ma(a[:n]), ma(b[:n])
    d = [x - y for x, y in zip(a[1:n], a[:n - 1])] + [x - y for x, y in zip(b[1:n], b[:n - 1])]
    med = statistics.median(d)                     # robust step-to-step noise (MAD), so one spike cannot widen it
    noise = 1.4826 * statistics.median(abs(x - med) for x in d) / math.sqrt(2)
    gap = sum(abs(x - y) for x, y in zip(A, B)) / len(A)
    spikes = {k: [i + 1 for i in range(1, n) if x[i] > 3 * statistics.median(x[max(0, i - 5):i])] for k, x in (("plain", a), ("ours", b))}
    return dict(steps=n, window=w, mean_abs_gap_of_moving_averages=round(gap, 4), step_noise_mad=round(noise, 4),
                within_noise=gap <= noise, spikes_over_3x_recent_median=spikes, last_window_plain=round(A[-1], 4), last_window_ours=round(B[-1], 4))


def plot(results, path, title="SFT loss: plain TRL script vs the course's path"):
    import matplotlib; matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for v, r in results.items():
        ls = r["summary"]["losses"]
        ax.plot(range(1, len(ls) + 1), ls, marker=".", lw=1, label=f"{v} ({r['summary']['real_tokens_per_s']:.0f} real tok/s{', earlier run' if r.get('reused_from') else ''})")
    ax.set_xlabel("step"); ax.set_ylabel("training loss (labelled tokens)"); ax.grid(alpha=.3); ax.legend()
    ax.set_title(title)
    fig.tight_layout(); fig.savefig(path, dpi=110); plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if args.worker: return worker()
    print(f"sft_throughput: profile {args.profile} ({PROFILES[args.profile]}), {args.steps} steps, batch {args.batch_size}, "
          f"max_length {args.max_length}, {args.examples} examples, seed {args.seed}, load average {os.getloadavg()[0]:.2f}", flush=True)
    ceiling = matmul_ceiling()
    print(f"fp32 matmul ceiling (2048x2048, {_cores()} threads): {ceiling:.1f} GFLOP/s", flush=True)
    results, other_machine = {}, False
    if args.reuse:
        old = json.loads(Path(args.reuse).read_text())
        same = ("steps", "batch_size", "max_length", "examples", "seed", "lr", "warmup", "profile")
        diff = {k: (old["args"].get(k), getattr(args, k)) for k in same if old["args"].get(k) != getattr(args, k)}
        if diff: raise SystemExit(f"--reuse {args.reuse}: its settings differ {diff}; rerun every variant instead")
        then = old.get("matmul_gflops")
        other_machine = then is None or abs(then / ceiling - 1) > MACHINE_TOLERANCE
        for v, r in old["variants"].items():
            if v not in args.variants:
                results[v] = {**r, "reused_from": args.reuse, "matmul_gflops": then}
                print(f"[{v}] reused from {args.reuse} (measured then at load {r['load_before']:.2f} -> {r['load_after']:.2f}, "
                      f"matmul ceiling {then} GFLOP/s)", flush=True)
        if other_machine:
            print(f"WARNING: {args.reuse} was measured where the matmul ceiling was {then} GFLOP/s, {ceiling:.1f} now: another "
                  f"machine or another load. Ratios between {', '.join(results)} and this run's variants are not computed.", flush=True)
    for v in args.variants:
        r = results[v] = run_variant(args, v)
        r["matmul_gflops"] = round(ceiling, 1)
        s = r["summary"]
        print(f"\n[{v}] {r['info']}\n  s/step {s['s_per_step']} (median {s['median_s_per_step']}), real tokens/s {s['real_tokens_per_s']}, "
              f"trained tokens/s {s['trained_tokens_per_s']}, padded share {s['padded_share']:.1%}, label share {s['label_share']:.1%}, "
              f"examples/step {s['examples_per_step']}\n  peak RSS {s['peak_rss_mib']} MiB, kernel time {s['kernel_share']:.1%}, "
              f"useful {s['gflops_per_s']} GFLOP/s, threads {r['threads']}, load {r['load_before']:.2f} -> {r['load_after']:.2f}"
              f"\n  loss per step: {s['losses']}", flush=True)
    out = dict(args={k: v for k, v in vars(args).items() if k != "worker"}, matmul_gflops=round(ceiling, 1),
               variants={v: {k: r.get(k) for k in ("info", "summary", "wall", "threads", "load_before", "load_after", "trainable",
                                                "env_malloc", "subprocess_s", "reused_from", "matmul_gflops")} for v, r in results.items()})
    def comparable(*vs): return not (other_machine and any("reused_from" in results[v] for v in vs))
    if "plain" in results and "ours" in results and comparable("plain", "ours"):
        p, o = results["plain"]["summary"], results["ours"]["summary"]
        ratios = dict(real_tokens_per_s=o["real_tokens_per_s"] / p["real_tokens_per_s"],
                      trained_tokens_per_s=o["trained_tokens_per_s"] / p["trained_tokens_per_s"], peak_rss=o["peak_rss_mib"] / p["peak_rss_mib"])
        met = dict(real_tokens_per_s=ratios["real_tokens_per_s"] >= TARGETS["real_tokens_per_s"],
                   trained_tokens_per_s=ratios["trained_tokens_per_s"] >= TARGETS["trained_tokens_per_s"], peak_rss=ratios["peak_rss"] <= TARGETS["peak_rss"])
        print("\nours / plain (issue #7 targets):")
        for k, v in ratios.items():
            print(f"  {k:22s} {v:6.2f}   target {'<=' if k == 'peak_rss' else '>='} {TARGETS[k]}   {'met' if met[k] else 'NOT met'}")
        ov = overlap(p["losses"], o["losses"])
        print(f"loss curves: {ov}")
        out.update(ratios={k: round(v, 3) for k, v in ratios.items()}, targets_met=met, loss_overlap=ov)
    if "ours" in results and "ours_packed" in results and comparable("ours", "ours_packed"):
        g = results["ours_packed"]["summary"]["real_tokens_per_s"] / results["ours"]["summary"]["real_tokens_per_s"]
        print(f"packing / padding, real tokens/s: {g:.2f}"); out["packing_gain"] = round(g, 3)
    if "plain" in results and "ours_ckpt" in results and comparable("plain", "ours_ckpt"):
        p, o = results["plain"]["summary"], results["ours_ckpt"]["summary"]
        r = {k: round(o[k] / p[k], 3) for k in ("real_tokens_per_s", "trained_tokens_per_s", "peak_rss_mib")}
        print(f"ours with checkpointing / plain: {r}"); out["ratios_ckpt"] = r
    if "ours" in results and "ours_malloc" in results and comparable("ours", "ours_malloc"):
        g = results["ours_malloc"]["summary"]["s_per_step"] / results["ours"]["summary"]["s_per_step"]
        print(f"malloc tunables / default, s/step: {g:.3f}"); out["malloc_ratio"] = round(g, 3)
    if "ours" in results and comparable("ours"):
        gf = results["ours"]["summary"]["gflops_per_s"]
        print(f"effective GFLOP/s of our step: {gf} = {gf / ceiling:.0%} of the {ceiling:.1f} GFLOP/s matmul ceiling")
        out["ours_fraction_of_ceiling"] = round(gf / ceiling, 3)
    dest = Path(args.out) if args.out else HERE/"results"/f"sft_throughput-{args.profile}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1))
    plot(results, dest.with_suffix(".png"))
    print(f"\nresults: {dest}\nplot:    {dest.with_suffix('.png')}")


if __name__ == "__main__":
    main()

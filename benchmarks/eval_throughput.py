"""Evaluation throughput of the in-process backend: generations/s at batch 1 vs batch 8, with and without the prefix KV cache.

Runs Task API tool-call cases (the seeded synthetic generator of chapter 63, cut into cases by `tool_call_cases`) through
`turing_course.evals.InProcessBackend`, greedy, and prints one row per (batch size, prefix cache) with generations/s,
then the ratios batch 8 / batch 1 (issue #6 target: >= 3x) and prefix / no prefix, the peak RSS, and whether the greedy
replies with the prefix cache are identical to those without it (exit code 1 if not).

    TURING_HOME=/root/.turing python benchmarks/eval_throughput.py                     # SmolLM2-135M-Instruct, 16 cases
    python benchmarks/eval_throughput.py --profile tiny --cases 8 --max-new-tokens 8  # smoke test, seconds

The CPU may be shared with other jobs: the load average before and after the run is printed next to the figures.
"""
from __future__ import annotations
import argparse, os, resource, sys, time

PROFILES = {"laptop": "smollm2-135m-instruct", "tiny": "tiny"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", choices=sorted(PROFILES), default="laptop",
                   help="laptop = SmolLM2-135M-Instruct (needs the converted folder under TURING_HOME); tiny = the 1.5M-parameter test model")
    p.add_argument("--model", default=None, help="a model name or path for turing_course.models.load_model (overrides --profile)")
    p.add_argument("--cases", type=int, default=16, help="number of Task API test cases (default 16)")
    p.add_argument("--max-new-tokens", type=int, default=48, help="tokens generated per case (default 48)")
    p.add_argument("--batch-sizes", default="1,8", help="comma-separated batch sizes; ratios are last / first (default 1,8)")
    p.add_argument("--seed", type=int, default=3, help="seed of the synthetic data generator (default 3)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own choice)")
    a = p.parse_args(argv)
    a.batch_sizes = [int(b) for b in a.batch_sizes.split(",") if b.strip()]
    if a.cases < 2: p.error("--cases must be >= 2: the prefix cache needs at least two prompts")
    if a.max_new_tokens < 1: p.error("--max-new-tokens must be >= 1")
    if not a.batch_sizes or min(a.batch_sizes) < 1: p.error("--batch-sizes must be positive integers, e.g. 1,8")
    return a


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # Linux: KiB


def main(argv=None) -> int:
    a = parse_args(argv)
    import torch
    from turing_course.data.synth import generate_conversations
    from turing_course.evals import InProcessBackend, tool_call_cases, prompt_ids, shared_prefix_len
    from turing_course.models import load_model
    if a.threads: torch.set_num_threads(a.threads)
    name = a.model or PROFILES[a.profile]
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    model, tok = load_model(name)
    model.eval()
    load_s = time.perf_counter() - t0
    cases = tool_call_cases(generate_conversations(a.cases, seed=a.seed))
    ids = prompt_ids(tok, cases)
    L = shared_prefix_len(ids)
    print(f"model {name}: loaded in {load_s:.1f} s; {len(cases)} cases, prompts {min(map(len, ids))}-{max(map(len, ids))} tokens, "
          f"shared prefix {L} tokens; max_new_tokens {a.max_new_tokens}; torch threads {torch.get_num_threads()}; "
          f"load average before {load0[0]:.2f}")
    InProcessBackend(model, tok, 2, 2).generate(cases[:2])                # warm-up: one-time costs out of the timings

    rows, outputs = [], {}
    for bs in a.batch_sizes:
        for prefix in (False, True):
            bk = InProcessBackend(model, tok, max_new_tokens=a.max_new_tokens, batch_size=bs, prefix_cache=prefix)
            t0 = time.perf_counter()
            replies = bk.generate(cases)
            secs = time.perf_counter() - t0
            outputs[bs, prefix] = [r.text for r in replies]
            new_tokens = sum(r.completion_tokens or 0 for r in replies)
            rows.append(dict(batch=bs, prefix=prefix, seconds=secs, gen_s=len(cases) / secs, tok_s=new_tokens / secs,
                             prefix_len=len(bk.last_prefix) if bk.last_prefix else 0,
                             prefix_s=bk.last_prefix.seconds if bk.last_prefix else 0.0))
            print(f"  batch {bs:>2} prefix {'on ' if prefix else 'off'}: {secs:7.1f} s", flush=True)

    print()
    print(f"{'batch':>5} {'prefix cache':>12} {'seconds':>8} {'gen/s':>7} {'new tok/s':>9} {'prefix tok':>10} {'prefix s':>8}")
    for r in rows:
        print(f"{r['batch']:>5} {'on' if r['prefix'] else 'off':>12} {r['seconds']:>8.1f} {r['gen_s']:>7.3f} {r['tok_s']:>9.1f} "
              f"{r['prefix_len']:>10} {r['prefix_s']:>8.2f}")
    g = {(r["batch"], r["prefix"]): r["gen_s"] for r in rows}
    lo, hi = a.batch_sizes[0], a.batch_sizes[-1]
    print()
    if hi != lo:
        for prefix in (False, True):
            ratio = g[hi, prefix] / g[lo, prefix]
            print(f"batch {hi} / batch {lo}, prefix {'on ' if prefix else 'off'}: {ratio:.2f}x  (issue #6 target >= 3x: "
                  f"{'met' if ratio >= 3 else 'NOT met'})")
        print(f"batch {hi} + prefix / batch {lo} without: {g[hi, True] / g[lo, False]:.2f}x")
    for bs in a.batch_sizes:
        print(f"prefix on / off at batch {bs}: {g[bs, True] / g[bs, False]:.2f}x")
    same = {bs: outputs[bs, True] == outputs[bs, False] for bs in a.batch_sizes}
    for bs, ok in same.items():
        diff = [c.id for c, x, y in zip(cases, outputs[bs, True], outputs[bs, False]) if x != y]
        print(f"greedy replies, prefix on == off at batch {bs}: {'identical' if ok else 'DIFFERENT for cases ' + ', '.join(diff)}")
    if hi != lo:
        print(f"greedy replies, batch {lo} == batch {hi} (no prefix): {outputs[lo, False] == outputs[hi, False]}")
    print(f"peak RSS {peak_rss_mib():.0f} MiB; load average after {os.getloadavg()[0]:.2f} (2 cores; other jobs may share them)")
    return 0 if all(same.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

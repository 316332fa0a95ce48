"""Chapter 63 data pipeline benchmark: validation and near-duplicate detection at 10k, 50k and 100k conversations.

    .venv/bin/python benchmarks/data_pipeline.py                 # 10k, 50k, 100k
    .venv/bin/python benchmarks/data_pipeline.py --sizes 2000    # a quick run

Each size runs in a fresh process so that its peak memory (max RSS) is its own. Reported per size:
- load+validate rows/s: `load_rows` on a JSONL file (read bytes, parse JSON, detect the format, normalise, validate);
- validate rows/s: `validate_rows` on rows already in memory (the validator alone);
- near-dedup rows/s: `near_dedup` (MinHash of 5-character shingles, 128 permutations, LSH at Jaccard 0.9);
- peak RSS of the process (generation, one in-memory copy of the rows, the MinHash index).
Targets (issue 4): validation >= 20,000 rows/s on 2 cores; near-dedup close to linear (rows/s roughly flat across sizes).
"""
import argparse, json, multiprocessing as mp, os, resource, sys, tempfile, time
from pathlib import Path


def _one(n: int, q):
    from turing_course.data.quality import load_rows, near_dedup, validate_rows, write_jsonl
    from turing_course.data.synth import generate_conversations
    t0 = time.perf_counter(); rows = generate_conversations(n, seed=7); t_gen = time.perf_counter() - t0
    t0 = time.perf_counter(); bad = sum(bool(r) for r in validate_rows(rows)); t_val = time.perf_counter() - t0
    assert bad == 0
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "rows.jsonl"
        write_jsonl(p, rows)
        del rows                                   # keep one copy of the data in memory from here on
        size_mb = p.stat().st_size / 1e6
        t0 = time.perf_counter(); rep = load_rows(p); t_load = time.perf_counter() - t0
    assert rep.kept == n and not rep.quarantined, rep.summary()
    t0 = time.perf_counter(); kept, dropped = near_dedup(rep.rows); t_dedup = time.perf_counter() - t0
    q.put({"n": n, "file_mb": round(size_mb, 1), "generate_rows_s": round(n / t_gen), "load_validate_rows_s": round(n / t_load),
           "validate_rows_s": round(n / t_val), "near_dedup_rows_s": round(n / t_dedup), "near_dedup_s": round(t_dedup, 2),
           "near_dups": len(dropped), "near_dup_rate": round(len(dropped) / n, 4),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args(argv)
    ctx, results = mp.get_context("spawn"), []
    print(f"{'conversations':>13} {'file MB':>8} {'load+validate/s':>16} {'validate/s':>11} {'near-dedup/s':>13} {'dedup s':>8} "
          f"{'near-dup rate':>13} {'peak RSS MB':>12}", flush=True)
    for n in a.sizes:
        q = ctx.Queue(); p = ctx.Process(target=_one, args=(n, q)); p.start(); r = q.get(); p.join()
        results.append(r)
        print(f"{r['n']:>13,} {r['file_mb']:>8} {r['load_validate_rows_s']:>16,} {r['validate_rows_s']:>11,} {r['near_dedup_rows_s']:>13,} "
              f"{r['near_dedup_s']:>8} {r['near_dup_rate']:>13.2%} {r['peak_rss_mb']:>12,}", flush=True)
    if len(results) > 1:
        a0, z = results[0], results[-1]
        print(f"\nnear-dedup time grows x{z['near_dedup_s'] / a0['near_dedup_s']:.1f} for x{z['n'] / a0['n']:.0f} rows "
              f"(linear = x{z['n'] / a0['n']:.0f}); validation target 20,000 rows/s: "
              f"{'met' if min(r['load_validate_rows_s'] for r in results) >= 20_000 else 'NOT met'} (load+validate), "
              f"{'met' if min(r['validate_rows_s'] for r in results) >= 20_000 else 'NOT met'} (validate)")
    if a.json: a.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main()

"""See scripts/bench-core. Starts its own stack (tests/integration/stack.py)."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from stack import Stack  # noqa: E402


def wrk(url, duration, threads=2, conns=64):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99),
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


# Limits far above what wrk can send: the benchmark measures the limiter's
# cost, not its refusals.
UNLIMITED = {f"CLEANPNG_LIMIT_{k}": "1000000/1s" for k in ("SEARCH", "REMOVE", "PRIVACY",
                                                             "HEALTH")}


def build_revision(rev):
    """Builds cleanpngd of a git revision in a worktree under /tmp; returns
    (the binary, the worktree)."""
    sha = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", rev], check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = f"/tmp/cleanpng-bench-{sha}"
    if not os.path.isdir(tree):
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", tree, sha], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["cmake", "-S", tree, "-B", tree + "/build", "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", tree + "/build", "-j2", "--target", "cleanpngd"],
                   check=True, stdout=subprocess.DEVNULL)
    return tree + "/build/src/cleanpngd", tree


def measure_cached_search(baseline, www, args, path):
    binary, tree = baseline
    stack = Stack(env=dict(UNLIMITED, CLEANPNG_WWW_DIR=www, CLEANPNG_LOG_LEVEL="warn"),
                  workers=args.workers, threads=args.threads, binary=binary, root=tree)
    stack.start()
    try:
        stack.get(path)
        url = f"http://127.0.0.1:{stack.http_port}{path}"
        wrk(url, 2)
        return wrk(url, args.duration)
    finally:
        stack.stop()
        stack.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--baseline-rev", help="also measure cached search of this git revision "
                    "(built in a temporary worktree) in the same run")
    args = ap.parse_args()
    baseline_bin = build_revision(args.baseline_rev) if args.baseline_rev else None

    www = tempfile.mkdtemp(prefix="cleanpng-bench-www-")
    shutil.copytree(os.path.join(ROOT, "www"), www, dirs_exist_ok=True)
    stack = Stack(env=dict(UNLIMITED, CLEANPNG_WWW_DIR=www, CLEANPNG_LOG_LEVEL="warn"),
                  workers=args.workers, threads=args.threads)
    stack.start()
    try:
        path = "/api/search?q=cat&per_page=20"
        first = stack.get(path)
        assert first.status == 200, first.body
        cached = stack.get(path)
        assert cached.json()["cached"], "cache did not answer"
        size = len(cached.body)
        with open(os.path.join(www, "bench-static.json"), "wb") as f:
            f.write(cached.body)
        base = f"http://127.0.0.1:{stack.http_port}"
        results = {}
        for name, url in [("static", base + "/bench-static.json"),
                          ("health", base + "/api/health"),
                          ("search_cached", base + path)]:
            wrk(url, 2)  # warm up
            results[name] = wrk(url, args.duration)
        print(f"cleanpng bench-core: wrk -t2 -c64 -d{args.duration}s, {args.workers} workers x "
              f"{args.threads} threads, body {size} bytes, {os.cpu_count()} cores")
        print(f"{'case':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
        for name, r in results.items():
            print(f"{name:<16}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}{r['non2xx']:>10}")
        if baseline_bin:
            stack.stop()
            base = measure_cached_search(baseline_bin, www, args, path)
            r = base
            print(f"{'search_baseline':<16}{r['rps']:>10.0f}{r['p50']:>10.2f}{r['p99']:>10.2f}"
                  f"{r['non2xx']:>10}   ({args.baseline_rev})")
            print(f"cost of this revision's extra work on cached search: "
                  f"{(1 - results['search_cached']['rps'] / r['rps']) * 100:.1f}% of throughput")
        s, h, c = results["static"], results["health"], results["search_cached"]
        print(f"ratio search_cached/static = {c['rps'] / s['rps']:.2f}  (target >= 0.20)")
        print(f"ratio search_cached/health = {c['rps'] / h['rps']:.2f}  (target >= 0.80)")
        print(f"search_cached p99 = {c['p99']:.2f} ms  (target < 20 ms)")
    finally:
        stack.stop()
        stack.cleanup()
        shutil.rmtree(www, ignore_errors=True)


if __name__ == "__main__":
    main()

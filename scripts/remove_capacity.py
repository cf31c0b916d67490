"""See scripts/remove-capacity. Importable: run_capacity() is used by the
integration suite (tests/integration/test_capacity.py)."""
import argparse
import collections
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import images  # noqa: E402
from stack import Fake, Stack  # noqa: E402

KEY = "capacity-test-key"


def pool_rss_kb(master_pid):
    """Sum of VmRSS of the master and its workers, in KiB."""
    total = 0
    pids = [master_pid]
    try:
        with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run_capacity(requests=200, delay_ms=2000, workers=2, threads=64, image=None):
    fake = Fake("fake_removebg.py", "--api-key", KEY)
    stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": KEY,
                       "CLEANPNG_REMOVEBG_API_URL": fake.url,
                       "CLEANPNG_LOG_LEVEL": "warn"}, workers=workers, threads=threads)
    stack.start()
    try:
        fake.call("POST", "/__scenario", {"delay_ms": delay_ms})
        body = image or images.photo(1200, 900)  # about 1 MP
        statuses = collections.Counter()
        latencies = []
        inflight = [0, 0]  # now, max
        lock = threading.Lock()
        start_gate = threading.Barrier(requests + 1)

        def one():
            start_gate.wait()
            t0 = time.time()
            with lock:
                inflight[0] += 1
                inflight[1] = max(inflight[1], inflight[0])
            try:
                r = stack.request("POST", "/api/remove?size=preview", body=body,
                                  headers={"Content-Type": "image/jpeg"}, timeout=120)
                status = r.status
            except OSError as e:
                status = type(e).__name__
            with lock:
                inflight[0] -= 1
                statuses[status] += 1
                latencies.append(time.time() - t0)

        workers_t = [threading.Thread(target=one) for _ in range(requests)]
        for t in workers_t:
            t.start()
        rss_before = pool_rss_kb(stack.daemon.pid)
        peak = [rss_before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], pool_rss_kb(stack.daemon.pid))
                time.sleep(0.05)
        sampler = threading.Thread(target=sample)
        sampler.start()
        t0 = time.time()
        start_gate.wait()
        for t in workers_t:
            t.join()
        elapsed = time.time() - t0
        done.set()
        sampler.join()
        latencies.sort()
        return {
            "requests": requests, "delay_ms": delay_ms, "workers": workers, "threads": threads,
            "image_bytes": len(body), "statuses": dict(statuses), "elapsed_s": elapsed,
            "p50_s": latencies[len(latencies) // 2], "p99_s": latencies[int(len(latencies) * .99) - 1],
            "max_s": latencies[-1], "client_inflight_max": inflight[1],
            "server_slots": workers * threads,
            "rss_before_mb": rss_before / 1024, "rss_peak_mb": peak[0] / 1024,
            "upstream_calls": len(fake.requests()),
        }
    finally:
        stack.stop()
        fake.stop()
        stack.cleanup()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--delay-ms", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=64)
    a = ap.parse_args()
    res = run_capacity(a.requests, a.delay_ms, a.workers, a.threads)
    print("cleanpng remove-capacity:")
    for k, v in res.items():
        print(f"  {k:<20} {v:.2f}" if isinstance(v, float) else f"  {k:<20} {v}")
    ok = res["statuses"].get(200, 0) == a.requests
    print("result: all succeeded" if ok else "result: FAILURES")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()

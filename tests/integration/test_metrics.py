"""GET /api/metrics: Prometheus text with the pool's counters summed over all
workers; nginx lets only the allowed addresses read it."""
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import images  # noqa: E402
from stack import Fake, Stack, wait_for  # noqa: E402

KEY = "metrics-test-key"


def parse(text):
    """{(name, frozenset(labels)): value} from the exposition format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+)(?:\{(.*)\})? ([0-9.eE+-]+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def val(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


class MetricsTest(unittest.TestCase):
    def test_counters_across_workers(self):
        fake = Fake("fake_removebg.py", "--api-key", KEY)
        stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": KEY,
                           "CLEANPNG_REMOVEBG_API_URL": fake.url,
                           "CLEANPNG_LIMIT_PRIVACY": "2/1m"}, workers=2).start()
        try:
            for _ in range(10):
                stack.get("/api/search?q=cat")
            stack.get("/api/search?q=")
            for _ in range(3):
                stack.get("/api/privacy")
            stack.request("POST", "/api/remove?size=preview", body=images.photo(300, 200),
                          headers={"Content-Type": "image/jpeg"})
            r = stack.get("/api/metrics")
            self.assertEqual(r.status, 200)
            self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"))
            m = parse(r.body.decode())
            self.assertEqual(val(m, "cleanpng_requests_total", route="search", status="200"), 10)
            self.assertEqual(val(m, "cleanpng_requests_total", route="search", status="400"), 1)
            self.assertEqual(val(m, "cleanpng_requests_total", route="privacy", status="429"), 1)
            self.assertEqual(val(m, "cleanpng_ratelimit_rejections_total", route="privacy"), 1)
            self.assertEqual(val(m, "cleanpng_search_cache_requests_total", result="hit"), 9)
            self.assertEqual(val(m, "cleanpng_search_cache_requests_total", result="miss"), 1)
            self.assertEqual(val(m, "cleanpng_upstream_calls_total", upstream="removebg",
                                 outcome="ok"), 1)
            self.assertEqual(val(m, "cleanpng_engine_seconds_count", engine="removebg"), 1)
            self.assertGreater(val(m, "cleanpng_redis_reconnects_total"), 0)
            # histogram buckets are cumulative and end at the count
            buckets = sorted((float("inf") if dict(k[1])["le"] == "+Inf" else float(dict(k[1])["le"]), v)
                             for k, v in m.items()
                             if k[0] == "cleanpng_request_duration_seconds_bucket"
                             and dict(k[1])["route"] == "search")
            self.assertEqual([v for _, v in buckets], sorted(v for _, v in buckets))
            self.assertEqual(buckets[-1][1], 11)
            # a worker that dies is counted
            os.kill(stack.worker_pids()[0], signal.SIGKILL)
            wait_for(lambda: val(parse(stack.get("/api/metrics").body.decode()),
                                 "cleanpng_worker_restarts_total") == 1, what="restart counted")
        finally:
            stack.stop()
            fake.stop()
            reports = stack.sanitizer_reports()
            stack.cleanup()
        self.assertEqual(reports, [])

    def test_only_allowed_addresses(self):
        stack = Stack(env={"CLEANPNG_TRUSTED_PROXIES": "127.0.0.1"}).start()
        try:
            self.assertEqual(stack.get("/api/metrics").status, 200)
            r = stack.get("/api/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
            self.assertEqual(r.status, 403)
            self.assertEqual(r.json()["error"]["code"], "forbidden")
        finally:
            stack.stop()
            stack.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Redis: per-address rate limits, global upstream budgets, retention-bound
logs, the visitor's right to see and erase, the client address behind nginx,
and surviving a Redis outage. Real redis-server, through nginx."""
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import images  # noqa: E402
from stack import Fake, Stack, wait_for  # noqa: E402

US_KEY = "redis-test-unsplash-key"
RB_KEY = "redis-test-removebg-key"


def stop_all(stack, *fakes):
    stack.stop()
    for f in fakes:
        f.stop()
    reports = stack.sanitizer_reports()
    stack.cleanup()
    return reports


class RateLimitTest(unittest.TestCase):
    def test_exactly_the_limit_gets_through_then_the_window_resets(self):
        stack = Stack(env={"CLEANPNG_LIMIT_SEARCH": "10/4s"}, workers=2, threads=32).start()
        try:
            results = []
            lock = threading.Lock()
            gate = threading.Barrier(100)

            def one():
                gate.wait()
                r = stack.get("/api/search?q=cat")
                with lock:
                    results.append(r)
            threads = [threading.Thread(target=one) for _ in range(100)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            ok = [r for r in results if r.status == 200]
            limited = [r for r in results if r.status == 429]
            self.assertEqual(len(ok), 10)
            self.assertEqual(len(limited), 90)
            self.assertEqual(sorted(int(r.header("RateLimit-Remaining")) for r in ok),
                             list(range(10)))
            for r in results:
                self.assertEqual(r.header("RateLimit-Limit"), "10")
                self.assertTrue(0 <= int(r.header("RateLimit-Reset")) <= 4)
            for r in limited:
                self.assertEqual(r.json()["error"]["code"], "rate_limited")
                self.assertTrue(1 <= int(r.header("Retry-After")) <= 4)
                self.assertEqual(r.header("RateLimit-Remaining"), "0")
            # other classes have their own counters
            self.assertEqual(stack.get("/api/privacy").status, 200)
            time.sleep(4.2)
            r = stack.get("/api/search?q=cat")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.header("RateLimit-Remaining"), "9")
            # the counter key never lacks a TTL
            code, rep = stack.audit()
            self.assertEqual(rep["no_ttl"], [])
        finally:
            self.assertEqual(stop_all(stack), [])

    def test_health_has_headers_but_costs_no_redis_call(self):
        stack = Stack().start()
        try:
            r = stack.get("/api/health")
            self.assertIsNotNone(r.header("RateLimit-Limit"))
            self.assertEqual(stack.redis_cli("KEYS", "cp:rl:*health*"), "")
        finally:
            stop_all(stack)


class BudgetTest(unittest.TestCase):
    def test_unsplash_budget(self):
        fake = Fake("fake_unsplash.py", "--access-key", US_KEY, "--limit", "1000")
        stack = Stack(env={"CLEANPNG_UNSPLASH_ACCESS_KEY": US_KEY,
                           "CLEANPNG_UNSPLASH_API_URL": fake.url,
                           "CLEANPNG_BUDGET_UNSPLASH": "5/1h"}).start()
        try:
            for i in range(5):
                self.assertEqual(stack.get(f"/api/search?q=word{i}").status, 200)
            r = stack.get("/api/search?q=word5")
            self.assertEqual(r.status, 503)
            self.assertEqual(r.json()["error"]["code"], "upstream_quota")
            self.assertGreater(int(r.header("Retry-After")), 3000)
            self.assertEqual(len(fake.requests()), 5)  # the sixth never reached Unsplash
            # cached searches cost nothing and still work
            self.assertTrue(stack.get("/api/search?q=word2").json()["cached"])
        finally:
            self.assertEqual(stop_all(stack, fake), [])

    def test_removebg_megapixel_budget(self):
        fake = Fake("fake_removebg.py", "--api-key", RB_KEY)
        stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": RB_KEY,
                           "CLEANPNG_REMOVEBG_API_URL": fake.url,
                           "CLEANPNG_BUDGET_REMOVEBG": "3/1m",
                           "CLEANPNG_LIMIT_REMOVE": "100/1m"}).start()
        try:
            img = images.photo(400, 300)
            for _ in range(3):
                r = stack.request("POST", "/api/remove?size=preview", body=img,
                                  headers={"Content-Type": "image/jpeg"})
                self.assertEqual(r.status, 200)
            r = stack.request("POST", "/api/remove?size=preview", body=img,
                              headers={"Content-Type": "image/jpeg"})
            self.assertEqual(r.status, 503)
            self.assertEqual(json.loads(r.body)["error"]["code"], "upstream_quota")
            self.assertIsNotNone(r.header("Retry-After"))
            self.assertEqual(len(fake.requests()), 3)
        finally:
            self.assertEqual(stop_all(stack, fake), [])


class RetentionAndPrivacyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(env={"CLEANPNG_RETENTION_SEARCH": "3s",
                               "CLEANPNG_RETENTION_ERROR": "4s",
                               "CLEANPNG_RETENTION_ACCESS": "5s",
                               "CLEANPNG_LOG_SECRET": "a-test-secret-of-enough-length"}).start()

    @classmethod
    def tearDownClass(cls):
        reports = stop_all(cls.stack)
        if reports:
            raise AssertionError("\n".join(reports))

    def privacy(self, host="127.0.0.1", method="GET"):
        r = self.stack.request(method, "/api/privacy", host=host)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_entries_expire_at_their_retention(self):
        s = self.stack
        s.redis_cli("FLUSHALL")
        s.get("/api/search?q=apple", headers={"User-Agent": "RetentionTest/1.0 " + "x" * 500})
        s.get("/api/search?page=0&q=x")  # a 400: an error entry
        wait_for(lambda: self.privacy()["counts"]["search"] == 1 and
                 self.privacy()["counts"]["error"] == 1 and
                 self.privacy()["counts"]["access"] >= 2, what="log entries")
        body = self.privacy()
        self.assertEqual(body["counts"]["search"], 1)
        self.assertGreaterEqual(body["counts"]["access"], 2)
        self.assertEqual(body["counts"]["error"], 1)
        search = body["entries"]["search"][0]
        self.assertEqual(search["query"], "apple")
        self.assertEqual(search["address"], "127.0.0.1")
        self.assertIn("deletes_at", search)
        access = [e for e in body["entries"]["access"] if e["user_agent"]][0]
        self.assertTrue(access["user_agent"].startswith("RetentionTest/1.0"))
        self.assertLessEqual(len(access["user_agent"]), 160)
        err = body["entries"]["error"][0]
        self.assertEqual(err["code"], "invalid_parameter")
        # every key has a TTL within its retention; key names hold no address
        code, rep = s.audit()
        self.assertEqual(code, 0, rep)
        self.assertEqual(rep["no_ttl"], [])
        keys = s.redis_cli("KEYS", "*")
        self.assertNotIn("127.0.0.1", keys)
        for k in keys.split():
            ttl = int(s.redis_cli("PTTL", k))
            self.assertGreater(ttl, 0, k)
            if k.startswith("cp:log:") or k.startswith("cp:idx:"):
                self.assertLessEqual(ttl, 5000 * (1 + 1 / 7), k)
        time.sleep(3.6)
        self.assertEqual(self.privacy()["counts"]["search"], 0)
        time.sleep(2.2)
        left = [k for k in s.redis_cli("KEYS", "cp:log:*").split()
                if int(k.rsplit(":", 1)[1].split("-")[0]) < (time.time() - 5.5) * 1000]
        self.assertEqual(left, [])  # what was logged before is gone by itself

    def test_privacy_is_per_address_and_erase_is_complete(self):
        s = self.stack
        s.redis_cli("FLUSHALL")
        s.get("/api/search?q=mine", host="127.0.0.1")
        s.get("/api/search?q=theirs", host="::1")
        wait_for(lambda: self.privacy("::1")["counts"]["search"] == 1
                 and self.privacy()["counts"]["search"] == 1, what="entries")
        mine = self.privacy()
        theirs = self.privacy("::1")
        self.assertEqual([e["query"] for e in mine["entries"]["search"]], ["mine"])
        self.assertEqual([e["query"] for e in theirs["entries"]["search"]], ["theirs"])
        self.assertTrue(all(e["address"] == "127.0.0.1"
                            for kind in mine["entries"].values() for e in kind))
        erased = self.privacy(method="DELETE")
        self.assertEqual(erased["erased"]["search"], 1)
        self.assertGreaterEqual(erased["erased"]["access"], 1)
        self.assertIn("Rate-limit", erased["note"])
        again = self.privacy(method="DELETE")  # idempotent, and leaves no trace itself
        self.assertEqual(again["erased"], {"access": 0, "search": 0, "error": 0})
        after = self.privacy()
        self.assertEqual(after["counts"], {"access": 0, "search": 0, "error": 0})
        # the other address keeps its entries
        self.assertEqual(self.privacy("::1")["counts"]["search"], 1)


class AuditTest(unittest.TestCase):
    def test_every_key_the_service_writes_has_a_ttl(self):
        fake = Fake("fake_removebg.py", "--api-key", RB_KEY)
        stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": RB_KEY,
                           "CLEANPNG_REMOVEBG_API_URL": fake.url}).start()
        try:
            stack.get("/api/search?q=apple")
            stack.get("/api/search?q=apple")
            stack.get("/api/search?q=")
            stack.get("/api/health")
            stack.request("POST", "/api/remove?size=preview", body=images.photo(300, 200),
                          headers={"Content-Type": "image/jpeg"})
            stack.request("POST", "/api/remove", body=b"junk", headers={"Content-Type": "image/png"})
            stack.get("/api/privacy")
            stack.get("/api/privacy", host="::1")
            stack.request("DELETE", "/api/privacy", host="::1")
            stack.get("/api/search?q=after+erase", host="::1")
            # health itself logs, so its queue depth is rarely 0: wait for
            # the writers to catch up instead (they flush every few ms)
            time.sleep(1.0)
            code, rep = stack.audit()
            self.assertEqual(rep["no_ttl"], [])
            self.assertEqual(rep["over_retention"], [])
            self.assertEqual(code, 0)
            for kind in ("rl", "search", "budget", "log:access", "log:search", "log:error",
                         "index:access", "erased"):
                self.assertIn(kind, rep["per_kind"], rep["per_kind"])
            self.assertNotIn("foreign", rep["per_kind"])
        finally:
            self.assertEqual(stop_all(stack, fake), [])


class LargeEraseTest(unittest.TestCase):
    def test_many_entries_are_listed_capped_and_erased_in_chunks(self):
        stack = Stack().start()
        try:
            def get(path):  # one visitor, ::1 (loopback skips nginx's limit_req)
                return stack.request("GET", path, host="::1")
            for i in range(1200):
                get(f"/api/search?q=cat&page={1 + i % 3}")
            wait_for(lambda: get("/api/privacy").json()["counts"]["search"] == 1200,
                     timeout=30, what="entries written")
            body = get("/api/privacy").json()
            self.assertEqual(len(body["entries"]["search"]), 500)  # newest 500 shown
            self.assertEqual(body["counts"]["search"], 1200)  # all counted
            r = stack.request("DELETE", "/api/privacy", host="::1").json()
            self.assertEqual(r["erased"]["search"], 1200)
            self.assertGreaterEqual(r["erased"]["access"], 1200)
            self.assertEqual(get("/api/privacy").json()["counts"]["search"], 0)
            self.assertEqual(stack.redis_cli("KEYS", "cp:log:*:search:*"), "")
        finally:
            stop_all(stack)


class ClientAddressTest(unittest.TestCase):
    def test_spoofed_forwarded_for_changes_nothing(self):
        stack = Stack(env={"CLEANPNG_LIMIT_SEARCH": "3/1m"}).start()
        try:
            for i in range(3):
                stack.get("/api/search?q=a", headers={"X-Forwarded-For": f"203.0.113.{i}"})
            r = stack.get("/api/search?q=a", headers={"X-Forwarded-For": "198.51.100.77"})
            self.assertEqual(r.status, 429)  # still counted as 127.0.0.1
            p = stack.get("/api/privacy", headers={"X-Forwarded-For": "198.51.100.77"}).json()
            self.assertEqual(p["address"], "127.0.0.1")
        finally:
            stop_all(stack)

    def test_trusted_proxy_forwarded_for_is_used(self):
        stack = Stack(env={"CLEANPNG_LIMIT_SEARCH": "3/1m",
                           "CLEANPNG_TRUSTED_PROXIES": "127.0.0.1"}).start()
        try:
            for i in range(5):
                r = stack.get("/api/search?q=a", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                self.assertEqual(r.status, 200)  # five different clients
            p = stack.get("/api/privacy", headers={"X-Forwarded-For": "203.0.113.3"}).json()
            self.assertEqual(p["address"], "203.0.113.3")
            # from an untrusted address (::1) the header is ignored
            p = stack.get("/api/privacy", host="::1",
                          headers={"X-Forwarded-For": "203.0.113.3"}).json()
            self.assertEqual(p["address"], "::1")
        finally:
            stop_all(stack)


class OutageTest(unittest.TestCase):
    def test_redis_killed_during_load(self):
        # a queue large enough for everything wrk sends while Redis is away;
        # the bound itself is tested below
        stack = Stack(env={"CLEANPNG_LIMIT_SEARCH": "1000000/1m",
                           "CLEANPNG_LIMIT_HEALTH": "1000000/1m",
                           "CLEANPNG_LOG_QUEUE": "1000000",
                           "CLEANPNG_REDIS_TIMEOUT_MS": "100"}).start()
        try:
            url = f"http://127.0.0.1:{stack.http_port}/api/search?q=cat"
            wrk = subprocess.Popen(["wrk", "-t2", "-c16", "-d6s", url], stdout=subprocess.PIPE,
                                   text=True)
            time.sleep(2)
            stack.stop_redis()
            time.sleep(1)
            health = [stack.get("/api/health").json() for _ in range(4)]
            self.assertTrue(all(h["status"] == "degraded" for h in health), health)
            # requests made while Redis is down are logged once it is back
            during = [stack.get("/api/search?q=outage", host="::1") for _ in range(20)]
            self.assertTrue(all(r.status == 200 for r in during))
            out = wrk.communicate(timeout=30)[0]
            self.assertNotIn("Non-2xx", out, out)
            self.assertNotIn("Socket errors", out, out)
            self.assertGreater(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 50)
            stack.start_redis()
            wait_for(lambda: stack.get("/api/health").json()["status"] == "ok", timeout=15,
                     what="health ok again")

            def outage_searches():
                r = stack.request("GET", "/api/privacy", host="::1")
                if r.status != 200:  # a worker still reconnecting
                    return -1
                body = r.json()
                return sum(1 for e in body["entries"]["search"] if e["query"] == "outage")
            wait_for(lambda: outage_searches() == 20, timeout=30, what="queued entries written")
            for _ in range(4):
                self.assertEqual(stack.get("/api/health").json()["log_queue"]["dropped"], 0)
        finally:
            self.assertEqual(stop_all(stack), [])

    def test_queue_overflow_is_counted_and_reported(self):
        stack = Stack(env={"CLEANPNG_LOG_QUEUE": "10", "CLEANPNG_LIMIT_SEARCH": "1000/1m"},
                      workers=1).start()
        try:
            stack.stop_redis()
            for _ in range(30):
                self.assertEqual(stack.get("/api/search?q=cat").status, 200)
            h = stack.get("/api/health").json()
            self.assertEqual(h["status"], "degraded")
            self.assertEqual(h["log_queue"]["depth"], 10)
            self.assertGreater(h["log_queue"]["dropped"], 0)
            self.assertIn("event=log_queue_full", stack.log())
            stack.start_redis()
            wait_for(lambda: stack.get("/api/health").json()["log_queue"]["depth"] == 0,
                     timeout=15, what="queue drained")
        finally:
            stop_all(stack)


if __name__ == "__main__":
    unittest.main(verbosity=2)

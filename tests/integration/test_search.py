"""/api/search and /api/health through real nginx, cleanpngd and Redis, with the
local library provider and with a fake Unsplash (tests/fakes/fake_unsplash.py)."""
import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from stack import Fake, Stack, wait_for  # noqa: E402

SECURITY_HEADERS = ["Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                    "Referrer-Policy", "X-Request-Id"]


def q(**params):
    return "/api/search?" + urllib.parse.urlencode(params)


class Common:
    def assert_error(self, resp, status, code, param=None):
        self.assertEqual(resp.status, status, resp.body[:300])
        self.assertTrue(resp.header("Content-Type").startswith("application/json"))
        err = resp.json()["error"]
        self.assertEqual(err["code"], code)
        self.assertTrue(err["message"])
        if param:
            self.assertEqual(err.get("param"), param)
        for h in SECURITY_HEADERS:
            self.assertIsNotNone(resp.header(h), h)
        return err


class LocalProviderTest(unittest.TestCase, Common):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack().start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        reports = cls.stack.sanitizer_reports()
        cls.stack.cleanup()
        if reports:
            raise AssertionError("sanitizer reports:\n" + "\n".join(reports))

    def test_apple_finds_photos(self):
        r = self.stack.get(q(q="apple"))
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["provider"], "local")
        self.assertEqual(body["query"], "apple")
        self.assertGreater(body["total"], 0)
        first = body["results"][0]
        for key in ("id", "width", "height", "color", "blur_hash", "description", "urls",
                    "author", "link"):
            self.assertIn(key, first)
        # the image itself is served by nginx from the library
        img = self.stack.get(first["urls"]["thumb"])
        self.assertEqual(img.status, 200)
        self.assertEqual(img.body[:3], b"\xff\xd8\xff")
        for h in SECURITY_HEADERS:
            self.assertIsNotNone(r.header(h), h)

    def test_paging_and_filters(self):
        a = self.stack.get(q(q="photo cat apple coffee", per_page=2, page=1)).json()
        b = self.stack.get(q(q="photo cat apple coffee", per_page=2, page=2)).json()
        self.assertEqual(a["total"], b["total"])
        self.assertEqual(a["total_pages"], (a["total"] + 1) // 2)
        self.assertEqual(len(a["results"]), 2)
        self.assertTrue({x["id"] for x in a["results"]}.isdisjoint({x["id"] for x in b["results"]}))
        far = self.stack.get(q(q="cat", page=100)).json()
        self.assertEqual(far["results"], [])
        for o in ("landscape", "portrait", "squarish"):
            res = self.stack.get(q(q="cat apple coffee rocket", orientation=o)).json()["results"]
            for item in res:
                w, h = item["width"], item["height"]
                if o == "landscape":
                    self.assertGreater(w, h)
                elif o == "portrait":
                    self.assertGreater(h, w)

    def test_no_match(self):
        r = self.stack.get(q(q="zzqxj"))
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["total"], 0)

    def test_cache(self):
        self.stack.redis_cli("FLUSHALL")
        first = self.stack.get(q(q="  Coffee   CUP "))
        second = self.stack.get(q(q="coffee cup"), headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(first.status, 200)
        self.assertFalse(first.json()["cached"])
        self.assertTrue(second.json()["cached"])
        self.assertEqual(first.json()["results"], second.json()["results"])
        keys = self.stack.redis_cli("KEYS", "cp:search:*").split()
        self.assertEqual(len(keys), 1)
        ttl = int(self.stack.redis_cli("TTL", keys[0]))
        self.assertTrue(0 < ttl <= 3600, ttl)
        self.assertNotIn("127.0.0.1", keys[0])
        # the cached value holds no client data
        self.assertNotIn("127.0.0.1", self.stack.redis_cli("GET", keys[0]))

    def test_bad_input(self):
        cases = [
            ("/api/search", 400, "missing_parameter", "q"),
            (q(q=""), 400, "missing_parameter", "q"),
            (q(q="   "), 400, "missing_parameter", "q"),
            (q(q="a" * 101), 400, "invalid_parameter", "q"),
            ("/api/search?q=%FF%FE", 400, "invalid_parameter", "q"),
            (q(q="a", page=0), 400, "invalid_parameter", "page"),
            (q(q="a", page="abc"), 400, "invalid_parameter", "page"),
            (q(q="a", per_page=1000), 400, "invalid_parameter", "per_page"),
            (q(q="a", orientation="round"), 400, "invalid_parameter", "orientation"),
            (q(q="a", color="chartreuse"), 400, "invalid_parameter", "color"),
            (q(q="a", order_by="random"), 400, "invalid_parameter", "order_by"),
            ("/api/search?q=a&q=b", 400, "invalid_parameter", "q"),
            ("/api/search?q=a%2", 400, "invalid_parameter", None),
            ("/api/search?q=a%zz", 400, "invalid_parameter", None),
            ("/api/search?q=" + "a" * 5000, 414, "uri_too_long", None),
            ("/api/search?q=" + "a" * 100 * 1024, 414, "uri_too_long", None),
            ("/api/nothing-here", 404, "not_found", None),
        ]
        for path, status, code, param in cases:
            with self.subTest(path=path[:60]):
                self.assert_error(self.stack.get(path), status, code, param)
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                r = self.stack.request(method, q(q="apple"), body=b"")
                self.assert_error(r, 405, "method_not_allowed")
                self.assertEqual(r.header("Allow"), "GET")
        # still serving
        self.assertEqual(self.stack.get(q(q="apple")).status, 200)
        self.assertEqual(self.stack.sanitizer_reports(), [])

    def test_request_id(self):
        r = self.stack.get(q(q="apple"), headers={"X-Request-Id": "client-chosen-id-123"})
        self.assertEqual(r.header("X-Request-Id"), "client-chosen-id-123")
        self.assertEqual(len([h for h in r.headers if h[0].lower() == "x-request-id"]), 1)
        r = self.stack.get(q(q="apple"), headers={"X-Request-Id": "bad id <script>"})
        rid = r.header("X-Request-Id")
        self.assertRegex(rid, r"^[0-9a-f]{32}$")
        r2 = self.stack.get("/api/health")
        self.assertNotEqual(r2.header("X-Request-Id"), rid)

    def test_health(self):
        r = self.stack.get("/api/health")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["status"], "ok")
        self.assertEqual(body["search_provider"], "local")
        self.assertEqual(body["remove_engine"], "local")

    def test_tls(self):
        import ssl
        import http.client
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port, context=ctx,
                                        timeout=10)
        c.request("GET", "/api/health")
        r = c.getresponse()
        self.assertEqual(r.status, 200)
        self.assertIn(c.sock.version(), ("TLSv1.2", "TLSv1.3"))
        c.close()
        ctx12 = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx12.check_hostname = False
        ctx12.verify_mode = ssl.CERT_NONE
        ctx12.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx12.minimum_version = ssl.TLSVersion.TLSv1
        with self.assertRaises((ssl.SSLError, OSError)):
            c = http.client.HTTPSConnection("127.0.0.1", self.stack.https_port, context=ctx12,
                                            timeout=10)
            c.request("GET", "/api/health")
            c.getresponse()

    def test_static_site(self):
        r = self.stack.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn(b"<form", r.body)
        for h in SECURITY_HEADERS:
            self.assertIsNotNone(r.header(h), h)


class RedisDownTest(unittest.TestCase, Common):
    def test_search_without_redis(self):
        stack = Stack().start()
        try:
            self.assertEqual(stack.get("/api/health").json()["status"], "ok")
            stack.stop_redis()
            # the first request after the outage may be the one that notices it
            for _ in range(3):
                h = stack.get("/api/health")
            self.assertEqual(h.status, 200)
            body = h.json()
            self.assertEqual(body["status"], "degraded")
            self.assertIn("redis", body["reason"])
            r = stack.get(q(q="apple"))
            self.assertEqual(r.status, 200)
            self.assertFalse(r.json()["cached"])
            stack.start_redis()
            wait_for(lambda: stack.get("/api/health").json()["status"] == "ok", timeout=10,
                     what="health back to ok")
        finally:
            stack.stop()
            reports = stack.sanitizer_reports()
            stack.cleanup()
        self.assertEqual(reports, [])


class UnsplashProviderTest(unittest.TestCase, Common):
    KEY = "test-access-key-SECRET-1234"

    @classmethod
    def setUpClass(cls):
        cls.fake = Fake("fake_unsplash.py", "--access-key", cls.KEY, "--slow-ms", "3000",
                        "--limit", "100000")
        cls.stack = Stack(env={
            "CLEANPNG_UNSPLASH_ACCESS_KEY": cls.KEY,
            "CLEANPNG_UNSPLASH_API_URL": cls.fake.url,
            "CLEANPNG_SEARCH_TIMEOUT_MS": "1500",
            "CLEANPNG_APP_NAME": "cleanpng_test",
        }).start()

    @classmethod
    def tearDownClass(cls):
        cls.stack.stop()
        cls.fake.stop()
        reports = cls.stack.sanitizer_reports()
        log = cls.stack.log()
        cls.stack.cleanup()
        if reports:
            raise AssertionError("sanitizer reports:\n" + "\n".join(reports))
        if cls.KEY in log:
            raise AssertionError("the access key appeared in the daemon's log")

    def setUp(self):
        self.fake.reset()
        self.stack.redis_cli("FLUSHALL")

    def test_results_and_attribution(self):
        r = self.stack.get(q(q="Dog", per_page=5, page=2, orientation="portrait"))
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        self.assertEqual(body["provider"], "unsplash")
        self.assertEqual(body["page"], 2)
        self.assertEqual(body["per_page"], 5)
        self.assertGreater(body["total"], 5)
        self.assertEqual(len(body["results"]), 5)
        for item in body["results"]:
            self.assertTrue(item["author"]["url"].endswith(
                "?utm_source=cleanpng_test&utm_medium=referral"), item["author"]["url"])
            self.assertIn("utm_source=cleanpng_test&utm_medium=referral", item["link"])
            self.assertTrue(item["urls"]["thumb"].startswith(self.fake.url + "/img/"))
        sent = self.fake.requests()
        self.assertEqual(len(sent), 1)
        s = sent[0]
        self.assertEqual(s["path"], "/search/photos")
        self.assertEqual(s["query"]["query"], "dog")
        self.assertEqual(s["query"]["page"], "2")
        self.assertEqual(s["query"]["per_page"], "5")
        self.assertEqual(s["query"]["orientation"], "portrait")
        headers = {k.lower(): v for k, v in s["headers"].items()}
        self.assertEqual(headers["authorization"], "Client-ID " + self.KEY)
        self.assertEqual(headers["accept-version"], "v1")
        self.assertNotIn(self.KEY.encode(), r.body)

    def test_cache_spares_the_upstream(self):
        a = self.stack.get(q(q="mountain lake"))
        b = self.stack.get(q(q="Mountain  Lake"))
        self.assertFalse(a.json()["cached"])
        self.assertTrue(b.json()["cached"])
        self.assertEqual(len(self.fake.requests()), 1)

    def test_nulls_and_empty(self):
        body = self.stack.get(q(q="flower __nulls")).json()
        self.assertGreater(len(body["results"]), 0)
        for item in body["results"]:
            self.assertIsNone(item["color"])
            self.assertIsNone(item["blur_hash"])
            self.assertIsNone(item["description"])
        body = self.stack.get(q(q="nothingatall")).json()
        self.assertEqual(body["total"], 0)
        self.assertEqual(body["results"], [])
        body = self.stack.get(q(q="cat __sponsored", per_page=3)).json()
        self.assertEqual(len(body["results"]), 3)

    def test_ratelimit_remaining_is_kept(self):
        self.fake.call("POST", "/__scenario", {"ratelimit_remaining": 41})
        self.stack.get(q(q="ratelimit probe"))
        # every worker that has seen a response knows the figure; ask until we hit one
        seen = set()
        for _ in range(20):
            seen.add(self.stack.get("/api/health").json()["unsplash_ratelimit_remaining"])
        self.assertIn(40, seen)

    def test_upstream_failures(self):
        cases = [
            ("__401", 502, "upstream_error"),
            ("__403perm", 502, "upstream_error"),
            ("__403rate", 503, "upstream_quota"),
            ("__429", 503, "upstream_quota"),
            ("__500", 502, "upstream_error"),
            ("__503", 502, "upstream_error"),
            ("__badjson", 502, "upstream_error"),
            ("__html", 502, "upstream_error"),
            ("__huge", 502, "upstream_error"),
            ("__drop", 502, "upstream_error"),
            ("__slow", 504, "upstream_timeout"),
        ]
        for word, status, code in cases:
            with self.subTest(word=word):
                r = self.stack.get(q(q="x " + word))
                err = self.assert_error(r, status, code)
                # never the upstream's raw body, never the key
                self.assertNotIn("OAuth", err["message"])
                self.assertNotIn(b"<html", r.body.lower())
                self.assertNotIn(self.KEY.encode(), r.body)
        # errors are not cached
        self.assertEqual(self.stack.redis_cli("KEYS", "cp:search:*"), "")
        self.assertEqual(self.stack.get(q(q="still alive")).status, 200)

    def test_upstream_down(self):
        stack = Stack(env={
            "CLEANPNG_UNSPLASH_ACCESS_KEY": self.KEY,
            "CLEANPNG_UNSPLASH_API_URL": "http://127.0.0.1:9",
        }).start()
        try:
            self.assert_error(stack.get(q(q="apple")), 502, "upstream_error")
        finally:
            stack.stop()
            stack.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

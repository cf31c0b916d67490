"""200 concurrent removals against an engine that answers after 2 s: all
succeed through nginx (no 502/504 from a starved pool), memory stays bounded."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from remove_capacity import run_capacity  # noqa: E402


class CapacityTest(unittest.TestCase):
    def test_200_concurrent_removals(self):
        res = run_capacity(requests=200, delay_ms=2000, workers=2, threads=64)
        print(res)
        self.assertEqual(res["statuses"], {200: 200})
        self.assertEqual(res["upstream_calls"], 200)
        # every request held one 33 KB upload and a small answer: the pool's
        # memory must not grow with what waits in nginx's queue
        limit = 3072 if "asan" in os.environ.get("CLEANPNG_BIN", "") else 1024
        self.assertLess(res["rss_peak_mb"], limit)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""No image bytes on disk: a 20 MB upload goes through nginx and the workers
while inotify watches every writable path of the stack (nginx's temporary
folders, the run directory, the workers' TMPDIR); no file appears, and the
workers hold no regular file open while the image is being processed."""
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import images  # noqa: E402
from stack import Fake, Stack, wait_for  # noqa: E402

KEY = "nodisk-test-key"
# files the stack writes by design: logs, sockets, pid files, rendered config
EXPECTED = ("cleanpngd.log", "nginx-access.log", "nginx-error.log", "redis.log", "redis.sock",
            "cleanpng.sock", "nginx.pid")


class NoDiskTest(unittest.TestCase):
    def test_twenty_megabyte_upload_leaves_no_file(self):
        fake = Fake("fake_removebg.py", "--api-key", KEY)
        stack = Stack(env={"CLEANPNG_REMOVEBG_API_KEY": KEY,
                           "CLEANPNG_REMOVEBG_API_URL": fake.url})
        tmpdir = os.path.join(stack.dir, "worker-tmp")
        os.makedirs(tmpdir)
        stack.env["TMPDIR"] = tmpdir
        stack.start()
        try:
            body = images.noise_png(20 * 1024 * 1024)
            self.assertGreater(len(body), 20 * 1000 * 1000)
            self.assertLess(len(body), 22 * 1024 * 1024)
            watch = subprocess.Popen(
                ["inotifywait", "-m", "-r", "-e", "create,moved_to,close_write",
                 "--format", "%w%f|%e", stack.dir],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wait_for(lambda: b"Watches established" in watch.stderr.readline().encode(),
                     what="inotify")
            fake.call("POST", "/__scenario", {"delay_ms": 1500})
            result = {}
            t = threading.Thread(target=lambda: result.update(r=stack.request(
                "POST", "/api/remove?size=preview", body=body,
                headers={"Content-Type": "image/png"}, timeout=120)))
            t.start()
            wait_for(lambda: len(fake.requests()) >= 1, timeout=60, what="upload to reach the engine")
            # while the engine works, no worker holds a regular file other than its log
            for pid in stack.worker_pids():
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    except OSError:
                        continue
                    if target.startswith("/") and not target.startswith("/dev/"):
                        self.assertTrue(target.endswith("cleanpngd.log"), target)
            t.join(120)
            self.assertEqual(result["r"].status, 200, result["r"].body[:200])
            time.sleep(1.5)  # let nginx flush its buffered access log
            watch.terminate()
            events = watch.communicate(timeout=10)[0].splitlines()
            unexpected = [e for e in events
                          if not os.path.basename(e.split("|")[0]).startswith(EXPECTED)]
            self.assertEqual(unexpected, [], "files written during the upload")
            tmp_files = [os.path.join(d, f) for d, _, fs in
                         os.walk(os.path.join(stack.dir, "nginx-tmp")) for f in fs]
            self.assertEqual(tmp_files, [])
            self.assertEqual(os.listdir(tmpdir), [])
        finally:
            stack.stop()
            fake.stop()
            stack.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)

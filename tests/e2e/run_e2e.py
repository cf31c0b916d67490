#!/usr/bin/python3
"""Browser tests of the web site against the real stack.

Starts three stacks on loopback (tests/integration/stack.py):
  - BASE_URL:          local library + built-in engine, default limits;
  - UNSPLASH_BASE_URL: search through tests/fakes/fake_unsplash.py (its images
                       allowed by the CSP through CLEANPNG_IMG_SRC);
  - LIMITED_BASE_URL:  tiny rate limits (search 2/1m, remove 1/1m) for the
                       429 tests;
then runs `node --test tests/e2e/` with those URLs in the environment, stops
everything and exits with node's status.

    /usr/bin/python3 tests/e2e/run_e2e.py            # run the tests
    /usr/bin/python3 tests/e2e/run_e2e.py --serve    # only start the stacks, print
                                                     # the URLs, wait for Ctrl-C
    extra arguments after `--` go to `node --test` (e.g. -- --test-name-pattern=upload)

Env: CLEANPNG_BIN (default build/src/cleanpngd), CLEANPNG_LIBRARY_DIR
(default var/library), CHROMIUM (default /usr/bin/chromium).
"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from stack import Fake, Stack  # noqa: E402

NODE = os.environ.get("NODE", "/usr/bin/node")


def npm_ci():
    if os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        return
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True, env=env)


def preflight():
    """A clear message instead of a stack trace when a tool is missing."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        return "%s not found: apt-get install chromium (scripts/deps-e2e.txt)" % chromium
    try:
        out = subprocess.run([NODE, "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "node not found at %s" % NODE
    try:
        major = int(out.lstrip("v").split(".")[0])
    except ValueError:
        major = 0
    if major < 20:
        return "node %s at %s: the browser tests need Node.js >= 20" % (out or "?", NODE)
    return None


def main(argv):
    serve = "--serve" in argv
    problem = preflight()
    if problem:
        print("run_e2e: " + problem, file=sys.stderr)
        return 2
    node_args = argv[argv.index("--") + 1:] if "--" in argv else []
    if not serve:
        npm_ci()
    os.makedirs(os.path.join(HERE, "artifacts"), exist_ok=True)

    started = []
    fake = None
    status = 1
    try:
        # generous limits here: the 429s are tested on the limited stack
        main_stack = Stack(workers=2, threads=4, env={
            "CLEANPNG_LIMIT_SEARCH": "600/1m",
            "CLEANPNG_LIMIT_REMOVE": "200/1m",
            "CLEANPNG_LIMIT_PRIVACY": "200/1m",
        }).start()
        started.append(main_stack)

        fake = Fake("fake_unsplash.py", "--access-key", "test-access-key")
        unsplash_stack = Stack(workers=1, threads=4, env={
            "CLEANPNG_UNSPLASH_ACCESS_KEY": "test-access-key",
            "CLEANPNG_UNSPLASH_API_URL": fake.url,
            "CLEANPNG_IMG_SRC": fake.url,
        }).start()
        started.append(unsplash_stack)

        limited_stack = Stack(workers=1, threads=4, env={
            "CLEANPNG_LIMIT_SEARCH": "2/1m",
            "CLEANPNG_LIMIT_REMOVE": "1/1m",
        }).start()
        started.append(limited_stack)

        env = dict(os.environ)
        env.update({
            "BASE_URL": "http://127.0.0.1:%d" % main_stack.http_port,
            "UNSPLASH_BASE_URL": "http://127.0.0.1:%d" % unsplash_stack.http_port,
            "FAKE_UNSPLASH_URL": fake.url,
            "LIMITED_BASE_URL": "http://127.0.0.1:%d" % limited_stack.http_port,
            "E2E_ARTIFACTS": os.path.join(HERE, "artifacts"),
            "CHROMIUM": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        })
        for k in ("BASE_URL", "UNSPLASH_BASE_URL", "LIMITED_BASE_URL", "FAKE_UNSPLASH_URL"):
            print("%s=%s" % (k, env[k]), flush=True)

        if serve:
            print("stacks up; Ctrl-C to stop", flush=True)
            try:
                signal.sigwait({signal.SIGINT, signal.SIGTERM}) if hasattr(signal, "sigwait") \
                    else time.sleep(1e9)
            except KeyboardInterrupt:
                pass
            status = 0
        else:
            # one file at a time: each file starts its own chromium, and two
            # cores are not enough for several at once plus the stacks
            cmd = [NODE, "--test", "--test-concurrency=1", *node_args, HERE]
            status = subprocess.run(cmd, cwd=ROOT, env=env).returncode
    finally:
        for s in reversed(started):
            s.stop()
            reports = s.sanitizer_reports()
            if reports:
                print("sanitizer reports:\n" + "\n".join(reports), file=sys.stderr)
                status = status or 1
            s.cleanup()
        if fake:
            fake.stop()
    return status


if __name__ == "__main__":
    if "--serve" in sys.argv:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main(sys.argv[1:]))

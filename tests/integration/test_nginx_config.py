"""The production nginx site renders from the same includes as the local
config, passes `nginx -t`, and keeps the promises: TLS after Mozilla's
intermediate profile, security headers always, bodies never on disk."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from stack import ROOT  # noqa: E402


class NginxConfigTest(unittest.TestCase):
    def render(self, *args, env=None):
        subprocess.run([os.path.join(ROOT, "scripts", "render-config"), *args], check=True,
                       env=dict(os.environ, **(env or {})))

    def test_production_site(self):
        d = tempfile.mkdtemp(prefix="cleanpng-nginx-")
        try:
            certs = os.path.join(d, "live")
            subprocess.run([os.path.join(ROOT, "scripts", "gen-cert"), certs], check=True,
                           stdout=subprocess.DEVNULL)
            os.rename(os.path.join(certs, "cert.pem"), os.path.join(certs, "fullchain.pem"))
            os.rename(os.path.join(certs, "key.pem"), os.path.join(certs, "privkey.pem"))
            out = os.path.join(d, "cleanpng")
            self.render("--production", out, env={"CLEANPNG_SERVER_NAME": "png.example.org",
                                                  "CLEANPNG_CERT_DIR": certs,
                                                  "CLEANPNG_TRUSTED_PROXIES": "10.0.0.0/8"})
            site = open(os.path.join(out, "cleanpng.conf")).read()
            server = open(os.path.join(out, "cleanpng-server.conf")).read()
            http = open(os.path.join(out, "cleanpng-http.conf")).read()
            for text in (site, server, http, open(os.path.join(out, "cleanpng-fastcgi.conf")).read()):
                self.assertNotRegex(text, r"@[A-Z_]+@")
            self.assertIn("listen 443 ssl", site)
            self.assertIn("listen 80;", site)
            self.assertIn("return 301 https://", site)
            self.assertIn("server_name png.example.org;", site)
            self.assertIn("Strict-Transport-Security", server)
            self.assertIn("set_real_ip_from 10.0.0.0/8;", server)
            fcgi = open(os.path.join(out, "cleanpng-fastcgi.conf")).read()
            self.assertIn("fastcgi_max_temp_file_size 0;", fcgi)
            self.assertIn("include " + out + "/cleanpng-fastcgi.conf;", server)
            self.assertIn("allow 127.0.0.1;", server)
            self.assertIn("deny all;", server)
            self.assertIn("client_body_buffer_size 22m;", http)
            self.assertIn("client_max_body_size 22m;", http)
            headers = [ln.strip() for ln in server.splitlines()
                       if ln.strip().startswith("add_header")]
            self.assertEqual(len(headers), 8)
            for ln in headers:
                self.assertTrue(ln.endswith(" always;"), ln)
            tls = open(os.path.join(out, "tls-intermediate.conf")).read()
            self.assertIn("ssl_protocols TLSv1.2 TLSv1.3;", tls)
            main = os.path.join(d, "nginx.conf")
            with open(main, "w") as f:
                f.write(f"pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\n"
                        f"http {{\n include /etc/nginx/mime.types;\n include {out}/cleanpng.conf;\n}}\n")
            r = subprocess.run(["nginx", "-t", "-c", main, "-p", d], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("test is successful", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_local_config_has_no_placeholders_and_no_trusted_proxy_by_default(self):
        d = tempfile.mkdtemp(prefix="cleanpng-nginx-")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANPNG_")}
            subprocess.run([os.path.join(ROOT, "scripts", "render-config"), d], check=True, env=env)
            for name in ("nginx.conf", "cleanpng-http.conf", "cleanpng-server.conf"):
                text = open(os.path.join(d, "nginx", name)).read()
                self.assertNotRegex(text, r"@[A-Z_]+@", name)
                self.assertNotIn("set_real_ip_from", text)
            self.assertIn("listen 127.0.0.1:8080;",
                          open(os.path.join(d, "nginx", "nginx.conf")).read())
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/python3
"""A minimal read-only OCI registry on 127.0.0.1 serving an OCI layout, guarded by the
Bearer token flow (WWW-Authenticate challenge -> token endpoint with basic auth), so that
tests exercise the token dance that Docker Hub and most registries use.

  token-registry.py LAYOUT REPO USER PASS PORTFILE

With FLAKY=1 in the environment, the first GET of every blob sends half of it and drops
the connection; later GETs honour "Range: bytes=N-" (206), as registries do.
With SLOW=1, blobs are sent at about 1.5 MB/s (to watch progress, or to kill a pull
in the middle of a download).
"""
import base64, http.server, json, os, secrets, sys, time, urllib.parse

layout, repo, user, password, portfile = sys.argv[1:6]
TOKEN = secrets.token_hex(16)
index = json.load(open(f"{layout}/index.json"))
tags = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
FLAKY = os.environ.get("FLAKY") == "1"
SLOW = os.environ.get("SLOW") == "1"
cut = set()


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        if not SLOW or len(body) < 65536:
            return self.wfile.write(body)
        for i in range(0, len(body), 32768):
            self.wfile.write(body[i:i + 32768])
            self.wfile.flush()
            time.sleep(0.02)

    def challenge(self):
        host = self.headers.get("Host")
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                  extra={"WWW-Authenticate":
                         f'Bearer realm="http://{host}/token",service="husk-test",scope="repository:{repo}:pull"'})

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/token":
            q = urllib.parse.parse_qs(u.query)
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if auth != want or q.get("scope") != [f"repository:{repo}:pull"] or q.get("service") != ["husk-test"]:
                return self.send(401, b'{"details":"bad credentials"}')
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.challenge()
        if u.path == "/v2/":
            return self.send(200, b"{}")
        pre = f"/v2/{repo}/"
        if not u.path.startswith(pre):
            return self.send(404, b'{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}')
        kind, _, ref = u.path[len(pre):].partition("/")
        if kind == "manifests":
            m = tags.get(ref)
            digest = m["digest"] if m else ref
            mt = m["mediaType"] if m else "application/vnd.oci.image.manifest.v1+json"
        elif kind == "blobs":
            digest, mt = ref, "application/octet-stream"
        else:
            return self.send(404)
        p = f"{layout}/blobs/sha256/{digest[7:]}" if digest.startswith("sha256:") else None
        if not p or not os.path.exists(p):
            return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
        data = open(p, "rb").read()
        if kind == "blobs" and FLAKY and digest not in cut and len(data) > 1024:
            cut.add(digest)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        rng = self.headers.get("Range", "")
        if kind == "blobs" and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            return self.send(206, data[start:], mt,
                             {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}",
                              "Docker-Content-Digest": digest})
        self.send(200, data, mt, {"Docker-Content-Digest": digest})


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()

#!/usr/bin/python3
# watch-slowread.py URL TOKEN PATH GO OUT: an HTTP/1.0 watch over TLS (no chunking: the body is
# the event lines) with a 4 KiB receive buffer, so that the server's socket fills up. It reads
# nothing until the file GO exists, then reads to the end of the stream; the status line goes to
# OUT.head and the body to OUT. OUT.ready appears once the request is sent.
import os, socket, ssl, sys, time

url, tok, path, go, out = sys.argv[1:6]
hostport = url.split("//", 1)[1].rstrip("/")
host, port = hostport.rsplit(":", 1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((host, int(port)))
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t = ctx.wrap_socket(s, server_hostname=host)
t.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n"
           % (path, hostport, tok)).encode())
open(out + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.1)
data = b""
while True:
    b = t.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
open(out + ".head", "wb").write(head.split(b"\r\n")[0] + b"\n")
open(out, "wb").write(body)

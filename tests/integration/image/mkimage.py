#!/usr/bin/python3
"""Writes test images into an OCI image layout, byte for byte as told (so that tests can
make broken ones: truncated gzip, escaping tar entries, other platforms).

  mkimage.py LAYOUT TAG [--platform os/arch] [--compress gzip|zstd|none] LAYER.tar...
      one image; each layer tar is compressed as asked (a .gz/.zst file is taken as is)
      --bad-diff-id N: the config's rootfs.diff_ids[N] is sha256("not this layer")
  mkimage.py LAYOUT TAG --index TAG1 TAG2...
      an image index over images already in LAYOUT (their configs give the platforms)
  mkimage.py --tar OUT.tar SPEC
      a layer tar from a spec: lines "f path content", "d path", "l path target",
      "h path target", "x path name value" (a file with xattr name=value)
      (all mode 0644/0755, root-owned)
"""
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def put_blob(layout, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{layout}/blobs/sha256", exist_ok=True)
    with open(f"{layout}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def read_index(layout):
    if not os.path.exists(f"{layout}/index.json"):
        os.makedirs(layout, exist_ok=True)
        with open(f"{layout}/oci-layout", "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        return {"schemaVersion": 2, "manifests": []}
    with open(f"{layout}/index.json") as f:
        return json.load(f)


def write_index(layout, idx, desc, tag):
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    idx["manifests"] = [m for m in idx["manifests"]
                        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    idx["manifests"].append(desc)
    with open(f"{layout}/index.json", "w") as f:
        json.dump(idx, f)


def find(layout, idx, tag):
    for m in idx["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    sys.exit(f"no tag {tag}")


def make_tar(out, spec):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for line in open(spec):
            parts = line.rstrip("\n").split(" ", 2)
            if not parts or not parts[0]:
                continue
            kind, path = parts[0], parts[1]
            arg = parts[2] if len(parts) > 2 else ""
            i = tarfile.TarInfo(path)
            data = b""
            if kind == "f":
                data = (arg + "\n").encode()
                i.mode = 0o644
            elif kind == "d":
                i.type, i.mode = tarfile.DIRTYPE, 0o755
            elif kind == "l":
                i.type, i.linkname = tarfile.SYMTYPE, arg
            elif kind == "h":
                i.type, i.linkname = tarfile.LNKTYPE, arg
            elif kind == "x":
                name, value = arg.split(" ", 1)
                data, i.mode = b"xattr\n", 0o644
                i.pax_headers = {"SCHILY.xattr." + name: value}
            i.size = len(data)
            t.addfile(i, io.BytesIO(data))


def main():
    a = sys.argv[1:]
    if a[0] == "--tar":
        make_tar(a[1], a[2])
        return
    layout, tag, rest = a[0], a[1], a[2:]
    idx = read_index(layout)
    if rest and rest[0] == "--index":
        entries = []
        for t in rest[1:]:
            m = find(layout, idx, t)
            man = json.load(open(f"{layout}/blobs/sha256/{m['digest'][7:]}"))
            cfg = json.load(open(f"{layout}/blobs/sha256/{man['config']['digest'][7:]}"))
            p = {"os": cfg["os"], "architecture": cfg["architecture"]}
            if cfg.get("variant"):
                p["variant"] = cfg["variant"]
            entries.append({"mediaType": OCI_MANIFEST, "digest": m["digest"], "size": m["size"],
                            "platform": p})
        data = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
        d = put_blob(layout, data)
        write_index(layout, idx, {"mediaType": OCI_INDEX, **d}, tag)
        return
    plat, comp, bad = "linux/amd64", "gzip", None
    layers, diff_ids = [], []
    while rest:
        x = rest.pop(0)
        if x == "--bad-diff-id":
            bad = int(rest.pop(0))
            continue
        if x == "--platform":
            plat = rest.pop(0)
            continue
        if x == "--compress":
            comp = rest.pop(0)
            continue
        raw = open(x, "rb").read()
        if x.endswith(".gz"):
            data, mt = raw, "application/vnd.oci.image.layer.v1.tar+gzip"
            try:
                diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(raw)).hexdigest())
            except Exception:
                diff_ids.append("sha256:" + hashlib.sha256(b"broken").hexdigest())
        else:
            diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
            if comp == "gzip":
                data, mt = gzip.compress(raw, 6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
            elif comp == "zstd":
                data = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
                mt = "application/vnd.oci.image.layer.v1.tar+zstd"
            else:
                data, mt = raw, "application/vnd.oci.image.layer.v1.tar"
        layers.append({"mediaType": mt, **put_blob(layout, data)})
    if bad is not None:
        diff_ids[bad] = "sha256:" + hashlib.sha256(b"not this layer").hexdigest()
    os_, arch = plat.split("/")[:2]
    cfg = {"architecture": arch, "os": os_, "config": {"Cmd": ["/bin/sh"]},
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if len(plat.split("/")) > 2:
        cfg["variant"] = plat.split("/")[2]
    c = put_blob(layout, json.dumps(cfg).encode())
    man = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **c}, "layers": layers}
    d = put_blob(layout, json.dumps(man).encode())
    write_index(layout, idx, {"mediaType": OCI_MANIFEST, **d}, tag)


main()

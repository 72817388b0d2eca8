#!/usr/bin/env python3
"""An OCI image layout written without a container engine (used by ci/images.sh).

  oci.py layer LAYOUT SRC_DIR EPOCH gzip|none -> prints the layer's descriptor (JSON)
  oci.py image LAYOUT SPEC_JSON              -> writes config + manifest, prints the manifest's descriptor
  oci.py index LAYOUT NAME=DESCRIPTOR_FILE.. -> index.json naming each image
  oci.py archive LAYOUT SKIP_FILE NAME..     -> a tar of those images on stdout, for `ctr images import -`
                                                 (leaving out the blobs listed in SKIP_FILE)
  oci.py list LAYOUT                         -> name and manifest digest of each image
  oci.py referenced LAYOUT                   -> every blob an image uses

Layers are reproducible: entries sorted, owners numeric, mtimes clamped to EPOCH, gzip without a
name or time.
"""
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile
import tempfile
import time

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
NAME_ANNOTATION = "io.containerd.image.name"
REF_ANNOTATION = "org.opencontainers.image.ref.name"


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return digest, len(data)


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


class Hashing:
    """A write-only file that hashes and counts what passes through it."""

    def __init__(self, out):
        self.out, self.sha, self.size = out, hashlib.sha256(), 0

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        return self.out.write(b) if self.out else len(b)

    def tell(self):
        return self.size

    def flush(self):
        pass


def walk(root):
    """Every path under root, parents before children, siblings sorted by name."""
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        yield path
        if os.path.isdir(path) and not os.path.islink(path):
            yield from walk(path)


def write_tree(out, src, epoch):
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in walk(src):
            st = os.lstat(path)
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue  # device nodes, fifos, sockets: the runtime provides /dev
            info = tar.gettarinfo(path, os.path.relpath(path, src))
            info.mtime = min(int(st.st_mtime), epoch)
            info.uname = info.gname = ""
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)


def layer(layout, src, epoch, compression):
    """compression gzip, or none for layers of jars, which are deflated already (gzip saves
    ~0.3 % there and costs a minute per Flink layer)."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.join(layout, "blobs", "sha256"), suffix=".tmp")
    with os.fdopen(fd, "wb") as raw:
        packed = Hashing(raw)
        if compression == "gzip":
            with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=6, mtime=0, filename="") as gz:
                plain = Hashing(gz)
                write_tree(plain, src, epoch)
        else:
            plain = packed
            write_tree(plain, src, epoch)
    digest = "sha256:" + packed.sha.hexdigest()
    os.replace(tmp, blob_path(layout, digest))
    desc = {"mediaType": LAYER_GZIP if compression == "gzip" else LAYER_TAR, "digest": digest,
            "size": packed.size, "diff_id": "sha256:" + plain.sha.hexdigest()}
    print(json.dumps(desc))


def image(layout, spec):
    """spec: {"layers": [layer descriptors], "config": {Env, Entrypoint, ...}, "created": epoch}"""
    layers = spec["layers"]
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(spec["created"]))
    config = {
        "architecture": "amd64", "os": "linux", "created": created,
        "config": spec["config"],
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": created, "created_by": "ci/images.sh"} for _ in layers],
    }
    cdigest, csize = put_blob(layout, canonical(config))
    manifest = {
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": cdigest, "size": csize},
        "layers": [{"mediaType": l["mediaType"], "digest": l["digest"], "size": l["size"]} for l in layers],
    }
    mdigest, msize = put_blob(layout, canonical(manifest))
    print(json.dumps({"mediaType": MANIFEST, "digest": mdigest, "size": msize,
                      "platform": {"architecture": "amd64", "os": "linux"}}))


def named(desc, name):
    d = dict(desc)
    d["annotations"] = {NAME_ANNOTATION: name, REF_ANNOTATION: name.rsplit(":", 1)[1]}
    return d


def index(layout, pairs):
    manifests = []
    for pair in pairs:
        name, path = pair.split("=", 1)
        with open(path) as f:
            manifests.append(named(json.load(f), name))
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(layout, "index.json.tmp"), "wb") as f:
        f.write(canonical({"schemaVersion": 2, "manifests": manifests}))
    os.replace(os.path.join(layout, "index.json.tmp"), os.path.join(layout, "index.json"))


def read_index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)["manifests"]


def blobs_of(layout, manifest_digest):
    with open(blob_path(layout, manifest_digest)) as f:
        m = json.load(f)
    return [manifest_digest, m["config"]["digest"]] + [l["digest"] for l in m["layers"]]


def archive(layout, skip_file, names):
    skip = set()
    if skip_file != "-":
        with open(skip_file) as f:
            skip = {line.strip() for line in f if line.strip()}
    wanted = [m for m in read_index(layout) if m["annotations"][NAME_ANNOTATION] in names]
    missing = set(names) - {m["annotations"][NAME_ANNOTATION] for m in wanted}
    if missing:
        sys.exit("oci.py: not in the layout: " + " ".join(sorted(missing)))
    digests = []
    for m in wanted:
        for d in blobs_of(layout, m["digest"]):
            if d not in digests and d not in skip:
                digests.append(d)
    with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for arcname, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                              ("index.json", canonical({"schemaVersion": 2, "manifests": wanted}))):
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for d in digests:
            tar.add(blob_path(layout, d), "blobs/sha256/" + d.split(":", 1)[1])


def referenced(layout):
    """Prints every blob the index reaches (for ci/images.sh to delete the others)."""
    seen = set()
    for m in read_index(layout):
        seen.update(blobs_of(layout, m["digest"]))
    for d in sorted(seen):
        print(d)


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "layer":
        layer(args[0], args[1], int(args[2]), args[3])
    elif cmd == "image":
        image(args[0], json.loads(args[1]))
    elif cmd == "index":
        index(args[0], args[1:])
    elif cmd == "archive":
        archive(args[0], args[1], set(args[2:]))
    elif cmd == "referenced":
        referenced(args[0])
    elif cmd == "list":
        for m in read_index(args[0]):
            print(m["annotations"][NAME_ANNOTATION], m["digest"])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)

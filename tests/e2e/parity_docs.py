#!/usr/bin/env python3
"""Reference extraction for the document parity tests (tests/e2e/t_parity_docs.sh).

    parity_docs.py extract TREE FILE     extract FILE and, recursively, every container inside it
                                         into TREE; print "path<TAB>member!member..." for every
                                         file written (FILE itself included, as its base name)
    parity_docs.py join MANIFEST         read `yara -r` output on stdin, print
                                         "member!member...<TAB>rule", sorted and unique
    parity_docs.py members MANIFEST      read antibody's `scan --json --list --hash` output on
                                         stdin, print the members that differ (by chain of names
                                         and SHA-256) from what the tools extracted

Each format is extracted by its own tool, never by antibody:
  zip, 7z            7zz x                       (Debian 7zip)
  tar, tar.gz        tar -x                      (GNU tar)
  CHM                extract_chmLib              (libchm-bin, CHMLib)
  SZDD               msexpand                    (mscompress)
  PDF                qpdf --json=2 --json-stream-data=file --decode-level=specialized (qpdf)
                     for the streams, decoded;
                     pdfdetach -saveall (poppler-utils) for the embedded files
  OLE2 streams       olecfexport                 (libolecf-utils, libolecf)
  VBA module source  gsf-vba-dump (libgsf-bin) where it finds the project (it only looks under
                     Macros/ and _VBA_PROJECT_CUR/, so not in a bare vbaProject.bin); everywhere,
                     the MS-OVBA reader below on the streams olecfexport wrote, and the two are
                     checked against each other where both ran
  RTF objects        the RTF reader below
Debian 12 has no oletools (olevba, rtfobj) nor any other tool that decompresses a bare VBA project
or extracts RTF \\objdata; the two readers below are therefore NOT third-party tools: they are
written here, in the Python standard library, from the specifications (MS-OVBA 2.4.1 and 2.3.4.2,
RTF 1.9.1 \\objdata, MS-OLEDS 2.2 EmbeddedObject, the OLE Packager layout), separately from
src/unpack/olefmt.c and src/unpack/rtf.c, and simpler than them (no recovery beyond what the
fixtures need). KWAJ has no Debian tool at all (mscompress' msexpand reads SZDD only; libmspack
ships no programs and is the library antibody itself uses): KWAJ files are not extracted.

Member names follow the formats' conventions, which are antibody's names by design:
  zip/7z/tar: the path in the archive; CHM: "/" + the path (CHM paths are absolute);
  SZDD: the container's name with its last "_" replaced by the header's missing character (what
  Microsoft's expand does; msexpand leaves the character off: "setup.ex");
  PDF: "N G" for a stream, the file specification's name for an embedded file (as pdfdetach
  names it), "javascript N" for the N-th /JS of a /S /JavaScript action in object order (objects
  by number, keys of a dictionary in sorted order, as qpdf gives them; direct objects only);
  OLE2: the stream's path of storages, "VBA/dir"; VBA: the module name;
  RTF: an OLE Package's label, else "objdata N (Class)".
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys

MAX_DEPTH = 8


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def kind(path):
    with open(path, "rb") as f:
        h = f.read(600)
    if h.startswith(b"PK\x03\x04"):
        return "zip"
    if h.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if h.startswith(b"\x1f\x8b"):
        return "tar"  # only tar.gz in these fixtures: tar -x reads it
    if len(h) > 262 and h[257:262] == b"ustar":
        return "tar"
    if h.startswith(b"ITSF"):
        return "chm"
    if h.startswith(b"SZDD\x88\xf0\x27\x33"):
        return "szdd"
    if h.startswith(b"KWAJ\x88\xf0\x27\xd1"):
        return "kwaj"
    if b"%PDF-" in h[:1024]:
        return "pdf"
    if h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if h.startswith(b"{\\rt"):
        return "rtf"
    return None


def files_under(d):
    for root, _, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and not os.path.islink(p):
                yield os.path.relpath(p, d), p


# ---- archives, CHM, SZDD ----------------------------------------------------------------------

def x_archive(path, out, scratch):
    if kind(path) == "tar":
        run(["tar", "-xf", path, "-C", out])
    else:
        run(["7zz", "x", "-bd", "-y", "-o" + out, path])
    return list(files_under(out))


def x_chm(path, out, scratch):
    run(["extract_chmLib", path, out])
    return [("/" + rel, p) for rel, p in files_under(out)]


def x_szdd(path, out, scratch, container):
    with open(path, "rb") as f:
        head = f.read(10)
    name = container
    if head[8:9] == b"A" and head[9] not in (0, ord("/")) and name.endswith("_"):
        name = name[:-1] + chr(head[9])
    dest = os.path.join(out, "member")
    with open(path, "rb") as src, open(dest, "wb") as dst:
        subprocess.run(["msexpand"], stdin=src, stdout=dst, stderr=subprocess.DEVNULL, check=True)
    return [(name, dest)]


# ---- PDF --------------------------------------------------------------------------------------

def pdf_string(v):
    if v.startswith("u:"):
        return v[2:].encode("utf-8")
    if v.startswith("b:"):
        return bytes.fromhex(v[2:])
    return None


def x_pdf(path, out, scratch):
    js = os.path.join(scratch, "pdf.json")
    # decode-level specialized: also RunLength (generalized, the default, leaves it encoded);
    # not "all", which would decode DCT images, which antibody yields raw
    p = subprocess.run(["qpdf", "--json=2", "--json-stream-data=file", "--decode-level=specialized",
                        "--json-stream-prefix=" + os.path.join(scratch, "s"), path, js],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if p.returncode not in (0, 3) or not os.path.exists(js):  # 3: warnings (a repaired file)
        return []
    with open(js) as f:
        objs = json.load(f)["qpdf"][1]
    ids = sorted((tuple(int(x) for x in k[4:].split()[:2]), k) for k in objs if k.startswith("obj:"))
    streams, names, members = {}, {}, []
    js_count = 0

    def ref(v):
        m = re.fullmatch(r"(\d+) (\d+) R", v) if isinstance(v, str) else None
        return (int(m.group(1)), int(m.group(2))) if m else None

    def walk(v, depth=0):
        nonlocal js_count
        if depth > 32:
            return
        if isinstance(v, dict):
            if v.get("/S") == "/JavaScript" and "/JS" in v:
                js_count += 1
                name = "javascript %d" % js_count
                r = ref(v["/JS"])
                if r:
                    names.setdefault(r, name)
                else:
                    s = pdf_string(v["/JS"]) if isinstance(v["/JS"], str) else None
                    if s:
                        members.append((name, s))
            if isinstance(v.get("/EF"), dict):
                for k in ("/UF", "/F", "/DOS", "/Mac", "/Unix"):
                    r = ref(v["/EF"].get(k))
                    if r:
                        names.setdefault(r, None)  # pdfdetach names and writes it
            for k in sorted(v):
                walk(v[k], depth + 1)
        elif isinstance(v, list):
            for x in v:
                walk(x, depth + 1)

    for oid, key in ids:
        o = objs[key]
        if "stream" in o:
            streams[oid] = o["stream"]
        else:
            walk(o.get("value"))
    for oid, s in sorted(streams.items()):
        if s["dict"].get("/Type") == "/XRef" or oid in names and names[oid] is None:
            continue
        with open(s["datafile"], "rb") as f:
            data = f.read()
        if data:
            members.append((names.get(oid) or "%d %d" % oid, data))
    got = []
    for i, (name, data) in enumerate(members):
        dest = os.path.join(out, "m%d" % i)
        with open(dest, "wb") as f:
            f.write(data)
        got.append((name, dest))
    det = os.path.join(scratch, "detach")
    os.makedirs(det)
    run(["pdfdetach", "-saveall", "-o", det, path])
    for rel, p in files_under(det):
        dest = os.path.join(out, "e-" + rel.replace("/", "_"))
        shutil.move(p, dest)
        got.append((rel, dest))
    return got


# ---- OLE2 and VBA -----------------------------------------------------------------------------

def ovba_decompress(data):
    """MS-OVBA 2.4.1.3.1 DecompressingAContainer: signature 1, then chunks."""
    if not data or data[0] != 1:
        return None
    out = bytearray()
    pos = 1
    while pos + 2 <= len(data):
        header = struct.unpack_from("<H", data, pos)[0]
        size = (header & 0x0FFF) + 3
        end = min(pos + size, len(data))
        pos += 2
        start = len(out)
        if not header & 0x8000:  # raw chunk
            out += data[pos:pos + 4096]
            pos += 4096
            continue
        while pos < end:
            flags = data[pos]
            pos += 1
            for bit in range(8):
                if pos >= end:
                    break
                if not flags & (1 << bit):
                    out.append(data[pos])
                    pos += 1
                    continue
                token = struct.unpack_from("<H", data, pos)[0]
                pos += 2
                diff = len(out) - start
                bits = max(4, (diff - 1).bit_length())
                length = (token & (0xFFFF >> bits)) + 3
                offset = (token >> (16 - bits)) + 1
                for _ in range(length):
                    out.append(out[-offset])
        pos = end
    return bytes(out)


def vba_modules(dir_data):
    """(name, stream name, offset) of each module in a decompressed dir stream (MS-OVBA 2.3.4.2),
    read record by record; PROJECTVERSION (0x09) is the one record whose Size lies."""
    mods, pos, cur = [], 0, {}
    while pos + 6 <= len(dir_data):
        rid, size = struct.unpack_from("<HI", dir_data, pos)
        if rid == 0x09:
            size = 6
        body = dir_data[pos + 6:pos + 6 + size]
        pos += 6 + size
        if rid == 0x19:
            cur = {"name": body.decode("latin-1")}
        elif rid == 0x1A:
            cur["stream"] = body.decode("latin-1")
        elif rid == 0x31 and len(body) == 4:
            cur["offset"] = struct.unpack("<I", body)[0]
        elif rid == 0x2B and "stream" in cur:
            mods.append(cur)
            cur = {}
    return mods


def x_ole(path, out, scratch):
    exp = os.path.join(scratch, "olecf")
    run(["olecfexport", "-t", exp, path])
    root = exp + ".export"
    streams = {}
    for d, subdirs, names in os.walk(root):
        # olecfexport writes one folder per item, its data in StreamData.bin; a storage has
        # sub-folders (and an empty StreamData.bin of its own). An empty stream is a member, as
        # antibody yields it (an empty storage would pass for one: none in the fixtures).
        if subdirs or "StreamData.bin" not in names:
            continue
        rel = os.path.relpath(d, root)
        # olecfexport writes control characters of names as \xNN: back to the name
        rel = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), rel)
        dest = os.path.join(out, "s%d" % len(streams))  # the tree yara scans
        shutil.move(os.path.join(d, "StreamData.bin"), dest)
        streams[rel] = dest
    got = sorted(streams.items())
    # VBA projects: every storage that holds a "dir" stream and the modules it lists
    vba = {}
    for rel in sorted(streams):
        if rel == "dir" or rel.endswith("/dir"):
            base = rel[:-3]
            with open(streams[rel], "rb") as f:
                d = ovba_decompress(f.read())
            for m in vba_modules(d or b""):
                sp = streams.get(base + m["stream"])
                if not sp:
                    continue
                with open(sp, "rb") as f:
                    src = ovba_decompress(f.read()[m.get("offset", 0):])
                if src:
                    vba[m["name"]] = src
    dump = subprocess.run(["gsf-vba-dump", path], capture_output=True).stdout
    theirs = {m.group(1).decode(): m.group(2) for m in
              re.finditer(rb'<module name="([^"]*)">\n<!\[CDATA\[(.*?)\]\]>\n</module>', dump, re.S)}
    # gsf-vba-dump prints each source as a C string from a buffer with no terminating NUL: a few
    # bytes of whatever follows in memory come after "End Sub\r\n". So its text must start with
    # the module's source, and only the MS-OVBA reader's output is scanned.
    for name, text in theirs.items():
        if name not in vba or not text.startswith(vba[name]) or len(text) - len(vba[name]) > 64:
            sys.exit("%s: gsf-vba-dump and the MS-OVBA reader disagree on %s" % (path, name))
    if theirs and sorted(theirs) != sorted(vba):
        sys.exit("%s: gsf-vba-dump finds modules %s, the MS-OVBA reader %s"
                 % (path, sorted(theirs), sorted(vba)))
    for i, (name, src) in enumerate(sorted(vba.items())):
        dest = os.path.join(out, "vba%d" % i)
        with open(dest, "wb") as f:
            f.write(src)
        got.append((name, dest))
    return got


# ---- RTF --------------------------------------------------------------------------------------

HEX = b"0123456789abcdefABCDEF"


def rtf_objdata(text):
    """The bytes of every \\objdata destination: hex digits at any depth inside it (whitespace,
    other text and control words skipped, a control word's numeric parameter too), \\bin N runs
    taken as they are, \\'hh dropping a pending odd digit; a file ending inside it ends it."""
    out = []
    for m in re.finditer(rb"\\objdata(?![a-zA-Z])", text):
        i, depth, buf, nib = m.end(), 1, bytearray(), None
        while i < len(text) and depth > 0:
            c = text[i:i + 1]
            if c == b"{":
                depth += 1
                i += 1
            elif c == b"}":
                depth -= 1
                i += 1
            elif c == b"\\":
                w = re.match(rb"\\([a-zA-Z]{1,250})(-?\d{1,250})? ?", text[i:i + 520])
                if w and w.group(1) == b"bin" and w.group(2):
                    n = int(w.group(2))
                    i += w.end()
                    buf += text[i:i + n]
                    i += n
                elif w:
                    i += w.end()
                elif text[i + 1:i + 2] == b"'":
                    nib = None
                    i += 4
                else:
                    i += 2
            elif c in HEX and c:
                if nib is None:
                    nib = c
                else:
                    buf.append(int(nib + c, 16))
                    nib = None
                i += 1
            else:
                i += 1
        out.append(bytes(buf))
    return out


def lp(data, pos):
    n = struct.unpack_from("<I", data, pos)[0]
    return data[pos + 4:pos + 4 + n].rstrip(b"\0"), pos + 4 + n


def rtf_member(n, raw):
    """MS-OLEDS EmbeddedObject -> (name, bytes); a Package yields its file under its label."""
    try:
        _, fmt = struct.unpack_from("<II", raw, 0)
        cls, pos = lp(raw, 8)
        _, pos = lp(raw, pos)
        _, pos = lp(raw, pos)
        size = struct.unpack_from("<I", raw, pos)[0]
        native = raw[pos + 4:pos + 4 + size]
    except struct.error:
        return "objdata %d" % n, raw
    if fmt != 2:
        return "objdata %d" % n, raw
    if cls == b"Package":
        try:
            p = 2
            e = native.index(b"\0", p)
            label = native[p:e]
            p = native.index(b"\0", e + 1) + 1      # original path
            p += 4                                  # type: 0x00030000, an embedded file
            tlen = struct.unpack_from("<I", native, p)[0]
            p += 4 + tlen                           # temporary path
            dlen = struct.unpack_from("<I", native, p)[0]
            return label.decode("latin-1"), native[p + 4:p + 4 + dlen]
        except (ValueError, struct.error):
            pass
    return "objdata %d (%s)" % (n, cls.decode("latin-1")), native


def x_rtf(path, out, scratch):
    with open(path, "rb") as f:
        text = f.read()
    got = []
    for n, raw in enumerate(rtf_objdata(text), 1):
        if not raw:
            continue
        name, data = rtf_member(n, raw)
        dest = os.path.join(out, "o%d" % n)
        with open(dest, "wb") as f:
            f.write(data)
        got.append((name, dest))
    return got


# ---- recursion --------------------------------------------------------------------------------

EXTRACT = {"zip": x_archive, "7z": x_archive, "tar": x_archive, "chm": x_chm, "pdf": x_pdf,
           "ole": x_ole, "rtf": x_rtf}


def extract(tree, path, chain, manifest, counter):
    manifest.append((path, chain))
    k = kind(path)
    if len(chain) > MAX_DEPTH or k not in EXTRACT and k != "szdd":
        return
    counter[0] += 1
    out = os.path.join(tree, "c%d" % counter[0])
    scratch = os.path.join(tree, "..", os.path.basename(tree) + ".scratch", "c%d" % counter[0])
    os.makedirs(out)
    os.makedirs(scratch)
    if k == "szdd":
        members = x_szdd(path, out, scratch, chain[-1].rsplit("/", 1)[-1])
    else:
        members = EXTRACT[k](path, out, scratch)
    for name, p in sorted(members):
        extract(tree, p, chain + [name], manifest, counter)


def main(argv):
    if argv[1] == "extract":
        tree, path = argv[2], argv[3]
        os.makedirs(tree, exist_ok=True)
        top = os.path.join(tree, "top")
        os.makedirs(top, exist_ok=True)
        copy = os.path.join(top, os.path.basename(path))
        shutil.copyfile(path, copy)
        manifest = []
        extract(tree, copy, [os.path.basename(path)], manifest, [0])
        for p, chain in manifest:
            print("%s\t%s" % (os.path.abspath(p), "!".join(chain)))
    elif argv[1] == "join":
        chains = {}
        with open(argv[2], encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                p, chain = line.rstrip("\n").split("\t", 1)
                chains[p] = chain
        out = set()
        for line in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").splitlines():
            rule, p = line.split(" ", 1)
            out.add("%s\t%s" % (chains[os.path.abspath(p)], rule))
        for line in sorted(out):
            print(line)
    elif argv[1] == "members":
        # antibody's --list --hash JSON on stdin against the manifest: one line per difference
        # "only-tool CHAIN", "only-antibody CHAIN" or "content CHAIN" (different SHA-256)
        import hashlib
        mine = {}
        with open(argv[2], encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                p, chain = line.rstrip("\n").split("\t", 1)
                with open(p, "rb") as g:
                    mine[chain] = hashlib.sha256(g.read()).hexdigest()
        theirs = {}
        for line in sys.stdin:
            e = json.loads(line)
            if e["event"] == "object":
                names = [x["name"] for x in e["location"]]
                names[0] = os.path.basename(names[0])
                theirs["!".join(names)] = e.get("sha256")
        for c in sorted(set(mine) | set(theirs)):
            if c not in theirs:
                print("only-tool\t" + c)
            elif c not in mine:
                print("only-antibody\t" + c)
            elif mine[c] != theirs[c]:
                print("content\t" + c)
    else:
        sys.exit("usage: parity_docs.py extract TREE FILE | join MANIFEST | members MANIFEST")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

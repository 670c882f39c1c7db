#!/usr/bin/python3
"""What GMime 3 itself makes of the mail fixtures (tests/fixtures/gen_mail.py), printed as the
JSON Lines that antibody's --list --hash output would hold for them, for tests/e2e/mail_check.py:

    /usr/bin/python3 tests/e2e/mail_gmime_ref.py OUTDIR | python3 tests/e2e/mail_check.py OUTDIR

It shows that the expectations (Python's email package) are reachable with the library the mail
source (src/unpack/mime.c) uses: every depth-1 part GMime names (g_mime_part_get_filename: RFC
2231 and RFC 2047 decoded), with the SHA-256 of its decoded content; message/rfc822 parts by
their Content-Disposition filename; mbox messages named "#N <message-id>". No signals: checks
(b) and (c) fail by design here; (a) and (d) must pass.

Runs on Debian's python3 with python3-gi and gir1.2-gmime-3.0 (scripts/deps), not in a venv.
"""
import hashlib
import json
import os
import sys

import gi

gi.require_version("GMime", "3.0")
from gi.repository import GMime  # noqa: E402

GMime.init()
ZERO = "0" * 64
def members(msg):
    """(name, sha256 or None) of the named parts of msg's own MIME tree, not descending into
    message/rfc822 parts; iterative and bounded (the fixtures nest 1000 deep)."""
    out = []
    stack = [msg.get_mime_part()]
    n = 0
    while stack and n < 200000:
        n += 1
        p = stack.pop()
        if p is None:
            continue
        if isinstance(p, GMime.Multipart):
            kids = [p.get_part(i) for i in range(p.get_count())]
            stack.extend(reversed(kids))
            continue
        name = p.get_filename() if isinstance(p, GMime.Part) else None
        if isinstance(p, GMime.MessagePart):
            ct = p.get_content_disposition()
            name = ct.get_parameter("filename") if ct else None
            if name:
                out.append((name, None))
            continue
        if name is None:
            continue
        mem = GMime.StreamMem.new()
        dw = p.get_content()
        if dw is not None:
            dw.write_to_stream(mem)
        data = bytes(mem.get_byte_array() or b"")
        out.append((name, hashlib.sha256(data).hexdigest()))
    return out


def obj(names, sources, sha=ZERO, mid=None):
    e = {"event": "object", "location": [{"name": n, "source": s} for n, s in zip(names, sources)],
         "sha256": sha or ZERO}
    if mid is not None:
        e["mail"] = {"message_id": mid}
    return e


def parse(path, mbox=False):
    st = GMime.StreamFs.open(path, os.O_RDONLY, 0)
    parser = GMime.Parser.new_with_stream(st)
    if mbox:
        parser.set_format(GMime.Format.MBOX)
    return parser


def main(root):
    evs = []
    for dp, dn, fn in os.walk(root):
        dn.sort()
        for f in sorted(fn):
            path = os.path.join(dp, f)
            rel = os.path.relpath(path, root)
            if rel == "expect.json":
                continue
            evs.append(obj([path], ["file"]))
            if rel == "mail.mbox":
                parser, k = parse(path, True), 0
                while not parser.eos() and k < 100000:
                    msg = parser.construct_message(None)
                    if msg is None:
                        break
                    k += 1
                    mid = msg.get_message_id()
                    mem = f"#{k} <{mid}>" if mid else f"#{k}"
                    evs.append(obj([path, mem], ["file", "mbox"]))
                    for name, sha in members(msg):
                        evs.append(obj([path, mem, name], ["file", "mbox", "mime"], sha, mid))
                continue
            msg = parse(path).construct_message(None)
            if msg is None:
                continue
            mid = msg.get_message_id()
            for name, sha in members(msg):
                evs.append(obj([path, name], ["file", "mime"], sha, mid))
    for e in evs:
        print(json.dumps(e, ensure_ascii=False))
    print(json.dumps({"event": "summary"}))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1].rstrip("/"))

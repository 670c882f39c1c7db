#!/usr/bin/env python3
"""Check antibody's mail findings and members against the fixtures of gen_mail.py.

    antibody scan --json --list --hash --no-progress --protect-domain our-university.ac.uk OUTDIR >out.jsonl
    mail_check.py OUTDIR [out.jsonl]          (JSON Lines on stdin without the second argument)
    mail_check.py --selftest OUTDIR           check this checker on fake outputs made from
                                              OUTDIR/expect.json (pass and fail cases)

OUTDIR is the directory given to gen_mail.py (and to antibody, as the same string or any path
resolving to it). --list makes an "object" event for every object, members included; --hash puts
"sha256" in them (without it objects carry no hashes and the parity check cannot run).

Checks (each prints its mismatches; the exit status is 1 if any fails, 2 on bad input):

 (a) parity: for every message file (msg/, clean/, signals/, Maildir/) the attachments antibody
     reports at depth 1 under the file (objects whose location has 2 elements, the second of
     source "mime") equal what Python's email package extracts (expect.json "attachments": the
     parts of the message's own MIME tree that get_filename() names, sha256 of
     get_payload(decode=True); message/rfc822 parts by name only).
     The rule for body parts: antibody names an unnamed part "part-<path>.<ext>"; such members
     (name matching ^part-[0-9.]+\\.(txt|html|eml|bin|rtf|ics)$) are left out unless Python names a part
     so too. Every other depth-1 member must be in Python's list, and Python's in antibody's:
     compared as multisets of (name, sha256); parity "names" compares names only, "none" is not
     compared (reported). An alt_sha256 (yEnc decoded) is accepted in place of sha256.
     mail.mbox: its members (source "mbox") are named "#N <message-id>" or "#N", and each
     message's attachments are compared the same way one level down.
 (b) every signals/<rule>.eml has a finding of matcher "mail-signal" and rule <rule> (other
     rules on it are printed, not failed; expect.json "also" lists the ones expected).
 (c) the clean set (clean/) has no mail-signal finding; the count per rule is printed.
 (d) mail info: mail-signal findings of signals/ and depth-1 members of msg/ carry a "mail"
     object whose message_id is the message's Message-ID (angle brackets optional).
"""

import base64
import collections
import copy
import json
import os
import re
import sys

PART_RE = re.compile(r"^part-[0-9]+(\.[0-9]+)*\.(txt|html|eml|bin|rtf|ics)$")
GROUPS = ("msg/", "clean/", "signals/", "Maildir/")


def loc_name(x):
    if "name_b64" in x:
        return base64.b64decode(x["name_b64"]).decode("utf-8", "surrogateescape")
    return x.get("name") or ""


def strip_id(s):
    return (s or "").strip().strip("<>").strip()


class Report:
    def __init__(self):
        self.fails = collections.defaultdict(list)  # check letter -> lines
        self.info = []
        self.counts = collections.Counter()  # (check, "ok"/"fail")

    def fail(self, check, line):
        self.fails[check].append(line)

    def ok(self, check):
        self.counts[(check, "ok")] += 1

    @property
    def failed(self):
        return sum(len(v) for v in self.fails.values())


def read_events(lines):
    evs = []
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            evs.append(json.loads(line))
        except ValueError as e:
            sys.exit(f"mail_check: line {n} is not JSON: {e}")
    return evs


class Index:
    """Events of the fixture tree, by fixture-relative path of the location's first element."""

    def __init__(self, evs, outdir):
        prefixes = {os.path.normpath(outdir), os.path.abspath(outdir), os.path.realpath(outdir)}
        self.prefixes = sorted(prefixes, key=len, reverse=True)
        self.objects = collections.defaultdict(list)   # rel -> [(names, sources, ev)]
        self.findings = collections.defaultdict(list)  # rel -> [ev]
        self.mail_members = 0
        self.hashed = False
        for e in evs:
            kind = e.get("event")
            if kind not in ("object", "finding") or not e.get("location"):
                continue
            names = [loc_name(x) for x in e["location"]]
            rel = self.rel(names[0])
            if rel is None:
                continue
            srcs = [x.get("source") for x in e["location"]]
            if kind == "object":
                self.objects[rel].append((names, srcs, e))
                self.hashed |= "sha256" in e
                self.mail_members += len(srcs) > 1 and srcs[1] in ("mime", "mbox")
            else:
                self.findings[rel].append(e)

    def rel(self, path):
        for p in self.prefixes:
            if path.startswith(p + "/"):
                return path[len(p) + 1:]
        return None


def match_parts(py, ab, mode):
    """py: expected entries; ab: [(name, sha256)]. Returns (missing, extra) lists of strings."""
    left = list(ab)
    missing = []
    for x in py:
        want = [x.get("sha256"), x.get("alt_sha256")]
        hit = None
        for i, (n, s) in enumerate(left):
            if n != x["name"]:
                continue
            if mode == "names" or x.get("sha256") is None or s in want:
                hit = i
                break
        if hit is None:
            have = [s for n, s in left if n == x["name"]]
            missing.append(f"{x['name']!r} sha256 {x.get('sha256')}"
                           + (f" (antibody: {', '.join(str(h) for h in have)})" if have else
                              " (not reported)"))
        else:
            left.pop(hit)
    extra = [f"{n!r} sha256 {s}" for n, s in left]
    return missing, extra


def depth_members(objs, prefix, source):
    """Objects one level below the location prefix (a list of names) with the given source."""
    k = len(prefix)
    return [(names, e) for names, srcs, e in objs
            if len(names) == k + 1 and names[:k] == prefix and srcs[k] == source]


def filtered(members, py):
    pyn = {x["name"] for x in py}
    return [(names[-1], e.get("sha256")) for names, e in members
            if names[-1] in pyn or not PART_RE.match(names[-1])]


def check_parity(rep, idx, files):
    for rel, x in files.items():
        if x["kind"] == "mbox":
            check_mbox(rep, idx, rel, x)
            continue
        if not rel.startswith(GROUPS):
            continue
        objs = idx.objects.get(rel)
        if not objs:
            rep.fail("a", f"{rel}: no object event at all (not scanned, or not under OUTDIR?)")
            continue
        if x["parity"] == "none":
            d1 = depth_members(objs, [objs[0][0][0]], "mime")
            lim = [f["rule"] for f in idx.findings.get(rel, []) if f.get("matcher") == "limit"]
            rep.info.append(f"(a) {rel}: not compared ({x.get('note', '')}); antibody: "
                            f"{len(d1)} depth-1 members, limit findings {lim or 'none'}")
            continue
        top = [n for n, s, e in objs if len(n) == 1]
        top = top[0] if top else [objs[0][0][0]]
        ab = filtered(depth_members(objs, top, "mime"), x["attachments"])
        missing, extra = match_parts(x["attachments"], ab, x["parity"])
        if missing or extra:
            for m in missing:
                rep.fail("a", f"{rel}: Python has {m}")
            for m in extra:
                rep.fail("a", f"{rel}: only antibody has {m}")
        else:
            rep.ok("a")


def check_mbox(rep, idx, rel, x):
    objs = idx.objects.get(rel)
    if not objs:
        rep.fail("a", f"{rel}: no object event at all")
        return
    top = [objs[0][0][0]]
    got = collections.Counter(n[-1] for n, e in depth_members(objs, top, "mbox"))
    want = collections.Counter(m["member"] for m in x["messages"])
    if got != want:
        rep.fail("a", f"{rel}: mbox members {sorted(got)} != expected {sorted(want)}")
        return
    bad = False
    for m in x["messages"]:
        ab = filtered(depth_members(objs, top + [m["member"]], "mime"), m["attachments"])
        missing, extra = match_parts(m["attachments"], ab, x["parity"])
        for s in missing:
            rep.fail("a", f"{rel}!{m['member']}: Python has {s}")
        for s in extra:
            rep.fail("a", f"{rel}!{m['member']}: only antibody has {s}")
        bad |= bool(missing or extra)
    if not bad:
        rep.ok("a")


def signal_findings(idx, rel):
    return [f for f in idx.findings.get(rel, []) if f.get("matcher") == "mail-signal"]


def check_signals(rep, idx, files, rules):
    for rule in rules:
        rel = f"signals/{rule}.eml"
        x = files.get(rel)
        if x is None:
            rep.fail("b", f"{rel}: not in expect.json")
            continue
        fs = signal_findings(idx, rel)
        fired = collections.Counter(f.get("rule") for f in fs)
        if rule in fired:
            rep.ok("b")
        else:
            rep.fail("b", f"{rel}: {rule} did not fire (fired: {sorted(fired) or 'nothing'})")
        others = sorted(set(fired) - {rule} - set(x.get("also", [])))
        if others:
            rep.info.append(f"(b) {rel}: also fired {others} (not in its 'also' list)")
        for f in fs:
            mid, want = strip_id((f.get("mail") or {}).get("message_id")), strip_id(x["message_id"])
            if not f.get("mail"):
                rep.fail("d", f"{rel}: mail-signal {f.get('rule')} has no \"mail\" object")
            elif mid != want:
                rep.fail("d", f"{rel}: mail-signal {f.get('rule')} mail.message_id {mid!r} != {want!r}")
            else:
                rep.ok("d")


def check_clean(rep, idx, files, rules):
    per_rule = collections.Counter()
    where = collections.defaultdict(set)
    n = 0
    for rel, x in files.items():
        if not rel.startswith("clean/"):
            continue
        n += 1
        for f in signal_findings(idx, rel):
            per_rule[f.get("rule")] += 1
            where[f.get("rule")].add(rel)
    lines = [f"  {r:<32} {per_rule.get(r, 0)}" for r in rules]
    lines += [f"  {r:<32} {c}  (rule not in the fixture list)" for r, c in sorted(per_rule.items())
              if r not in rules]
    rep.info.append(f"(c) false positives per rule on the {n} clean messages:\n" + "\n".join(lines))
    for r, c in sorted(per_rule.items()):
        rep.fail("c", f"{r}: {c} false positive(s) in {', '.join(sorted(where[r]))}")
    if not per_rule:
        rep.ok("c")


def check_mail_info(rep, idx, files):
    for rel, x in files.items():
        if not rel.startswith("msg/") or x["parity"] == "none" or not x.get("message_id"):
            continue
        members = [(n, e) for n, s, e in idx.objects.get(rel, []) if len(n) == 2 and s[1] == "mime"]
        for names, e in members:
            if "part" not in (e.get("mail") or {"part": 1}):
                continue  # an embedded message: it is a message of its own, with its own id
            mid = strip_id((e.get("mail") or {}).get("message_id"))
            if mid != strip_id(x["message_id"]):
                rep.fail("d", f"{rel}!{names[1]!r}: mail.message_id {mid!r} != "
                              f"{strip_id(x['message_id'])!r}")
                break
        else:
            if members:  # a file without members is (a)'s failure, not (d)'s
                rep.ok("d")


def run_checks(evs, outdir, expect):
    rep = Report()
    idx = Index(evs, outdir)
    files = expect["files"]
    if not idx.hashed and any(idx.objects.values()):
        rep.fail("a", "object events carry no sha256: run antibody with --hash")
    if not idx.mail_members:
        rep.fail("a", "antibody reported no mail member (source mime/mbox) under OUTDIR: is the "
                      "mail source (src/unpack/mime.c) built in, and was --list given?")
    check_parity(rep, idx, files)
    check_signals(rep, idx, files, expect["signals"])
    check_clean(rep, idx, files, expect["signals"])
    check_mail_info(rep, idx, files)
    return rep


def print_report(rep, out=sys.stdout):
    titles = {"a": "parity of attachments with Python's email package",
              "b": "every signal fixture fires its rule", "c": "no signal on clean mail",
              "d": "mail info (message_id) on findings and members"}
    for line in rep.info:
        print(line, file=out)
    for c, t in titles.items():
        ok, bad = rep.counts[(c, "ok")], len(rep.fails.get(c, []))
        print(f"({c}) {t}: {ok} ok, {bad} mismatch{'es' if bad != 1 else ''}", file=out)
        for line in rep.fails.get(c, [])[:60]:
            print(f"    {line}", file=out)
        if bad > 60:
            print(f"    ... {bad - 60} more", file=out)
    print("mail_check: " + ("OK" if not rep.failed else f"FAILED ({rep.failed} mismatches)"),
          file=out)


# ---- self-test: fake antibody outputs from expect.json ------------------------------------

def fake_events(outdir, expect):
    """What a correct antibody would print (the subset this checker reads)."""
    evs = []

    def obj(names, sources, sha, mid=None):
        e = {"event": "object", "path": os.path.join(outdir, names[0]),
             "location": [{"name": n, "source": s} for n, s in zip(names, sources)],
             "sha256": sha or "0" * 64}
        if mid:
            e["mail"] = {"message_id": strip_id(mid), "subject": "x", "part": "1"}
        return e

    for rel, x in expect["files"].items():
        top = os.path.join(outdir, rel)
        if x["kind"] == "mbox":
            for m in x["messages"]:
                for a in m["attachments"]:
                    evs.append(obj([top, m["member"], a["name"]], ["file", "mbox", "mime"],
                                   a["sha256"], m["message_id"]))
                evs.append(obj([top, m["member"], "part-1.txt"], ["file", "mbox", "mime"],
                               "1" * 64, m["message_id"]))
                evs.append(obj([top, m["member"]], ["file", "mbox"], "2" * 64, m["message_id"]))
        else:
            for a in x["attachments"]:
                evs.append(obj([top, a["name"]], ["file", "mime"], a["sha256"], x["message_id"]))
            evs.append(obj([top, "part-1.txt"], ["file", "mime"], "1" * 64, x["message_id"]))
            for r in (x.get("signals") or []) + x.get("also", []):
                evs.append({"event": "finding", "path": top, "matcher": "mail-signal",
                            "rule": r, "location": [{"name": top, "source": "file"}],
                            "mail": {"message_id": strip_id(x["message_id"])}})
        evs.append(obj([top], ["file"], "3" * 64))
    evs.append({"event": "summary"})
    return evs


def selftest(outdir, expect):
    base = fake_events(outdir, expect)

    def first(pred):
        for i, e in enumerate(base):
            if pred(e):
                return i
        raise SystemExit("selftest: fixture event not found")

    def loc(e):
        return [x["name"] for x in e["location"]]

    def at(rel, name=None):
        p = os.path.join(outdir, rel)
        return lambda e: e["event"] == "object" and loc(e)[0] == p and (
            len(loc(e)) == 1 if name is None else loc(e)[-1] == name)

    cases = []  # (label, mutate(events) -> events, {check letters that must fail} or set())

    def drop(pred):
        return lambda evs: [e for i, e in enumerate(evs) if i != first(pred)]

    def edit(pred, fn):
        def m(evs):
            i = first(pred)
            evs[i] = fn(copy.deepcopy(evs[i]))
            return evs
        return m

    def add(e):
        return lambda evs: evs[:-1] + [e, evs[-1]]

    enc = "msg/encodings.eml"
    enc_id = expect["files"][enc]["message_id"]
    clean = os.path.join(outdir, "clean/mailing-list.eml")
    look = os.path.join(outdir, "signals/lookalike-domain.eml")
    cases.append(("a correct output", lambda evs: evs, set()))
    cases.append(("an attachment missing", drop(at(enc, "sorefang.exe")), {"a"}))
    cases.append(("a wrong sha256", edit(at("msg/names.eml", "報告書.xls"),
                                         lambda e: dict(e, sha256="f" * 64)), {"a"}))
    cases.append(("a wrong name", edit(at(enc, "cert.pem"),
                                       lambda e: dict(e, location=e["location"][:1] + [
                                           {"name": "cert.pem.txt", "source": "mime"}])), {"a"}))
    cases.append(("a renamed part of a names-only fixture",
                  edit(at("msg/broken-base64-invalid.eml", "invalid-chars.elf"),
                       lambda e: dict(e, location=e["location"][:1] + [
                           {"name": "invalid.elf", "source": "mime"}])), {"a"}))
    cases.append(("another sha256 on a names-only fixture (allowed)",
                  edit(at("msg/broken-base64-truncated.eml", "truncated.exe"),
                       lambda e: dict(e, sha256="e" * 64)), set()))
    cases.append(("the yEnc part decoded (alt_sha256, allowed)",
                  edit(at("msg/yenc.eml", "wellmess.elf.yenc"),
                       lambda e: dict(e, sha256=expect["files"]["msg/yenc.eml"]["attachments"][0]
                                      ["alt_sha256"])), set()))
    p = os.path.join(outdir, enc)
    cases.append(("an extra unnamed body part (allowed)",
                  add({"event": "object", "location": [{"name": p, "source": "file"},
                                                       {"name": "part-3.1.html", "source": "mime"}],
                       "sha256": "4" * 64, "mail": {"message_id": enc_id}}), set()))
    cases.append(("an extra named member",
                  add({"event": "object", "location": [{"name": p, "source": "file"},
                                                       {"name": "extra.bin", "source": "mime"}],
                       "sha256": "4" * 64, "mail": {"message_id": enc_id}}), {"a"}))
    cases.append(("a name in name_b64",
                  edit(at("msg/names.eml", "Café ☕.bin"),
                       lambda e: dict(e, location=e["location"][:1] + [
                           {"name_b64": base64.b64encode("Café ☕.bin".encode()).decode(),
                            "source": "mime"}])), set()))
    cases.append(("an mbox member missing",
                  drop(lambda e: e["event"] == "object" and len(e["location"]) == 2
                       and loc(e)[1] == "#3"), {"a"}))
    cases.append(("an mbox message's attachment wrong",
                  edit(lambda e: e["event"] == "object" and loc(e)[-1] == "update.zip",
                       lambda e: dict(e, sha256="d" * 64)), {"a"}))
    cases.append(("a signal not fired",
                  lambda evs: [e for e in evs if not (e["event"] == "finding" and e["path"] == look)],
                  {"b"}))
    cases.append(("a false positive on clean mail",
                  add({"event": "finding", "path": clean, "matcher": "mail-signal",
                       "rule": "reply-to-mismatch", "location": [{"name": clean,
                                                                  "source": "file"}]}), {"c"}))
    cases.append(("a signal finding without mail info",
                  edit(lambda e: e["event"] == "finding" and e["path"] == look,
                       lambda e: {k: v for k, v in e.items() if k != "mail"}), {"d"}))
    cases.append(("a member with another message_id",
                  edit(at(enc, "wellmess.elf"),
                       lambda e: dict(e, mail={"message_id": "other@x", "part": "2"})), {"d"}))
    cases.append(("a file not scanned",
                  lambda evs: [e for e in evs if "location" not in e
                               or not loc(e)[0].endswith("clean/newsletter.eml")], {"a"}))
    cases.append(("no hashes (run without --hash)",
                  lambda evs: [{k: v for k, v in e.items() if k != "sha256"} for e in evs],
                  {"a"}))
    cases.append(("no mail members at all (the mail source not built)",
                  lambda evs: [e for e in evs if e["event"] != "object"
                               or len(e["location"]) == 1],
                  {"a"}))
    bad = 0
    for label, mutate, want in cases:
        evs = mutate(copy.deepcopy(base))
        rep = run_checks(evs, outdir, expect)
        got = {c for c, v in rep.fails.items() if v}
        ok = got == want
        bad += not ok
        print(f"selftest: {'ok  ' if ok else 'FAIL'} {label}: failing checks {sorted(got) or 'none'}"
              f"{'' if ok else f' (expected {sorted(want) or None})'}")
        if not ok:
            print_report(rep)
    print(f"selftest: {len(cases) - bad}/{len(cases)} cases as expected")
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[1] == "--selftest":
        outdir = argv[2]
        with open(os.path.join(outdir, "expect.json"), encoding="utf-8") as f:
            return selftest(outdir, json.load(f))
    if len(argv) not in (2, 3) or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    outdir = argv[1].rstrip("/") or "/"
    try:
        with open(os.path.join(outdir, "expect.json"), encoding="utf-8") as f:
            expect = json.load(f)
    except (OSError, ValueError) as e:
        sys.stderr.write(f"mail_check: {outdir}/expect.json: {e}\n")
        return 2
    if len(argv) == 3:
        with open(argv[2], encoding="utf-8") as f:
            evs = read_events(f)
    else:
        evs = read_events(sys.stdin)
    rep = run_checks(evs, outdir, expect)
    print_report(rep)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

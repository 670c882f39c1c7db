#!/usr/bin/env python3
"""Checks over antibody's JSON Lines output (stdin), for tests/e2e/e2e.sh."""
import base64
import json
import os
import sys


def events():
    out = []
    for n, line in enumerate(sys.stdin.buffer.read().split(b"\n"), 1):
        if not line:
            continue
        try:
            ev = json.loads(line.decode("utf-8"))  # strict: must be valid UTF-8 JSON
        except Exception as e:  # noqa: BLE001
            sys.exit(f"line {n} is not valid JSON: {e}: {line[:200]!r}")
        if not isinstance(ev, dict) or "event" not in ev or "time" not in ev:
            sys.exit(f"line {n}: no event/time: {line[:200]!r}")
        out.append(ev)
    if not out or out[-1]["event"] != "summary":
        sys.exit("the last event is not the summary")
    return out


def raw_path(ev, key="path"):
    if key + "_b64" in ev:
        return base64.b64decode(ev[key + "_b64"])
    return ev[key].encode("utf-8")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    evs = events()
    if cmd == "pairs":  # relative path <TAB> rule, for findings under a prefix
        prefix = args[0].encode()
        for e in evs:
            if e["event"] == "finding":
                p = raw_path(e)
                rel = p[len(prefix):] if p.startswith(prefix) else p
                print(rel.decode("utf-8", "backslashreplace") + "\t" + e["rule"])
    elif cmd == "locs":  # "relative/path!member!member<TAB>rule" of YARA findings, sorted
        prefix = args[0].rstrip("/") + "/"
        out = set()
        for e in evs:
            if e["event"] != "finding" or e["matcher"] != "yara":
                continue
            names = [x["name"] for x in e["location"]]
            if names[0].startswith(prefix):
                names[0] = names[0][len(prefix):]
            out.add("!".join(names) + "\t" + e["rule"])
        for line in sorted(out):
            print(line)
    elif cmd == "count":
        print(sum(1 for e in evs if e["event"] == args[0]))
    elif cmd == "summary":
        print(evs[-1][args[0]])
    elif cmd == "skips":
        print(sum(1 for e in evs if e["event"] == "skip" and e["reason"] == args[0]))
    elif cmd == "rules-only":
        pass
    elif cmd == "check-meta":
        for e in evs:
            if e["event"] != "finding" or e["matcher"] != "yara":
                continue
            for k in ("path", "location", "size", "matcher", "rule", "namespace", "tags",
                      "meta", "severity", "score"):
                if k not in e:
                    sys.exit(f"finding without {k}: {e}")
            if e["namespace"] != "apt29-2020":
                sys.exit(f"pack rule in namespace {e['namespace']}")
            for k in ("description", "reference", "author", "score"):
                if k not in e["meta"]:
                    sys.exit(f"{e['rule']}: meta {k} missing")
            if e["score"] != e["meta"]["score"] or not e.get("family"):
                sys.exit(f"{e['rule']}: score/family not carried: {e}")
            if e["location"] != [{"name": e["path"], "source": "file"}]:
                sys.exit(f"location of a plain file must be [{{name: path, source: file}}]: {e}")
    elif cmd == "expect-hashes":
        md5, sha1, sha256 = args
        seen = [e for e in evs if e["event"] in ("finding", "object") and
                os.path.basename(e["path"]) == "payload.bin"]
        if not seen:
            sys.exit("no event for payload.bin")
        for e in seen:
            if (e.get("md5"), e.get("sha1"), e.get("sha256")) != (md5, sha1, sha256):
                sys.exit(f"hashes wrong or missing: {e}")
    elif cmd == "error-match":
        name, text = args
        errs = [e for e in evs if e["event"] == "error"]
        if not any(e.get("path") and e["path"].endswith(name) and text in e["message"]
                   for e in errs):
            sys.exit(f"no error for {name} containing '{text}': {errs}")
    elif cmd == "roundtrip":
        root = args[0].encode()
        on_disk = sorted(os.path.join(root, n) for n in os.listdir(root))
        got = sorted(raw_path(e) for e in evs if e["event"] == "finding")
        if on_disk != got:
            sys.exit(f"paths do not round-trip:\n{on_disk}\n{got}")
        for e in evs:
            if e["event"] == "finding":
                loc = [base64.b64decode(x["name_b64"]) if "name_b64" in x else x["name"].encode()
                       for x in e["location"]]
                if loc != [raw_path(e)]:
                    sys.exit(f"location does not round-trip: {e}")
    elif cmd == "proc-finding":
        pid, rule = int(args[0]), args[1]
        fs = [e for e in evs if e["event"] == "finding"]
        if not any(e.get("pid") == pid and e["rule"] == rule and e.get("process_name")
                   and "cmdline" in e and e["size"] > 0 for e in fs):
            sys.exit(f"no process finding for pid {pid} rule {rule}: {fs}")
    elif cmd == "proc-object":  # --list: an object event for the process, sized, counted
        pid = int(args[0])
        objs = [e for e in evs if e["event"] == "object" and e.get("pid") == pid]
        if len(objs) != 1 or objs[0]["size"] <= 0 or not objs[0].get("process_name"):
            sys.exit(f"expected one sized object event for pid {pid}: {objs}")
        if evs[-1]["bytes"] != objs[0]["size"]:
            sys.exit(f"summary bytes {evs[-1]['bytes']} != process size {objs[0]['size']}")
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()

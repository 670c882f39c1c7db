# shellcheck shell=bash
# End-to-end tests of the TNEF source (src/unpack/tnef.c): winmail.dat streams written by
# tests/fixtures/gen_tnef.py, the artefact found inside with its location, the embedded message
# recursed into, parity with ytnef(1) (Debian ytnef-tools), and hostile streams. Sourced by e2e.sh.

tnef_gen() { python3 "$SRCDIR/tests/fixtures/gen_tnef.py" "$T/tnef" >/dev/null; }

test_tnef_attachments() {
  tnef_gen
  run 1 abj --list "$T/tnef/winmail.dat"
  $PY - "$T/out" "$T/tnef/expected.json" <<'EOF2'
import json, sys
exp = json.load(open(sys.argv[2]))
findings, objects, errors = [], {}, []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding":
        findings.append(ev)
    elif ev["event"] == "object":
        objects[tuple((e["name"], e["source"]) for e in ev["location"][1:])] = ev
    elif ev["event"] == "error":
        errors.append(ev)
assert not errors, errors
art = exp["artefact"]["name"]
hits = [f for f in findings if f["rule"] == "APT29_SoreFang_Key_String"]
assert hits, findings
loc = hits[0]["location"]
assert [e["source"] for e in loc] == ["file", "tnef"], loc
assert loc[1]["name"] == art, loc
# the display form of the location: winmail.dat!<attachment>
assert "!".join([loc[0]["name"].rsplit("/", 1)[1]] + [e["name"] for e in loc[1:]]) == \
    "winmail.dat!" + art
want = {
    ((art, "tnef"),): exp["artefact"]["sha256"],
    ((exp["long_name"]["name"], "tnef"),): exp["long_name"]["sha256"],
    (("Forwarded", "tnef"),): exp["embedded"]["sha256"],
    (("Forwarded", "tnef"), (exp["inner"]["name"], "tnef")): exp["inner"]["sha256"],
    (("body.txt", "tnef"),): exp["body"]["sha256"],
    (("body.html", "tnef"),): exp["body"]["html"],
    (("body.rtf", "tnef"),): exp["body"]["rtf"],
}
for k, sha in want.items():
    assert k in objects, (k, sorted(objects))
    assert objects[k]["sha256"] == sha, (k, objects[k])
top = objects[()]
emails = sorted(o["value"] for o in top.get("observables", []) if o["type"] == "email")
assert emails == ["alice@sender.example", "alice@sender.example", "bob@receiver.example"] or \
    emails == ["alice@sender.example", "bob@receiver.example"], top
assert all(o["where"] == "mail.header" for o in top["observables"]), top
EOF2
  # Without unpacking the stream is only bytes: nothing found.
  run 0 abj --no-unpack "$T/tnef/winmail.dat"
  assert_eq "$(count finding)" 0 "findings with --no-unpack"
}

# ytnef -f DIR extracts the attachments (and, recursing into the embedded message, its one);
# -F also the RTF body, as <subject>.rtf. Antibody's attachment objects must be the same files:
# same names, same SHA-256.
test_tnef_parity() {
  command -v ytnef >/dev/null || fail "ytnef (Debian ytnef-tools) is not installed"
  tnef_gen
  mkdir "$T/yt"
  ytnef -F -f "$T/yt" "$T/tnef/winmail.dat" >/dev/null
  run 1 abj --list "$T/tnef/winmail.dat"
  $PY - "$T/out" "$T/yt" <<'EOF2'
import hashlib, json, os, sys
out, yt = sys.argv[1], sys.argv[2]
theirs = {}
for n in os.listdir(yt):
    theirs[n] = hashlib.sha256(open(os.path.join(yt, n), "rb").read()).hexdigest()
ours, rtf = {}, None
for line in open(out):
    ev = json.loads(line)
    if ev["event"] != "object" or len(ev["location"]) < 2:
        continue
    loc = ev["location"][1:]
    assert all(e["source"] == "tnef" for e in loc), loc
    name = loc[-1]["name"]
    if name == "body.rtf" and len(loc) == 1:
        rtf = ev["sha256"]
    elif name.startswith("body."):
        continue
    elif name == "Forwarded" and len(loc) == 1:
        continue  # the embedded message: ytnef recurses into it and writes no file for it
    else:
        ours[name] = ev["sha256"]
theirs_rtf = theirs.pop("Quarterly_report.rtf", None)
assert ours == theirs, "\nantibody: %s\nytnef:    %s" % (sorted(ours.items()), sorted(theirs.items()))
assert len(ours) == 3, ours
assert rtf and rtf == theirs_rtf, (rtf, theirs_rtf)
EOF2
}

test_tnef_hostile() {
  tnef_gen
  run 1 abj --list "$T/tnef/hostile"
  $PY - "$T/out" <<'EOF2'
import json, sys
errors, found, crashed = {}, set(), []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    name = ev.get("path", "").rsplit("/", 1)[-1]
    if ev["event"] == "error":
        errors.setdefault(name, []).append(ev["message"])
        assert "crash" not in ev["message"].lower(), ev
    elif ev["event"] == "finding" and ev["matcher"] != "limit":
        found.add(name)
for f in ["truncated.dat", "past_end.dat", "huge_len.dat", "bad_checksum.dat",
          "many_attrs.dat", "bad_mapi.dat"]:
    assert f in errors and len(errors[f]) == 1, (f, errors)
# a wrong checksum is said and read on: the artefact behind it is still found
assert "bad_checksum.dat" in found, found
assert "past_end.dat" not in found and "huge_len.dat" not in found, found
EOF2
}

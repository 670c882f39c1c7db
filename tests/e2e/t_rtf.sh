# shellcheck shell=bash
# End-to-end tests of the RTF source (src/unpack/rtf.c): objects embedded in RTF documents
# (tests/fixtures/gen_rtf.py) found by the default pack, with their location chains. Sourced by
# e2e.sh.

# Every finding of the default pack in $T/out against $T/rtf/expected.tsv: exactly those (file,
# member chain, rule) triples, each chain rooted at the file on disk; no errors, no skips.
rtf_check_findings() {
  $PY - "$T/out" "$T/rtf/" <<'EOF'
import json, sys
out, root = sys.argv[1], sys.argv[2]
want = set()
for line in open(root + "expected.tsv"):
    f, loc, rule = line.rstrip("\n").split("\t")
    want.add((f, tuple((e["name"], e["source"]) for e in json.loads(loc)), rule))
got, errors, skips = set(), [], []
for line in open(out):
    ev = json.loads(line)
    if ev["event"] == "finding":
        loc = ev["location"]
        assert loc[0] == {"name": ev["path"], "source": "file"}, loc
        assert ev["path"].startswith(root), ev["path"]
        got.add((ev["path"][len(root):], tuple((e["name"], e["source"]) for e in loc[1:]),
                 ev["rule"]))
    elif ev["event"] == "error":
        errors.append(ev)
    elif ev["event"] == "skip":
        skips.append(ev)
    elif ev["event"] == "summary":
        summary = ev
assert got == want, "\nmissing: %s\nunexpected: %s" % (sorted(want - got), sorted(got - want))
assert not errors, errors
assert not skips, skips
assert summary["errors"] == 0 and summary["skipped_total"] == 0, summary
assert summary["members"] >= len(want), summary
# Three levels: the RTF, the packaged zip, the artefact in it.
assert any(len(loc) == 2 and loc[1][1] == "zip" for _, loc, _ in got), got
EOF
}

test_rtf_objects() {
  python3 "$SRCDIR/tests/fixtures/gen_rtf.py" "$T/rtf" >/dev/null
  [ "$(wc -l <"$T/rtf/expected.tsv")" -ge 5 ] || fail "expected.tsv too short"
  run 1 abj "$T/rtf"
  rtf_check_findings
  # pict.rtf holds the artefact as an image: images are not extracted.
  if grep -q 'pict.rtf' "$T/out"; then fail "a \\pict blob was extracted"; fi
  # The console names the member chain too.
  run 1 ab scan --no-progress "$T/rtf/package_zip.rtf"
  assert_contains "$T/out" "invoice.zip"
  # Without unpacking the documents are only text: nothing found.
  run 0 abj --no-unpack "$T/rtf"
  assert_eq "$(count finding)" 0 "findings with --no-unpack"
}

test_rtf_limits() {
  python3 "$SRCDIR/tests/fixtures/gen_rtf.py" "$T/rtf" >/dev/null
  # An object over --max-member-size is a limit finding and a skip with its location, not an
  # error; the rest of the sweep goes on.
  run 1 abj --list-skipped --max-member-size 1000 "$T/rtf/package_exe.rtf" "$T/rtf/equation.rtf"
  $PY - "$T/out" <<'EOF'
import json, sys
limits, skips, errors = [], [], []
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding":
        assert ev["matcher"] == "limit", ev
        limits.append(ev)
    elif ev["event"] == "skip":
        skips.append(ev)
    elif ev["event"] == "error":
        errors.append(ev)
assert {e["rule"] for e in limits} == {"max-member-size"}, limits
assert len(skips) == 2 and all(s["reason"] == "too-large" for s in skips), skips
for s in skips:
    assert [e["source"] for e in s["location"]] == ["file", "rtf"], s
    assert s["location"][1]["name"] == "objdata 1", s
assert not errors, errors
EOF
}

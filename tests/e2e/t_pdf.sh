# shellcheck shell=bash
# End-to-end tests of the PDF source (src/unpack/pdf.c) on tests/fixtures/gen_pdf.py's PDFs:
# member locations, the apt29 artefact embedded in a PDF, URI observables on the object event,
# a corrupt PDF (an error, the sweep goes on), a Flate bomb (max-ratio). Sourced by e2e.sh.

pdf_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_pdf.py" "$T/gen" >/dev/null
  mkdir -p "$T/p"
  mv "$T"/gen/*.pdf "$T/p/"
  cat >"$T/pdf.yar" <<'Y'
rule pdf_flate { strings: $a = "PDF_FLATE_MARKER_7f3a" condition: $a }
rule pdf_js { strings: $a = "PDF_JS_OPEN_MARKER_51c2" $b = "PDF_JS_TREE_MARKER_9b07" $c = "PDF_JS_OBJSTM_MARKER_c4e1" condition: any of them }
rule pdf_filters { strings: $a = "PDF_AHX_MARKER" $b = "PDF_A85_MARKER" $c = "PDF_RL_MARKER" $d = "PDF_A85FL_MARKER" condition: any of them }
Y
}

test_pdf_members() {
  pdf_fixture
  run 1 abj --list --no-default-pack -r "$T/pdf.yar" "$T/p"
  $PY - "$T/out" "$T/p/" <<'EOF'
import json, sys
out, root = sys.argv[1], sys.argv[2]
finds, objects, errors = set(), {}, []
for line in open(out):
    ev = json.loads(line)
    loc = tuple((l["name"][len(root):] if i == 0 else l["name"], l.get("source"))
                for i, l in enumerate(ev.get("location", [])))
    if ev["event"] == "finding":
        finds.add((loc, ev["rule"]))
    elif ev["event"] == "object":
        objects[loc] = ev
    elif ev["event"] == "error":
        errors.append((loc, ev["message"]))
    elif ev["event"] == "summary":
        summary = ev
def f(pdf, member, rule):
    key = (((pdf, "file"), (member, "pdf")), rule)
    assert key in finds, (key, sorted(finds))
# The page content stream (Flate) by object number; JavaScript members; every filter.
f("doc.pdf", "4 0", "pdf_flate")
f("doc.pdf", "javascript 1", "pdf_js")      # the OpenAction's string
f("doc.pdf", "javascript 2", "pdf_js")      # the /Names /JavaScript tree's stream
f("recovered.pdf", "4 0", "pdf_flate")      # wrong xref offsets: qpdf rebuilt the table
f("objstm.pdf", "javascript 1", "pdf_js")   # an action inside an object stream
for n in ("3 0", "4 0", "5 0", "6 0"):      # ASCIIHex, ASCII85, RunLength, ASCII85+Flate
    f("filters.pdf", n, "pdf_filters")
# The embedded file is a member under its file specification's name.
assert (("doc.pdf", "file"), ("artefact.exe", "pdf")) in objects, sorted(objects)
# The URI action is an observable of the PDF, on its object event; members carry none.
doc = objects[(("doc.pdf", "file"),)]
assert doc.get("observables") == [{"type": "url", "value": "http://example.org/payload", "where": "pdf.uri"}], doc
assert "observables" not in objects[(("doc.pdf", "file"), ("4 0", "pdf"))]
# The Flate bomb is a max-ratio limit on its stream, never a member.
f("bomb.pdf", "3 0", "max-ratio")
assert (("bomb.pdf", "file"), ("3 0", "pdf")) not in objects
# The corrupt PDF: one error line of its own, and the sweep went on.
bad = [m for loc, m in errors if loc[0][0] == "corrupt.pdf"]
assert len(bad) == 1 and bad[0].startswith("pdf: cannot read"), errors
assert (("corrupt.pdf", "file"),) in objects
assert summary["objects"] == 6 and summary["errors"] == 1, summary
EOF
  assert_contains "$T/err" "corrupt.pdf: pdf: cannot read"
  # --no-unpack: the PDFs as they are (the OpenAction's JavaScript is plain text in the file).
  run 1 abj --list --no-unpack --no-default-pack -r "$T/pdf.yar" "$T/p"
  assert_eq "$(summary_field members)" 0 "no members with --no-unpack"
  assert_eq "$(summary_field errors)" 0 "no PDF parsed with --no-unpack"
}

test_pdf_apt29_embedded() {
  pdf_fixture
  local rule
  rule=$(cat "$T/gen/embedded_rule.txt")
  run 1 abj "$T/p/doc.pdf"
  $PY - "$T/out" "$rule" <<'EOF'
import json, sys
out, rule = sys.argv[1], sys.argv[2]
hits = []
for line in open(out):
    ev = json.loads(line)
    if ev["event"] == "finding" and ev["rule"] == rule:
        hits.append([(l["name"].rsplit("/", 1)[-1], l.get("source")) for l in ev["location"]])
assert [("doc.pdf", "file"), ("artefact.exe", "pdf")] in hits, hits
EOF
}

# A finding on the PDF itself carries its URI actions too: they are known only after its streams
# were read, which happens before the PDF's verdict is delivered.
test_pdf_finding_observables() {
  pdf_fixture
  printf 'rule pdf_any { strings: $a = "%%PDF-" condition: $a at 0 }\n' >"$T/any.yar"
  run 1 abj --no-default-pack --rules "$T/any.yar" "$T/p/doc.pdf"
  $PY - "$T/out" <<'EOF2'
import json, sys
fs = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "finding"]
assert len(fs) == 1 and fs[0]["rule"] == "pdf_any", fs
assert {"type": "url", "value": "http://example.org/payload", "where": "pdf.uri"} in fs[0].get("observables", []), fs
EOF2
}

# An encrypted PDF is skipped as encrypted (the PDF itself: its content could not be read) unless
# a --password opens it; qpdf's CLI encrypts the fixture (AES-256, user password "infected").
test_pdf_encrypted() {
  pdf_fixture
  qpdf --encrypt infected owner-pw 256 -- "$T/p/doc.pdf" "$T/enc.pdf"
  run 0 abj --list-skipped "$T/enc.pdf"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
sk = [e for e in evs if e["event"] == "skip"]
assert [s["reason"] for s in sk] == ["encrypted"] and len(sk[0]["location"]) == 1, sk
assert not [e for e in evs if e["event"] == "error"], evs
EOF2
  run 1 abj --password wrong --password infected "$T/enc.pdf"
  assert_eq "$(summary_field members)" 4 "the password opens the PDF: its members are scanned"
}

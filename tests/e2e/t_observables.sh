# shellcheck shell=bash
# End-to-end tests of the observable matcher (src/match/observables.c): a PDF's URI action
# (tests/fixtures/gen_pdf.py's doc.pdf, "http://example.org/payload") is an observable of type
# url at pdf.uri; url and domain IOCs in our format match it by meaning (normalised URL, the
# host's parent domain) and give findings of matcher "observable". Sourced by e2e.sh.

obs_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_pdf.py" "$T/gen" >/dev/null
  mkdir -p "$T/p"
  cp "$T/gen/doc.pdf" "$T/p/"
}

test_observables_pdf_uri() {
  obs_fixture
  # Spelt differently from the PDF's URI (case, default port, dot segments, fragment), and the
  # host's parent domain written as a UTF-8-free plain name.
  printf 'url\tHTTP://Example.ORG:80/a/../payload#x\tpayload URL\thttps://ref.example/1\t90\n' >"$T/obs.ioc"
  printf 'domain\tORG.example\tunrelated\n' >>"$T/obs.ioc"
  printf 'domain\texample.org\tthe payload host\t\t70\n' >>"$T/obs.ioc"
  run 1 abj --no-default-pack -i "$T/obs.ioc" "$T/p/doc.pdf"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
fs = sorted((e for e in evs if e["event"] == "finding"), key=lambda e: e["value_type"])
got = [(f["matcher"], f["rule"], f["value"], f["value_type"], f["where"], f["score"]) for f in fs]
assert got == [
    ("observable", "example.org", "example.org", "domain", "pdf.uri", 70),
    ("observable", "http://example.org/payload", "http://example.org/payload", "url", "pdf.uri", 90),
], got
for f in fs:
    assert [l["source"] for l in f["location"]] == ["file"], f   # on the PDF itself
    assert f["reason"].endswith("IOC (pdf.uri)"), f
assert fs[1]["meta"]["reference"] == "https://ref.example/1", fs[1]
load = [e for e in evs if e["event"] == "load"][0]
assert load["iocs"] == 3 and load["iocs_unmatched"] == 0, load
EOF2
  # the console: nothing reported as "not matched" in a file sweep
  run 1 ab scan --no-progress --no-default-pack -i "$T/obs.ioc" "$T/p/doc.pdf"
  assert_contains "$T/err" "3 IOCs loaded, content"
  # without unpacking there is no URI observable, so no finding
  run 0 abj --no-default-pack --no-unpack -i "$T/obs.ioc" "$T/p/doc.pdf"
  assert_eq "$(count finding)" 0 "findings with --no-unpack"
}

test_observables_no_match() {
  obs_fixture
  # A sibling domain and a URL with another path match nothing.
  printf 'domain\tnotexample.org\nurl\thttp://example.org/payload2\n' >"$T/miss.ioc"
  run 0 abj --no-default-pack -i "$T/miss.ioc" "$T/p/doc.pdf"
  assert_eq "$(count finding)" 0 "findings for IOCs that do not match"
  # A public suffix is refused at load (it would match every .org host): an error line, and
  # the sweep goes on without it.
  printf 'domain\torg\n' >>"$T/miss.ioc"
  run 2 abj --no-default-pack -i "$T/miss.ioc" "$T/p/doc.pdf"
  assert_eq "$(count finding)" 0 "findings with a refused public suffix"
  assert_contains "$T/err" "miss.ioc:3: domain: a public suffix or a single label"
}

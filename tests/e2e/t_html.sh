# shellcheck shell=bash
# End-to-end tests of the HTML source (src/unpack/html.c): an HTML smuggling page on disk (a
# data: URI carrying a zip carrying the benign apt29 artefact) is found inside as
# page.html!data#1.zip!<member> and raises the html-smuggling signal on the page; a clean
# newsletter-like page gives no finding. Sourced by e2e.sh.

html_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_apt29.py" "$T/apt" >/dev/null
  mkdir -p "$T/h"
  $PY - "$T/apt" "$T/h" <<'EOF2'
import base64, io, sys, zipfile
apt, out = sys.argv[1], sys.argv[2]
name = "APT29_SoreFang_Alphabet_Setup__pe32.exe"
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(f"{apt}/pos/{name}", "update.exe")
b64 = base64.b64encode(buf.getvalue()).decode()
open(f"{out}/page.html", "w").write(
    "<!DOCTYPE html><html><head><title>Document</title></head><body>"
    f"<a id=\"d\" download=\"report.zip\" href=\"data:application/zip;base64,{b64}\">Download</a>"
    "<script>document.getElementById('d').click();</script></body></html>\n")
open(f"{out}/clean.html", "w").write(
    "<!DOCTYPE html><html><body><h1>News</h1>"
    "<p><a href=\"https://news.example.com/a\">Read more</a></p>"
    "<p><a href=\"https://www.example.com/\">example.com</a></p>"
    "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg==\">"
    "<p><a href=\"https://track.example.net/unsub\">Unsubscribe</a></p></body></html>\n")
EOF2
}

test_html_smuggling() {
  html_fixture
  run 1 abj "$T/h/page.html"
  $PY - "$T/out" <<'EOF2'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
fs = [e for e in evs if e["event"] == "finding"]
locs = {e["rule"]: [(l["name"].rsplit("/", 1)[-1], l.get("source")) for l in e["location"]]
        for e in fs}
want = [("page.html", "file"), ("data#1.zip", "html"), ("update.exe", "zip")]
assert locs.get("APT29_SoreFang_Alphabet_Setup") == want, locs
sig = [e for e in fs if e["rule"] == "html-smuggling"]
assert len(sig) == 1, fs
assert [l["name"].rsplit("/", 1)[-1] for l in sig[0]["location"]] == ["page.html"], sig
assert sig[0].get("value") == "data#1.zip", sig
EOF2
}

test_html_clean() {
  html_fixture
  run 0 abj "$T/h/clean.html"
  assert_eq "$(count finding)" 0 "no finding on a clean page"
  # its links are observables of the page (on its object event with --list)
  run 0 abj --list "$T/h/clean.html"
  assert_contains "$T/out" "https://news.example.com/a"
}

# shellcheck shell=bash
# Parity of the document sources (CHM/SZDD, PDF, OLE2/VBA, RTF) with yara on the members that
# the formats' own tools extract into a temporary folder (the test extracts; antibody never
# does), and nesting across formats with full location chains. Sourced by e2e.sh; fixtures from
# tests/fixtures/gen_mspack.py, gen_pdf.py, gen_ole.py, gen_rtf.py; the extraction is
# tests/e2e/parity_docs.py (which tool for which format, and why two readers there are written
# in Python, not taken from Debian: no Debian 12 package reads RTF \objdata or a bare VBA
# project; see its header).
#
# Left out: the KWAJ fixtures (stored.kwj, xored.kwj, lzss.kwj): no Debian tool reads KWAJ
# (`apt-cache search kwaj` finds nothing; mscompress' msexpand reads SZDD only; libmspack ships
# no programs and is the library antibody uses itself). tests/e2e/t_mspack.sh checks them.

PARITY="$SRCDIR/tests/e2e/parity_docs.py"

# The rules: the default pack and the document tests' own rules (t_mspack.sh, t_pdf.sh, t_ole.sh),
# in one file. Markers are split so that this file itself never matches.
# shellcheck disable=SC2016  # $a is YARA's, not the shell's
parity_rules() {
  {
    printf 'rule mspack_page { strings: $a = "ANTIBODY-MSPACK-%s" condition: $a }\n' "TEST-PAGE"
    printf 'rule pdf_flate { strings: $a = "PDF_FLATE_%s" condition: $a }\n' "MARKER_7f3a"
    printf 'rule pdf_js { strings: $a = "PDF_JS_OPEN_%s" $b = "PDF_JS_TREE_%s" $c = "PDF_JS_OBJSTM_%s" condition: any of them }\n' \
      "MARKER_51c2" "MARKER_9b07" "MARKER_c4e1"
    printf 'rule pdf_filters { strings: $a = "PDF_AHX_%s" $b = "PDF_A85_%s" $c = "PDF_RL_%s" $d = "PDF_A85FL_%s" condition: any of them }\n' \
      MARKER MARKER MARKER MARKER
    cat <<'Y'
rule ole_macro_wellmail {
  strings: $p = "C:/Server/Mail/App_Data/Temp/agent.sh/src/main.go" $t = "HgQdbx4qRNv" $z = "main.zipit"
  condition: 2 of them }
rule ole_plain_stream {
  strings: $m = { 41 4E 54 49 42 4F 44 59 2D 4F 4C 45 2D 50 4C 41 49 4E 2D 53 54 52 45 41 4D 2D 4D 41 52 4B 45 52 }
  condition: $m }
Y
  } >"$T/docs.yar"
}

docs_fixtures() {
  mkdir -p "$T/d"
  $PY "$SRCDIR/tests/fixtures/gen_mspack.py" "$T/d" >/dev/null
  $PY "$SRCDIR/tests/fixtures/gen_pdf.py" "$T/d" >/dev/null
  $PY "$SRCDIR/tests/fixtures/gen_ole.py" "$T/d" >/dev/null
  $PY "$SRCDIR/tests/fixtures/gen_rtf.py" "$T/d" >/dev/null 2>&1
  rm -f "$T"/d/*.tsv "$T"/d/*.txt "$T"/d/*.kwj   # lists, and KWAJ (no tool: see the top)
  parity_rules
}

# parity_one FILE: extract FILE with the tools, run yara on the tree and antibody on FILE, and
# compare (member chain, rule) findings, then the members themselves (chain of names, SHA-256).
# Differences go to stdout; the return status is the number of kinds that differ (0: parity).
# Sets PARITY_FINDINGS to the number of findings.
parity_one() {
  local f=$1 base x bad=0
  base=$(basename "$f")
  x="$T/x/$base"
  rm -rf "$x" "$x.scratch"
  $PY "$PARITY" extract "$x" "$f" >"$x.manifest" || { echo "parity: cannot extract $base"; return 1; }
  yara "${YARA_DEFS[@]}" -r -w "$SRCDIR"/rules/apt29-2020/*.yar "$T/docs.yar" "$x" 2>"$T/yara.err" |
    $PY "$PARITY" join "$x.manifest" | LC_ALL=C sort >"$T/yara.tsv"
  [ ! -s "$T/yara.err" ] || { cat "$T/yara.err"; return 1; }
  set +e
  abj --list --hash -r "$T/docs.yar" "$f" >"$T/out" 2>/dev/null
  set -e
  $PY "$JQ" locs "$(dirname "$f")" <"$T/out" | LC_ALL=C sort >"$T/ab.tsv"
  PARITY_FINDINGS=$(wc -l <"$T/ab.tsv")
  if ! diff -q "$T/yara.tsv" "$T/ab.tsv" >/dev/null; then
    echo "parity: findings differ in $base (- yara on extracted, + antibody)"
    diff -u "$T/yara.tsv" "$T/ab.tsv" | tail -n +3
    bad=$((bad + 1))
  fi
  $PY "$PARITY" members "$x.manifest" <"$T/out" >"$T/members.diff"
  # Known and meant: antibody never yields a stream over its limits (bomb.pdf's 16 MiB Flate
  # stream is a max-ratio limit finding, checked in t_pdf.sh); qpdf extracts it.
  grep -v -x -F -e $'only-tool\tbomb.pdf!3 0' "$T/members.diff" >"$T/members.left" || true
  if [ -s "$T/members.left" ]; then
    echo "parity: members differ in $base (only-tool: extracted by the tool, not by antibody)"
    cat "$T/members.left"
    bad=$((bad + 1))
  fi
  return "$bad"
}

test_parity_docs() {
  for t in yara extract_chmLib msexpand qpdf pdfdetach olecfexport gsf-vba-dump 7zz; do
    command -v "$t" >/dev/null || fail "$t not installed (scripts/deps)"
  done
  docs_fixtures
  mkdir -p "$T/x"
  local f mismatches=0 total=0 n=0
  for f in "$T"/d/*; do
    n=$((n + 1))
    parity_one "$f" || mismatches=$((mismatches + 1))
    total=$((total + PARITY_FINDINGS))
  done
  # 1 CHM (2 with chmcmd's LZX one), 1 SZDD, 6 PDF, 5 OLE2, 6 RTF
  [ "$n" -ge 19 ] || fail "expected at least 19 document fixtures, found $n"
  # Every generator's findings are in: pages, streams, JavaScript, embedded files, VBA modules,
  # a plain stream, RTF objects (a floor, so that parity on nothing cannot pass).
  [ "$total" -ge 25 ] || fail "only $total findings over the document fixtures"
  [ "$mismatches" = 0 ] || fail "$mismatches document fixtures differ from the tools' extraction"
}

# Documents nested in archives and archives in documents (in $T/n): a docm in a zip in a tar.gz,
# an RTF in a zip, a CHM in a 7z, a PDF embedding a zip.
nesting_fixture() {
  docs_fixtures
  local n="$T/n" s="$T/n.src"
  mkdir -p "$n" "$s/tgz" "$s/rz" "$s/c7" "$T/x"
  # a docm inside a zip inside a tar.gz
  cp "$T/d/macro.docm" "$s/tgz/"
  (cd "$s/tgz" && zip -q a.zip macro.docm && tar -czf "$n/x.tar.gz" a.zip)
  # an RTF inside a zip
  cp "$T/d/package_exe.rtf" "$s/rz/"
  (cd "$s/rz" && zip -q "$n/r.zip" package_exe.rtf)
  # a CHM inside a 7z
  cp "$T/d/help.chm" "$s/c7/"
  (cd "$s/c7" && 7zz a -bd -y "$n/c.7z" help.chm >/dev/null)
  # a PDF whose embedded file is a zip holding the apt29 artefact
  $PY - "$SRCDIR/tests/fixtures" "$n/z.pdf" "$s" <<'EOF'
import io, os, sys, zipfile, zlib
sys.path.insert(0, sys.argv[1])
import gen_apt29, gen_pdf
gen_apt29.main(["gen_apt29.py", sys.argv[3] + "/apt29"])
with open(sys.argv[3] + "/apt29/pos/APT29_SoreFang_Key_String__pe32.exe", "rb") as f:
    art = f.read()
z = io.BytesIO()
with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
    zf.writestr(zipfile.ZipInfo("artefact.exe", date_time=(2020, 7, 16, 12, 0, 0)), art,
                compress_type=zipfile.ZIP_DEFLATED)
objs = {
    1: b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>",
    2: b"<< /Type /Pages /Kids [] /Count 0 >>",
    3: b"<< /Names [(payload.zip) 4 0 R] >>",
    4: b"<< /Type /Filespec /F (payload.zip) /UF (payload.zip) /EF << /F 5 0 R >> >>",
    5: gen_pdf.stream(b"/Type /EmbeddedFile /Filter /FlateDecode", zlib.compress(z.getvalue())),
}
with open(sys.argv[2], "wb") as f:
    f.write(gen_pdf.build(objs))
EOF
}

# The nested files: full location chains and sources. (A test of its own, apart from the tools'
# parity below, so that the ASan run, which leaves the parity suite out, still reads them.)
test_nesting_chains() {
  nesting_fixture
  local n="$T/n"
  run 1 abj -r "$T/docs.yar" "$n"
  $PY - "$T/out" "$n/" <<'EOF'
import json, sys
root = sys.argv[2]
got = set()
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "finding" and ev["matcher"] == "yara":
        loc = ev["location"]
        got.add((ev["rule"], tuple((l["name"][len(root):] if i == 0 else l["name"], l["source"])
                                   for i, l in enumerate(loc))))
want = {
    ("ole_macro_wellmail", (("x.tar.gz", "file"), ("a.zip", "tar+gzip"), ("macro.docm", "zip"),
                            ("word/vbaProject.bin", "zip"), ("Module1", "vba"))),
    ("APT29_SoreFang_Key_String", (("r.zip", "file"), ("package_exe.rtf", "zip"),
                                   ("invoice.exe", "rtf"))),
    ("APT29_SoreFang_Key_String", (("z.pdf", "file"), ("payload.zip", "pdf"),
                                   ("artefact.exe", "zip"))),
    ("APT29_SoreFang_Key_String", (("c.7z", "file"), ("help.chm", "7z"),
                                   ("/tools/setup.exe", "chm"))),
}
missing = want - got
assert not missing, "missing: %s\ngot: %s" % (sorted(missing), sorted(got))
# (the other findings, e.g. CHM pages, are compared with yara's below, as a set)
assert {c[0][0] for _, c in got} == {"x.tar.gz", "r.zip", "z.pdf", "c.7z"}, sorted(got)
EOF
  assert_eq "$(summary_field errors)" 0 "no errors in the nested files"
}

# Parity with the tools on the same nested files.
test_parity_nesting() {
  nesting_fixture
  local f n="$T/n" mismatches=0
  for f in "$n"/*; do
    parity_one "$f" || mismatches=$((mismatches + 1))
  done
  [ "$mismatches" = 0 ] || fail "$mismatches nested files differ from the tools' extraction"
}

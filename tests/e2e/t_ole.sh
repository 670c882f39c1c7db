# shellcheck shell=bash
# End-to-end tests of the OLE2 source (src/unpack/ole.c): VBA module sources as members, through
# a zip (.docm) and directly (.doc, vbaProject.bin), streams as members, and a corrupt file as one
# error. Fixtures: tests/fixtures/gen_ole.py. Sourced by e2e.sh.

ole_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_ole.py" "$T/ole"
  # Strings of the benign apt29 WellMail artefact: present only in Module1's decompressed source.
  # The plain marker: only in the WordDocument stream as read (its sectors are out of order).
  cat >"$T/ole.yar" <<'Y'
rule ole_macro_wellmail { meta: score = 80
  strings: $p = "C:/Server/Mail/App_Data/Temp/agent.sh/src/main.go" $t = "HgQdbx4qRNv" $z = "main.zipit"
  condition: 2 of them }
rule ole_plain_stream { meta: score = 60
  strings: $m = { 41 4E 54 49 42 4F 44 59 2D 4F 4C 45 2D 50 4C 41 49 4E 2D 53 54 52 45 41 4D 2D 4D 41 52 4B 45 52 }
  condition: $m }
Y
}

# rule<TAB>location as "name(source)>name(source)..." with the top path relative to $T/ole/.
ole_locations() {
  $PY - "$T/out" "$T/ole/" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] != "finding":
        continue
    loc = ev["location"]
    parts = [loc[0]["name"][len(sys.argv[2]):] + "(" + loc[0].get("source", "") + ")"]
    parts += [l["name"] + "(" + l["source"] + ")" for l in loc[1:]]
    print(ev["rule"] + "\t" + ">".join(parts))
EOF
}

test_ole_vba_modules() {
  ole_fixture
  run 1 abj --no-default-pack -r "$T/ole.yar" "$T/ole"
  ole_locations | sort >"$T/got"
  cat >"$T/want" <<'W'
ole_macro_wellmail	literal.ole(file)>Module1(vba)
ole_macro_wellmail	macro.doc(file)>Module1(vba)
ole_macro_wellmail	macro.docm(file)>word/vbaProject.bin(zip)>Module1(vba)
ole_macro_wellmail	vbaProject.bin(file)>Module1(vba)
ole_macro_wellmail	vba_project.ole(file)>Module1(vba)
ole_plain_stream	macro.doc(file)>WordDocument(ole)
W
  diff -u "$T/want" "$T/got" || fail "OLE findings and locations differ"
  assert_eq "$(summary_field errors)" 0 "no errors on the generated files"
  # Every stream is a member too, and the raw (compressed) module stream does not match.
  run 1 abj --no-default-pack -r "$T/ole.yar" "$T/ole/macro.docm"
  $PY - "$T/out" <<'EOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
s = evs[-1]
assert s["event"] == "summary", s
# zip: 4 members; vbaProject.bin: 6 streams + 2 modules
assert s["members"] == 12, s
f = [e for e in evs if e["event"] == "finding"]
assert len(f) == 1 and f[0]["location"][-1] == {"name": "Module1", "source": "vba"}, f
assert f[0]["location"][-2] == {"name": "word/vbaProject.bin", "source": "zip"}, f
EOF
}

test_ole_corrupt() {
  ole_fixture
  mkdir -p "$T/bad"
  head -c 1500 "$T/ole/macro.doc" >"$T/bad/cut.doc"
  head -c 300 "$T/ole/vbaProject.bin" >"$T/bad/header.bin"
  cp "$T/ole/vbaProject.bin" "$T/bad/mangled.bin"
  # a directory start sector past the end of the file
  printf '\377\377\377\177' | dd of="$T/bad/mangled.bin" bs=1 seek=48 conv=notrunc 2>/dev/null
  run 2 abj --no-default-pack -r "$T/ole.yar" "$T/bad"
  $PY - "$T/out" "$T/bad/" <<'EOF'
import json, sys
errs = {}
for line in open(sys.argv[1]):
    ev = json.loads(line)
    if ev["event"] == "error":
        errs.setdefault(ev["path"][len(sys.argv[2]):], []).append(ev)
assert sorted(errs) == ["cut.doc", "header.bin", "mangled.bin"], errs
for name, evs in errs.items():
    assert len(evs) == 1, (name, evs)  # one line per corrupt file
    assert evs[0]["message"].startswith("ole: not a readable compound file"), evs
    assert len(evs[0]["location"]) == 1, evs
EOF
}

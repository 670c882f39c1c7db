# shellcheck shell=bash
# End-to-end tests of the libmspack sources (src/unpack/mspack.c): CHM pages, SZDD and KWAJ
# members found by rules with their location chains; a corrupt CHM is one error line.
# Sourced by e2e.sh; listed in tests/e2e/meson.build. Fixtures: tests/fixtures/gen_mspack.py.

mspack_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_mspack.py" "$T/m" >/dev/null
  # The marker is split here too, so that this file itself never matches the rule.
  printf 'rule mspack_page { strings: $a = "ANTIBODY-MSPACK-%s" condition: $a }\n' "TEST-PAGE" \
    >"$T/page.yar"
}

# findings of rule $1 in $T/out as "container<TAB>member<TAB>member source", members only, sorted
member_hits() {
  $PY - "$T/out" "$T/m/" "$1" <<'PYEOF'
import json, sys
out, prefix, rule = sys.argv[1:4]
hits = set()
for line in open(out):
    ev = json.loads(line)
    if ev["event"] != "finding" or ev["rule"] != rule or len(ev["location"]) < 2:
        continue
    loc = ev["location"]
    assert loc[0]["name"].startswith(prefix) and loc[0]["source"] == "file", loc
    assert len(loc) == 2, loc
    hits.add("%s\t%s\t%s" % (loc[0]["name"][len(prefix):], loc[1]["name"], loc[1]["source"]))
print("\n".join(sorted(hits)))
PYEOF
}

test_mspack_members() {
  mspack_fixture
  run 1 abj --no-default-pack -r "$T/page.yar" "$T/m"
  local want
  want=$(printf 'help.chm\t/page.html\tchm\nstored.kwj\treadme.txt\tkwaj\nxored.kwj\txored.kwj\tkwaj')
  if [ -f "$T/m/help_lzx.chm" ]; then  # chmcmd (fp-utils) installed: LZX section 1
    want=$(printf '%s\nhelp_lzx.chm\t/page.html\tchm' "$want" | sort)
  fi
  assert_eq "$(member_hits mspack_page)" "$want" "the pages inside CHM and KWAJ"
  assert_eq "$(count error)" 0 "no errors"
  # The benign apt29 artefact inside CHM, SZDD (missing last character restored) and KWAJ.
  run 1 abj --no-lookalike "$T/m"
  want=$(printf 'help.chm\t/tools/setup.exe\tchm\nlzss.kwj\tsetup.exe\tkwaj\nsetup.ex_\tsetup.exe\tszdd')
  assert_eq "$(member_hits APT29_SoreFang_Key_String)" "$want" "the artefact inside each container"
  # Without unpacking, nothing inside is seen.
  run 0 abj --no-default-pack --no-unpack -r "$T/page.yar" "$T/m/xored.kwj" "$T/m/setup.ex_"
  assert_eq "$(count finding)" 0 "--no-unpack"
}

test_mspack_corrupt() {
  mspack_fixture
  mkdir -p "$T/bad"
  head -c 300 "$T/m/help.chm" >"$T/bad/cut.chm"
  head -c 12 "$T/m/setup.ex_" >"$T/bad/cut.ex_"
  run 2 abj --no-default-pack -r "$T/page.yar" "$T/bad"
  assert_eq "$(count error)" 2 "one error line per corrupt container"
  assert_contains "$T/out" '"message":"chm: cannot read the directory: truncated or unreadable data"'
  assert_contains "$T/out" '"message":"szdd: cannot read the header:'
  assert_eq "$(count finding)" 0 "nothing found in what could not be read"
}

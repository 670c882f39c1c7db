# The pack's certificate rule needs a certificate around the traits: DER after an X.509 header or
# base64 inside a PEM block; text quoting them (intel notes, READMEs) does not fire.
# Sourced by e2e.sh; listed in tests/e2e/meson.build.

test_pack_cert_context() {
  $PY "$SRCDIR/tests/fixtures/gen_apt29.py" "$T/fx" >/dev/null
  local r=APT29_WellMess_TLS_Cert_Traits
  mkdir -p "$T/pos" "$T/neg"
  cp "$T/fx/pos/${r}__"* "$T/pos/"
  cp "$T/fx/neg/${r}__note_quoting_traits.md" "$T/fx/neg/${r}__note_pem_far.md" \
    "$T/fx/neg/${r}__fragments_no_cert.bin" "$T/neg/"
  cp "$SRCDIR/rules/apt29-2020/README.md" "$T/neg/pack-README.md"
  run 1 abj --no-lookalike "$T/pos"
  assert_eq "$(count finding)" "$(ls "$T/pos" | wc -l)" "every DER/PEM/TLS artefact fires"
  [ "$(grep -c "\"rule\":\"$r\"" "$T/out")" = "$(ls "$T/pos" | wc -l)" ] || fail "not all by $r"
  run 0 abj --no-lookalike "$T/neg"
  assert_eq "$(count finding)" 0 "text quoting the certificate traits"
  # The same with the yara CLI (the pack's own self-check), when it is installed
  if command -v yara >/dev/null; then
    run 0 bash "$SRCDIR/tests/fixtures/check_apt29_yara.sh"
    assert_contains "$T/out" "apt29-2020 yara check: PASSED"
  fi
}

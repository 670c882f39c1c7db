# shellcheck shell=bash
# End-to-end tests of mail (RFC 5322 messages, mbox, Maildir: src/unpack/mime.c) on the fixtures
# of tests/fixtures/gen_mail.py, checked by tests/e2e/mail_check.py: attachment parity with
# Python's email package, every phishing-signal fixture fires its rule, no signal on the clean
# business mail, mail info on findings and members. Sourced by e2e.sh.

GEN_MAIL="$SRCDIR/tests/fixtures/gen_mail.py"
MAIL_CHECK="$SRCDIR/tests/e2e/mail_check.py"
mail_fixture() { [ -d "$T/m" ] || $PY "$GEN_MAIL" "$T/m" >/dev/null; }

# The checker itself, on fake outputs made from expect.json: a correct one passes, each kind of
# mismatch is caught. Needs no mail source.
test_mail_check_selftest() {
  mail_fixture
  run 0 "$PY" "$MAIL_CHECK" --selftest "$T/m"
  assert_contains "$T/out" "cases as expected"
}

# The whole fixture tree: parity (a), signals (b), clean set (c), mail info (d).
test_mail_fixtures() {
  mail_fixture
  run 1 abj --list --hash --protect-domain our-university.ac.uk "$T/m"
  $PY "$MAIL_CHECK" "$T/m" "$T/out" || fail "mail fixtures differ (see above)"
}

# The hostile messages end within the limits: 10^5 parts give a max-members limit, 1000-deep
# multipart nesting an error or a limit, never a crash; the sweep goes on to the other files.
test_mail_hostile() {
  mail_fixture
  run 1 abj --list-skipped "$T/m/msg/many-parts.eml" "$T/m/msg/deep-multipart.eml" "$T/m/msg/zip-exe.eml"
  $PY - "$T/out" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
lim = {e["rule"] for e in evs if e["event"] == "finding" and e["matcher"] == "limit"
       and e["path"].endswith("many-parts.eml")}
assert "max-members" in lim, lim
crash = [e for e in evs if e["event"] == "error" and e.get("status") == "crash"]
assert not crash, crash
yara = [e for e in evs if e["event"] == "finding" and e["matcher"] == "yara"
        and e["path"].endswith("zip-exe.eml")]
assert [x["name"] for x in yara[0]["location"]][1:] == ["Invoice_0718.zip", "Invoice_0718.exe"], yara
PY
}

# The expectations are what GMime itself decodes: GMime's own view of the fixtures (through
# python3-gi, tests/e2e/mail_gmime_ref.py) passes the parity (a) and mail-info (d) checks. It
# has no signals, so (b) fails by design and is not looked at. Needs no mail source.
test_mail_gmime_reference() {
  mail_fixture
  /usr/bin/python3 -c 'import gi; gi.require_version("GMime", "3.0")' 2>/dev/null ||
    fail "python3-gi and gir1.2-gmime-3.0 are not installed (scripts/deps)"
  /usr/bin/python3 "$SRCDIR/tests/e2e/mail_gmime_ref.py" "$T/m" >"$T/gmime.jsonl"
  set +e; $PY "$MAIL_CHECK" "$T/m" "$T/gmime.jsonl" >"$T/out"; set -e
  assert_contains "$T/out" "(a) parity of attachments with Python's email package: 56 ok, 0 mismatches"
  assert_contains "$T/out" "(d) mail info (message_id) on findings and members: 17 ok, 0 mismatches"
}

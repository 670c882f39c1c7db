# shellcheck shell=bash
# End-to-end tests of the PST source (src/unpack/pst.c): tests/fixtures/gen_pst.py's file is
# valid for two independent readers (readpst of libpst, pffexport of libpff), and antibody yields
# each message as one MIME member named by folder, subject and date; a corrupt PST is one error.
# Sourced by e2e.sh.

pst_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_pst.py" "$T/pst"
}

test_pst_readers() {
  pst_fixture
  # readpst (libpst): folders, the three messages, the attachment and the embedded message
  mkdir -p "$T/readpst"
  run 0 readpst -S -D -o "$T/readpst" "$T/pst/sample.pst"
  local top="$T/readpst/Personal Folders"
  cmp "$top/Inbox/2-trial_data_update.exe" "$T/pst/artefact.bin" ||
    fail "readpst: the attachment is not the artefact"
  [ -f "$top/Inbox/1" ] && [ -f "$top/Inbox/1-rtf-body.rtf" ] || fail "readpst: message 1"
  assert_contains "$top/Inbox/1-rtf-body.rtf" '{\rtf1\ansi Plain message body.\par}'
  assert_contains "$top/Inbox/Research/1" "Content-Type: message/rfc822"
  assert_contains "$top/Inbox/Research/1" "Subject: Fwd: results"
  assert_contains "$top/Inbox/Research/1" "aW5uZXIgYXR0YWNobWVudDogcmVzdWx0cyB0YWJsZQo="
  # pffexport (libpff): the same, and every body format without an error
  run 0 pffexport -f all -t "$T/pffexport" "$T/pst/sample.pst"
  if grep -i "unable" "$T/out" "$T/err"; then fail "pffexport reported errors"; fi
  local px="$T/pffexport.export/Top of Personal Folders/Inbox"
  cmp "$px/Message00002/Attachments/1_trial_data_update.exe" "$T/pst/artefact.bin" ||
    fail "pffexport: the attachment is not the artefact"
  assert_contains "$px/Message00001/Message.rtf" '{\rtf1\ansi Plain message body.\par}'
  assert_contains "$px/Message00002/Message.html" 'https://trials.example.com/d'
  local inner="$px/Research/Message00001/Attachments/Attachment00001/Message00001"
  [ -f "$inner/Attachments/1_results übersicht.txt" ] || fail "pffexport: the embedded attachment"
  # the smaller file too
  mkdir -p "$T/readpst2"
  run 0 readpst -o "$T/readpst2" "$T/pst/small.pst"
  run 0 pffexport -t "$T/pffexport2" "$T/pst/small.pst"
  if grep -i "unable" "$T/out" "$T/err"; then fail "pffexport reported errors on small.pst"; fi
  # orphan.pst: libpff sees the message whose folder is gone as an orphan, as antibody does
  run 0 pffexport -m all -t "$T/pffexport3" "$T/pst/orphan.pst"
  assert_contains "$T/pffexport3.orphans/Message00001/Message.txt" "orphan body"
}

test_pst_members() {
  pst_fixture
  # the plain body: UTF-16 in the PST, UTF-8 (quoted-printable) only in the member
  printf '%s\n' 'rule pst_plain_body { meta: score = 70' \
    '  strings: $a = "Please find the updated data attached." condition: $a }' >"$T/pst.yar"
  run 1 abj --no-default-pack --list -r "$T/pst.yar" "$T/pst/sample.pst"
  $PY - "$T/out" <<'PYEOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
objs = [e["location"][1:] for e in evs if e["event"] == "object" and len(e["location"]) == 2]
want = ["Inbox/Caf\u00e9 meeting \u2013 Z\u00fcrich (2020-05-13)",
        "Inbox/Re: vaccine trial data (2020-05-14)",
        "Inbox/Research/Forwarded results (2020-06-02)"]
assert sorted(o[0]["name"] for o in objs) == want, objs
assert all(o[0]["source"] == "pst" for o in objs), objs
# the message is read by the mail source: its plain body is a part of its own, with the
# message's mail info (from the PST's transport headers)
f = [e for e in evs if e["event"] == "finding" and e["rule"] == "pst_plain_body"]
body = [e for e in f if e["location"][1:] == [{"name": want[1], "source": "pst"},
                                              {"name": "part-1.txt", "source": "mime"}]]
assert len(body) == 1, f
assert body[0]["mail"]["message_id"] == "trial-2@trials.example.com", body
assert body[0]["mail"]["subject"] == "Re: vaccine trial data" and body[0]["mail"]["part"] == "1"
s = evs[-1]
assert s["event"] == "summary" and s["errors"] == 0, s
PYEOF
  # the apt29 artefact attached to the message, found with the built-in pack
  run 1 abj "$T/pst/sample.pst"
  $PY - "$T/out" <<'PYEOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
hits = [[l["name"] for l in e["location"][1:]] for e in evs
        if e["event"] == "finding" and e["matcher"] == "yara"]
assert ["Inbox/Re: vaccine trial data (2020-05-14)", "trial_data_update.exe"] in hits, hits
PYEOF
  # --no-unpack: the PST is one object, and the text is only in its members
  run 0 abj --no-default-pack --list --no-unpack -r "$T/pst.yar" "$T/pst/sample.pst"
  assert_eq "$(count object)" 1 "one object without unpacking"
}

test_pst_corrupt() {
  pst_fixture
  mkdir -p "$T/bad"
  head -c 20000 "$T/pst/sample.pst" >"$T/bad/cut.pst"  # the B-trees are at the end
  head -c 600 "$T/pst/sample.pst" >"$T/bad/header.pst"
  run 2 abj --no-default-pack --list "$T/bad"
  $PY - "$T/out" <<'PYEOF'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
errs = sorted((e["path"].rsplit("/", 1)[1], e["message"]) for e in evs if e["event"] == "error")
assert [e[0] for e in errs] == ["cut.pst", "header.pst"], errs  # one line per file
# libpff opens both (it reads the B-trees lazily); neither has a root folder to read
assert all(m == "pst: no root folder (truncated or corrupt)" for _, m in errs), errs
PYEOF
}

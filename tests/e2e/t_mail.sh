# shellcheck shell=bash
# End-to-end tests of the mail sources (src/unpack/mime.c, mailsig.c): the apt29 artefact in a
# zip attached to a message in an mbox and in a Maildir, found with the message's location and
# mail info; --mail-index records; a password in the body opening an encrypted attachment;
# --protect-domain; hostile messages. And on the fixtures of tests/fixtures/gen_mail.py, checked
# by tests/e2e/mail_check.py: attachment parity with Python's email package, every
# phishing-signal fixture fires its rule, no signal on the clean business mail, mail info on
# findings and members. Sourced by e2e.sh.

mail_fixture() {
  $PY "$SRCDIR/tests/fixtures/gen_apt29.py" "$T/a" >/dev/null
  mkdir -p "$T/m/Maildir/cur" "$T/m/Maildir/new" "$T/m/Maildir/tmp"
  cp "$T/a/pos/APT29_SoreFang_Key_String__pe32.exe" "$T/results.exe"
  (cd "$T" && zip -q -P Vaccine2020 enc.zip results.exe)
  $PY - "$T" <<'EOF'
import email.message, io, mailbox, sys, zipfile
t = sys.argv[1]
art = open(t + "/results.exe", "rb").read()
def msg(i, subject, attach=None, body="Dear colleague,\nplease find the data attached.\n",
        frm="Alice Research <alice@partner.example>"):
    m = email.message.EmailMessage()
    m["From"] = frm
    m["To"] = "bob@our-university.ac.uk"
    m["Subject"] = subject
    m["Date"] = "Thu, 14 May 2020 10:%02d:00 +0000" % i
    m["Message-ID"] = "<m%d@partner.example>" % i
    m.set_content(body)
    if attach:
        name, data = attach
        m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return m
z = io.BytesIO()
with zipfile.ZipFile(z, "w") as zf:
    zf.writestr("results.exe", art)
mb = mailbox.mbox(t + "/m/export.mbox")
mb.add(msg(1, "Minutes"))
mb.add(msg(2, "Re: vaccine trial data", ("results.zip", z.getvalue()),
           body="See http://results.partner.example/view?id=7 for the summary.\n"))
mb.add(msg(3, "Thanks"))
mb.flush()
md = mailbox.Maildir(t + "/m/Maildir", create=False)
md.add(msg(4, "Plain note"))
md.add(msg(5, "Encrypted results", ("data.zip", open(t + "/enc.zip", "rb").read()),
           body="The archive password is: Vaccine2020\n"))
open(t + "/m/lookalike.eml", "wb").write(bytes(msg(
    6, "Password expiry", frm="IT Service <it@our-universlty.ac.uk>",
    body="Log in at https://portal.example/reset\n")))
EOF
}

test_mail_mbox_maildir() {
  mail_fixture
  run 1 abj "$T/m"
  $PY - "$T/out" "$T/m/" <<'EOF'
import json, sys
out, root = sys.argv[1], sys.argv[2]
finds = {}
for line in open(out):
    ev = json.loads(line)
    if ev["event"] != "finding":
        continue
    loc = tuple(l["name"][len(root):] if i == 0 else l["name"] for i, l in enumerate(ev["location"]))
    finds.setdefault(loc, []).append(ev)
key = ("export.mbox", "#2 <m2@partner.example>", "results.zip", "results.exe")
assert key in finds, sorted(finds)
f = [e for e in finds[key] if e["matcher"] == "yara"][0]
assert [l["source"] for l in f["location"]] == ["file", "mbox", "mime", "zip"], f["location"]
m = f["mail"]
assert m["message_id"] == "m2@partner.example" and m["subject"] == "Re: vaccine trial data", m
assert m["part"] == "2" and m["from"] == "Alice Research <alice@partner.example>", m
assert m["date_time"] == "2020-05-14T10:02:00.000Z", m
# the zip attachment itself: archive-hides-executable
z = finds[key[:3]]
assert any(e["matcher"] == "mail-signal" and e["rule"] == "archive-hides-executable" and
           e["value"] == "results.exe" for e in z), z
# Maildir: the encrypted zip opened with the body's password, and the signal on the message
md = [k for k in finds if k[0].startswith("Maildir/") and k[-1] == "results.exe"]
assert len(md) == 1 and md[0][1:] == ("data.zip", "results.exe"), sorted(finds)
msgs = [k for k in finds if k[0].startswith("Maildir/") and len(k) == 1]
assert any(e["rule"] == "encrypted-attachment-password" for k in msgs for e in finds[k]), msgs
# clean messages give nothing
assert not any(k[:2] == ("export.mbox", "#1 <m1@partner.example>") for k in finds), sorted(finds)
EOF
}

test_mail_index() {
  mail_fixture
  run 1 "$ANTIBODY" scan --mail-index --no-progress "$T/m/export.mbox"
  $PY - "$T/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
recs = [json.loads(l) for l in lines if '"event":"message"' in l]
assert [r["message_id"] for r in recs] == ["m1@partner.example", "m2@partner.example",
                                            "m3@partner.example"], recs
r = recs[1]
assert r["complete"] and r["subject"] == "Re: vaccine trial data" and len(r["sha256"]) == 64, r
att = [p for p in r["parts"] if p["attachment"]]
assert [p["name"] for p in att] == ["results.zip"] and att[0]["part"] == "2", r["parts"]
assert len(att[0]["sha256"]) == 64, att
assert r["urls"] == ["http://results.partner.example/view?id=7"], r["urls"]
# --mail-index prints no object lines of its own
assert not any('"event":"object"' in l for l in lines)
assert recs[0]["parts"][0]["name"] == "part-1.txt" and not recs[0]["parts"][0]["attachment"]
EOF
}

test_mail_protect_domain() {
  mail_fixture
  run 0 abj "$T/m/lookalike.eml"
  run 1 abj --protect-domain our-university.ac.uk "$T/m/lookalike.eml"
  $PY - "$T/out" <<'EOF'
import json, sys
sig = [json.loads(l) for l in open(sys.argv[1]) if '"mail-signal"' in l]
assert [s["rule"] for s in sig] == ["lookalike-domain"], sig
assert sig[0]["value"] == "it@our-universlty.ac.uk" and sig[0]["where"] == "mail.header", sig
assert sig[0]["mail"]["subject"] == "Password expiry", sig
EOF
  run 2 "$ANTIBODY" scan --protect-domain "not a domain" "$T/m/lookalike.eml"
  grep -q "not a domain name" "$T/err" || fail "no message for a bad --protect-domain"
}

test_mail_hostile() {
  mkdir -p "$T/h"
  $PY - "$T/h" <<'EOF'
import sys
d = sys.argv[1]
h = ("From: a@b.example\r\nTo: c@d.example\r\nSubject: many\r\nMessage-ID: <m@b.example>\r\n"
     "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n")
open(d + "/many.eml", "w").write(h + "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 100000 + "--B--\r\n")
s = h.replace('"B"', '"b0"')
for i in range(1, 3000):
    s += '--b%d\r\nContent-Type: multipart/mixed; boundary="b%d"\r\n\r\n' % (i - 1, i)
open(d + "/deep.eml", "w").write(s)
open(d + "/trunc.eml", "w").write(h + "--B\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!*")
EOF
  run 2 abj --max-members 200000 "$T/h"
  grep -q '"message":"more than 20000 parts' "$T/out" || fail "the part limit was not said"
  grep -q 'MIME nesting too deep' "$T/out" || fail "the nesting limit was not said"
  [ "$(summary_field objects)" = 3 ] || fail "not every message was scanned"
}

# ---- tests/fixtures/gen_mail.py and tests/e2e/mail_check.py ----

MAIL_CHECK="$SRCDIR/tests/e2e/mail_check.py"
mailgen_fixture() { [ -d "$T/g" ] || gen_cached "$T/g" gen_mail.py; }

# The checker itself, on fake outputs made from expect.json: a correct one passes, each kind of
# mismatch is caught. Needs no mail source.
test_mail_check_selftest() {
  mailgen_fixture
  run 0 "$PY" "$MAIL_CHECK" --selftest "$T/g"
  assert_contains "$T/out" "cases as expected"
}

# The whole fixture tree: parity (a), signals (b), clean set (c), mail info (d).
test_mail_fixtures() {
  mailgen_fixture
  run 1 abj --list --hash --protect-domain our-university.ac.uk "$T/g"
  $PY "$MAIL_CHECK" "$T/g" "$T/out" || fail "mail fixtures differ (see above)"
}

# The hostile messages end within the limits: 10^5 parts give a max-members limit, 1000-deep
# multipart nesting an error or a limit, never a crash; the sweep goes on to the other files.
test_mail_gen_hostile() {
  mailgen_fixture
  run 1 abj --list-skipped "$T/g/msg/many-parts.eml" "$T/g/msg/deep-multipart.eml" "$T/g/msg/zip-exe.eml"
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


# Network and mail IOCs on what the mail sources observe: a defanged URL in the text body
# (mail.body), a link in the HTML body (html.href), the sender address and a Received hop's IP
# (mail.header); each a finding of matcher "observable" on the object it was found in.
test_mail_iocs() {
  mkdir -p "$T/i"
  $PY - "$T/i/m.eml" <<'EOF'
import email.message, sys
m = email.message.EmailMessage()
m["From"] = "Bad Actor <harvest@collector.example>"
m["To"] = "bob@our-university.ac.uk"
m["Subject"] = "results"
m["Message-ID"] = "<ioc1@collector.example>"
m["Received"] = "from relay (relay [198.51.100.23]) by mx.our-university.ac.uk"
m.set_content("Portal: hxxps://portal.wellmess-c2[.]example/login?u=1 (copy it)\n")
m.add_alternative('<html><body><a href="https://cdn.sorefang.example/x.zip">the data</a></body></html>',
                  subtype="html")
open(sys.argv[1], "wb").write(bytes(m))
EOF
  printf 'domain\twellmess-c2.example\tC2\t\t80\nurl\thttps://cdn.sorefang.example/x.zip\tdownload\t\t70\n' >"$T/i/c2.ioc"
  printf 'email\tHarvest@Collector.example\tsender\t\t60\nip\t198.51.100.23\trelay\t\t50\n' >>"$T/i/c2.ioc"
  run 1 abj --no-default-pack -i "$T/i/c2.ioc" "$T/i/m.eml"
  $PY - "$T/out" <<'EOF'
import json, sys
fs = [json.loads(l) for l in open(sys.argv[1]) if '"matcher":"observable"' in l]
got = sorted((f["rule"], f["value"], f["where"], [l["name"] for l in f["location"]][1:]) for f in fs)
assert got == [
    ("198.51.100.23", "198.51.100.23", "mail.header", []),
    ("harvest@collector.example", "harvest@collector.example", "mail.header", []),
    ("https://cdn.sorefang.example/x.zip", "https://cdn.sorefang.example/x.zip", "html.href",
     ["part-2.html"]),
    ("wellmess-c2.example", "portal.wellmess-c2.example", "mail.body", []),
], got
assert all(f["mail"]["message_id"] == "ioc1@collector.example" for f in fs), fs
EOF
}

# An HTML body that starts with text, not a tag: the HTML source reads it because its MIME type
# says text/html (ab_member.media_type), and its link's text names another domain.
test_mail_html_text_body() {
  mkdir -p "$T/h"
  $PY - "$T/h/m.eml" <<'EOF'
import email.message, sys
m = email.message.EmailMessage()
m["From"] = "IT <it@partner.example>"
m["To"] = "bob@our-university.ac.uk"
m["Subject"] = "Mailbox quota"
m["Message-ID"] = "<h1@partner.example>"
m.set_content("Your mailbox is full.")
m.add_alternative('Hello,<br>log in at <a href="https://quota-check.example/l">'
                  'https://www.our-university.ac.uk/login</a>', subtype="html")
open(sys.argv[1], "wb").write(bytes(m))
EOF
  run 1 abj "$T/h/m.eml"
  $PY - "$T/out" <<'EOF'
import json, sys
fs = [json.loads(l) for l in open(sys.argv[1]) if '"finding"' in l]
got = [(f["rule"], [l["name"] for l in f["location"]][1:], f["value"]) for f in fs]
assert got == [("link-text-mismatch", ["part-2.html"], "https://quota-check.example/l")], got
EOF
}

# --mail-index: a message whose only part is another message still lists it as a part (the
# inner message's object arrives before anything else of the outer one).
test_mail_index_embedded() {
  mkdir -p "$T/e"
  $PY - "$T/e/fwd.eml" <<'EOF'
import email.message, sys
inner = email.message.EmailMessage()
inner["From"] = "a@partner.example"
inner["Subject"] = "inner"
inner["Message-ID"] = "<inner1@partner.example>"
inner.set_content("see http://inner.example/x\n")
m = email.message.EmailMessage()
m["From"] = "b@partner.example"
m["To"] = "c@our-university.ac.uk"
m["Subject"] = "Fwd: inner"
m["Message-ID"] = "<outer1@partner.example>"
m.set_content(inner)  # message/rfc822 as the whole body
open(sys.argv[1], "wb").write(bytes(m))
EOF
  run 0 "$ANTIBODY" scan --mail-index --no-progress --allow-empty "$T/e/fwd.eml"
  $PY - "$T/out" <<'EOF'
import json, sys
recs = {r["message_id"]: r for r in (json.loads(l) for l in open(sys.argv[1]))
        if r.get("event") == "message"}
assert set(recs) == {"inner1@partner.example", "outer1@partner.example"}, recs
outer = recs["outer1@partner.example"]
assert outer["complete"] and [p["name"] for p in outer["parts"]] == ["part-1.eml"], outer
assert outer["urls"] == ["http://inner.example/x"], outer
EOF
}

# A big mbox is split across workers (core/pool.c, unpack.h ab_mbox_range): the same messages are
# found, numbered and counted as when one worker reads it all; a crash in a part costs that part
# and says which messages; the per-file budget is shared by the parts. Parts are made small here
# with ANTIBODY_TEST_SPLIT_CHUNK (test builds only): 600 messages of about 1 KB, parts of 20 KB.
test_mail_mbox_split() {
  $PY - "$T/big.mbox" <<'EOF2'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(1, 601):
        f.write(b"From a@b.test Sat Aug  1 00:00:00 2020\n")
        f.write(b"From: a@b.test\nTo: c@d.test\nSubject: m%d\nMessage-ID: <m%d@b.test>\n\n" % (i, i))
        body = b"".join(b"filler line %d of message %d\n" % (k, i) for k in range(40))
        if i in (1, 77, 300, 301, 599, 600):
            body += b"SPLIT" + b"MARKER here\n"
        f.write(body + b"\n")
EOF2
  printf 'rule SplitMark { strings: $a = "SPLITMARKER" condition: $a }\n' >"$T/s.yar"
  local opts=(--no-default-pack --rules "$T/s.yar" --list)
  run 1 abj -j 1 "${opts[@]}" "$T/big.mbox"
  cp "$T/out" "$T/one.jsonl"
  ANTIBODY_TEST_SPLIT_CHUNK=20000 run 1 abj -j 2 "${opts[@]}" "$T/big.mbox"
  cp "$T/out" "$T/split.jsonl"
  ANTIBODY_TEST_SPLIT_CHUNK=20000 ANTIBODY_TEST_FAULT=crash-part:big.mbox \
    run 1 abj -j 2 "${opts[@]}" "$T/big.mbox"
  cp "$T/out" "$T/crash.jsonl"
  ANTIBODY_TEST_SPLIT_CHUNK=20000 run 1 abj -j 2 --no-default-pack --rules "$T/s.yar" \
    --max-members 100 "$T/big.mbox"
  cp "$T/out" "$T/limit.jsonl"
  $PY - "$T" "$(stat -c %s "$T/big.mbox")" <<'EOF2'
import json, sys
t, size = sys.argv[1], int(sys.argv[2])
def load(name):
    evs = [json.loads(l) for l in open(f"{t}/{name}.jsonl")]
    locs = lambda kind: sorted("!".join(e["name"] for e in ev["location"])
                               for ev in evs if ev["event"] == kind)
    summ = [e for e in evs if e["event"] == "summary"][0]
    return evs, locs("finding"), locs("object"), summ
_, f1, o1, s1 = load("one")
_, f2, o2, s2 = load("split")
marked = {"#%d <m%d@b.test>" % (i, i) for i in (1, 77, 300, 301, 599, 600)}
got = {l.split("!")[1] for l in f2 if "!" in l}
assert got == marked, ("split findings", sorted(got))
assert f1 == f2, "findings differ between one worker and a split"
assert o1 == o2, "listed objects differ between one worker and a split"
for k in ("objects", "bytes", "members", "member_bytes", "findings"):
    assert s1[k] == s2[k], (k, s1[k], s2[k])
assert s2["objects"] == 1 and s2["bytes"] == size and s2["members"] == 1200, s2
# a crash in every part but the owner's: each part is one error naming its first message, the
# owner's messages (from #1) are still found
evs, f3, _, s3 = load("crash")
errs = [e for e in evs if e["event"] == "error"]
assert len(errs) >= 3, len(errs)
firsts = []
for e in errs:
    m = e["message"]
    assert "in the part of this mbox from message #" in m, m
    firsts.append(int(m.split("from message #")[1].split(" ")[0]))
assert sorted(firsts) == sorted(set(firsts)) and min(firsts) > 1, firsts
assert any(l.endswith("!#1 <m1@b.test>") for l in f3), f3
assert s3["errors"] == len(errs), s3
# the budget: the parts' shares of --max-members 100 add up to at most 100
evs, f4, _, s4 = load("limit")
assert 50 <= s4["members"] <= 100, s4["members"]
lim = [e for e in evs if e["event"] == "finding" and e["matcher"] == "limit"]
assert lim and all("share of an mbox split across workers" in e["reason"] for e in lim), lim
print("ok", len(errs), "part errors;", s4["members"], "members under the limit")
EOF2
}

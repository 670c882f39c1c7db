/* smtp.h: the SMTP parser of the network pipeline (an ab_app_proto of net.h), both directions of
 * one TCP flow, ESMTP (RFC 5321) with PIPELINING, CHUNKING (BDAT) and STARTTLS.
 *
 * detect: by content only: the server's first bytes are a 220 greeting ("220 " or "220-"), or
 * the client's are "EHLO " or "HELO " (any case). TLS from the first byte (WellMail on port 25)
 * is not SMTP: the TLS parser claims it.
 *
 * Lines end at LF (a CR before it is dropped) and are bounded by lim->max_line: a longer line
 * is skipped to its end ("line_too_long"). Commands: HELO/EHLO (the name), MAIL FROM, RCPT TO
 * (at most SMTP_MAX_RCPT kept per transaction, "rcpt_to_cut" past that; each is still an
 * observable), DATA, BDAT, RSET, AUTH (the mechanism only: the initial response and the
 * client's answers to 334 challenges are never read or kept), STARTTLS. Replies: 3 digits then
 * '-' (more lines follow) or ' ' / end; replies are paired with the commands waiting for them
 * (at most SMTP_MAX_PIPELINE) so that a DATA the server refuses (not 354) takes the client out
 * of the message again when nothing of it came, and a non-334 reply ends AUTH. A line that is
 * not a reply is counted ("bad_reply") and skipped.
 *
 * DATA: the message is read from the line after DATA to "<CRLF>.<CRLF>" (a bare LF is taken for
 * CRLF), a leading dot removed from every line (RFC 5321 4.5.2); BDAT: the chunks' bytes as
 * they are, the message ends with the LAST chunk. Up to lim->max_body bytes of it are kept and
 * given to out->object with names {"message-N"} (N from 1 in the flow), media_type
 * "message/rfc822", truncated when more came (an empty one gives none); a gap or the end of the
 * flow inside it gives what came ("message_incomplete").
 *
 * STARTTLS: after the client sent STARTTLS, a direction whose next line would begin with 0x16
 * (a TLS handshake record: the server's 220 came, the client started TLS) goes on in an
 * embedded ab_app_tls state (tls.h), whose observables and record are those of the TLS parser,
 * with the flow's app "smtp+tls" from then on (SMTP records after it too). When the TLS parser
 * gives up (it says why), the rest of the flow is ignored and the SMTP session is still
 * reported at close.
 *
 * Observables: MAIL FROM and RCPT TO addresses (when they have an '@') as "email" where
 * "smtp.mail_from" / "smtp.rcpt_to"; the HELO/EHLO name as "domain" where "smtp.helo" when it is
 * a host name, or "ip" when it is an address literal ([192.0.2.1], [IPv6:2001:db8::1]).
 *
 * Records: one per mail transaction, when its message ended, or when RSET, a new MAIL FROM or
 * the end of the flow ended it without one; and one for the session at the end of the flow when
 * no transaction was reported. At most lim->max_tx records, then data returns -1 (said through
 * out->error). Keys in this order, left out when there is nothing to say:
 *   "type": "smtp", "banner" (the first line of the server's greeting, after the code), "helo"
 *   (the last HELO/EHLO name), "helo_command" ("EHLO" or "HELO"), "starttls" (bool, always:
 *   TLS started), "auth" (the last AUTH mechanism, upper case), "mail_from" (the reverse path,
 *   "" for the null sender <>), "rcpt_to" [forward paths], "rcpt_to_cut" (bool), "message" (N
 *   of the object "message-N"), "message_size" (unstuffed bytes, all of them), "bdat" (bool:
 *   sent with BDAT), "message_truncated" (bool: the object kept only lim->max_body bytes),
 *   "message_incomplete" (bool), "data_rejected" (the reply code of a DATA the server
 *   refused), "aborted" (bool: ended without a message),
 *   "anomalies" ["line_too_long", "bad_reply", "pipeline_overflow"] (in the session so far).
 * Strings are kept up to SMTP_MAX_FIELD bytes; strings that are not UTF-8 get "<key>_b64". */
#ifndef AB_NET_SMTP_H
#define AB_NET_SMTP_H

#include "net/net.h"

#define SMTP_MAX_RCPT     100  /* RCPT TO kept per transaction (RFC 5321 4.5.3.1.8 minimum) */
#define SMTP_MAX_PIPELINE 128  /* commands waiting for their replies */
#define SMTP_MAX_FIELD    1024 /* bytes of a banner, HELO name or address kept */

extern const ab_app_proto ab_app_smtp;

#endif

/* mailsig.h: phishing signals of messages and their attachments (docs/mail-signals.md), and
 * what the mail source looks for in text bodies (URLs, passwords). Each signal is a finding of
 * matcher "mail-signal" on the message (ab_unpack_signal): a stable rule name, a score, a
 * reason. Everything here is offline: no DNS, no network, ever. */
#ifndef AB_MAILSIG_H
#define AB_MAILSIG_H

#include <stddef.h>
#include <stdint.h>

#include "unpack/unpack.h"

/* Scores (docs/mail-signals.md). */
#define AB_SIG_REPLY_TO           40
#define AB_SIG_RETURN_PATH        20
#define AB_SIG_DISPLAY_NAME       50
#define AB_SIG_SPF_FAIL           40
#define AB_SIG_DKIM_FAIL          40
#define AB_SIG_DMARC_FAIL         50
#define AB_SIG_DOUBLE_EXT         60
#define AB_SIG_RTL_OVERRIDE       70
#define AB_SIG_EXECUTABLE         40
#define AB_SIG_ARCHIVE_EXECUTABLE 50
#define AB_SIG_ENCRYPTED_PASSWORD 40

#define AB_MAIL_MAX_PASSWORD 64

struct _GMimeObject;

/* Header-level signals of a parsed message (a GMimeMessage): reply-to-mismatch,
 * return-path-mismatch, display-name-address, auth-*-fail. from_domain: the registered domain
 * of the From address ("" when none). */
void ab_mail_header_signals(ab_unpack *u, struct _GMimeObject *msg, const char *from_domain);

/* Signals of one attachment by its name, type and bytes: attachment-double-extension,
 * attachment-rtl-override, attachment-executable. Sets *encrypted_archive when the bytes are a
 * zip with an encrypted member. */
void ab_mail_attachment_signals(ab_unpack *u, const char *name, const char *mime_type,
                                const uint8_t *data, size_t len, int *encrypted_archive);

/* 1 when a member name (or file name) has an executable or script type (exe, scr, js, lnk,
 * iso, ...): what attachment-executable and archive-hides-executable look for. */
int ab_mail_name_is_executable(const char *name, size_t len);

/* URLs in a text body, observed as "url" (defanged bare domains as "domain", defanged bare IPv4
 * addresses as "ip") in where; defanged spellings refanged (match/url.h). */
void ab_mail_text_urls(ab_unpack *u, const char *text, size_t len, const char *where);

/* The first password a text gives for an attachment ("password: X", "the password is X",
 * "Passwort: X", "mot de passe : X", "contraseña: X", "pwd: X"), into out (NUL-terminated); its
 * length, 0 when none. *used: bytes of text consumed (search again from there). */
size_t ab_mail_find_password(const char *text, size_t len, char *out, size_t cap, size_t *used);

#endif

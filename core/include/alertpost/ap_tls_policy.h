/**
 * @file ap_tls_policy.h
 * @brief TLS version policy: a floor, not a pin.
 *
 * Versions are their wire values (0x0303 is TLS 1.2), so that a version a
 * server chose can be named even when it is one alertpost refuses.
 */
#ifndef ALERTPOST_AP_TLS_POLICY_H
#define ALERTPOST_AP_TLS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alertpost/ap_status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t ap_tls_version_t;

#define AP_TLS_VERSION_DEFAULT ((ap_tls_version_t)0) /**< floor 1.2 / highest built */
#define AP_TLS_SSL_3_0 ((ap_tls_version_t)0x0300)
#define AP_TLS_1_0 ((ap_tls_version_t)0x0301)
#define AP_TLS_1_1 ((ap_tls_version_t)0x0302)
#define AP_TLS_1_2 ((ap_tls_version_t)0x0303)
#define AP_TLS_1_3 ((ap_tls_version_t)0x0304)

/** The lowest version alertpost will ever negotiate. Not configurable. */
#define AP_TLS_FLOOR AP_TLS_1_2

/**
 * @brief Turn the caller's wishes into the range to configure.
 *
 * @param want_min  AP_TLS_VERSION_DEFAULT (the floor), AP_TLS_1_2 or AP_TLS_1_3.
 * @param want_max  AP_TLS_VERSION_DEFAULT (highest_built), AP_TLS_1_2 or AP_TLS_1_3.
 * @param highest_built  the highest version the TLS library was built with.
 * @param out_min, out_max  the range, on AP_OK.
 * @return AP_OK;
 *         AP_ERR_BAD_ARG: want_min below the floor (TLS 1.0/1.1 are never
 *           allowed), an unknown version, want_max above highest_built,
 *           want_min above want_max, or a NULL output.
 */
ap_status_t ap_tls_policy_resolve(ap_tls_version_t want_min,
                                  ap_tls_version_t want_max,
                                  ap_tls_version_t highest_built,
                                  ap_tls_version_t *out_min,
                                  ap_tls_version_t *out_max);

/** "TLS 1.2", "SSL 3.0", ... or "an unknown version" for anything else. */
const char *ap_tls_version_str(ap_tls_version_t version);

/**
 * What the first bytes from a server reveal about the version it speaks, so a
 * refusal can say "the server chose TLS 1.0" instead of a bare alert number.
 * Fed the raw (encrypted-stream) bytes as they arrive; pure and bounded: it
 * reads the first records only while they carry the ServerHello, and keeps
 * no more than the fields below.
 *
 * A TLS 1.3 ServerHello says TLS 1.2 in its legacy_version field and names
 * TLS 1.3 in its supported_versions extension (RFC 8446 4.1.3), so the
 * sniffer reads the whole ServerHello before it reports a version of 1.2.
 */
typedef struct ap_tls_sniff {
    ap_tls_version_t record_version;  /**< of the first record; 0 if none yet */
    ap_tls_version_t hello_version;   /**< version the ServerHello chose; 0 until it is known */
    uint8_t first_type;               /**< content type of the first record */
    uint8_t alert_level;              /**< when the first record is an alert */
    uint8_t alert_desc;               /**< when the first record is an alert */
    /* private: the record and ServerHello parsers' state */
    uint8_t rec_hdr[5];
    uint8_t rec_have;
    uint16_t rec_left;
    uint32_t off;                     /* offset in the ServerHello message */
    uint32_t msg_end;                 /* offset of its last byte */
    uint32_t ext_end;                 /* offset of the last extensions byte */
    uint32_t next_ext;                /* offset of the next extension header */
    uint32_t acc;
    uint16_t legacy;
    uint16_t ext_type;
    uint16_t selected;
    bool done;
} ap_tls_sniff_t;

void ap_tls_sniff_init(ap_tls_sniff_t *s);
void ap_tls_sniff_feed(ap_tls_sniff_t *s, const uint8_t *data, size_t len);

/**
 * The version the server revealed, or 0 if it revealed none: the version the
 * ServerHello chose (supported_versions, else legacy_version) if known, else the first record's version when the first record is
 * an alert or handshake.
 */
ap_tls_version_t ap_tls_sniff_server_version(const ap_tls_sniff_t *s);

#ifdef __cplusplus
}
#endif

#endif /* ALERTPOST_AP_TLS_POLICY_H */

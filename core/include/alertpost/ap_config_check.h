/**
 * @file ap_config_check.h
 * @brief Refuses option combinations that cannot work. Included by ap_config.h.
 */
#ifndef ALERTPOST_AP_CONFIG_CHECK_H
#define ALERTPOST_AP_CONFIG_CHECK_H

#if AP_MAX_HOST_LEN < 1 || AP_MAX_HOST_LEN > 253
#error "AP_MAX_HOST_LEN must be between 1 and 253 (the longest DNS name)"
#endif

#if AP_HTTP_MAX_HEAD_BYTES < 256
#error "AP_HTTP_MAX_HEAD_BYTES below 256 cannot hold an ordinary response head"
#endif

#if AP_HTTP_MAX_HEADERS < 8
#error "AP_HTTP_MAX_HEADERS below 8 rejects ordinary responses"
#endif

#if AP_MAX_PINS < 1
#error "AP_MAX_PINS must be at least 1 (set no pins at run time to not pin)"
#endif

#if AP_ERROR_TEXT_SIZE < 64
#error "AP_ERROR_TEXT_SIZE below 64 truncates every error message"
#endif

#if AP_DEFAULT_CONNECT_TIMEOUT_MS == 0 || AP_DEFAULT_IO_TIMEOUT_MS == 0 || AP_DEFAULT_DEADLINE_MS == 0
#error "a default timeout of 0 would mean 'wait forever': every step must be bounded"
#endif

#if AP_QUEUE_MAX_HEADERS < 0 || AP_QUEUE_MAX_HEADERS > 255
#error "AP_QUEUE_MAX_HEADERS must be between 0 and 255 (a record counts them in one byte)"
#endif

#if AP_DEFAULT_BACKOFF_BASE_MS == 0 || AP_DEFAULT_BACKOFF_CAP_MS < AP_DEFAULT_BACKOFF_BASE_MS
#error "the default backoff needs a base of at least 1 ms and a cap no lower than the base"
#endif

#if AP_DEFAULT_BACKOFF_CAP_MS > 0x7FFFFFFFu || AP_DEFAULT_RETRY_AFTER_CAP_MS > 0x7FFFFFFFu
#error "a delay must stay below 2^31 ms for wrap-safe comparison with a 32-bit clock"
#endif

#if AP_PIPELINE_MAX < 1 || AP_PIPELINE_MAX > 64
#error "AP_PIPELINE_MAX must be between 1 and 64: a larger window risks filling the sockets' buffers"
#endif

#if AP_QUEUE_MAX_IN_FLIGHT < 1 || AP_QUEUE_MAX_IN_FLIGHT > AP_PIPELINE_MAX
#error "AP_QUEUE_MAX_IN_FLIGHT must be between 1 and AP_PIPELINE_MAX"
#endif

#if AP_PIPELINE_READ_SIZE < 64
#error "AP_PIPELINE_READ_SIZE below 64 makes a read per status line"
#endif

#if AP_PIPELINE_WRITE_SIZE < 256
#error "AP_PIPELINE_WRITE_SIZE below 256 holds no ordinary request: every one would be written alone"
#endif

#if AP_ANCHORS_PEM != 0 && AP_ANCHORS_PEM != 1
#error "AP_ANCHORS_PEM must be 0 (DER trust stores only) or 1"
#endif

#if AP_CLIENT_KEY_BYTES != 0 && AP_CLIENT_KEY_BYTES != 1
#error "AP_CLIENT_KEY_BYTES must be 0 (PSA key ids and signers only) or 1"
#endif

#if AP_ERROR_HINTS != 0 && AP_ERROR_HINTS != 1
#error "AP_ERROR_HINTS must be 0 (error texts without advice) or 1"
#endif

#if AP_TLS_MAX_FRAGMENT_LEN != 0 && AP_TLS_MAX_FRAGMENT_LEN != 512 && \
    AP_TLS_MAX_FRAGMENT_LEN != 1024 && AP_TLS_MAX_FRAGMENT_LEN != 2048 && \
    AP_TLS_MAX_FRAGMENT_LEN != 4096
#error "AP_TLS_MAX_FRAGMENT_LEN must be 0, 512, 1024, 2048 or 4096 (RFC 6066's sizes)"
#endif

#endif /* ALERTPOST_AP_CONFIG_CHECK_H */

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

#endif /* ALERTPOST_AP_CONFIG_CHECK_H */

/**
 * @file lan9118.h
 * @brief SMSC LAN9118 (LAN9220 on MPS2 hardware) Ethernet controller as an
 * lwIP network interface, polled, for NO_SYS=1 firmware.
 *
 * Use:
 * @code
 *   static ap_mps2_lan9118_t eth = { .base = ..., .mac = AP_MPS2_LAN9118_DEFAULT_MAC };
 *   static struct netif nif;
 *   netif_add(&nif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, &eth,
 *             ap_mps2_lan9118_init, ethernet_input);
 *   for (;;) { ap_mps2_lan9118_poll(&nif); sys_check_timeouts(); ... }
 * @endcode
 * Interrupts stay disabled: frames wait in the controller's FIFOs (about
 * 10 KiB of receive space) until the next poll, so poll often.
 *
 * The ap_mps2_lan9118_t and the netif must outlive the program's use of the
 * network: the driver keeps an lwIP timer pointing at the netif to follow
 * the PHY's link state.
 */
#ifndef AP_MPS2_LAN9118_H
#define AP_MPS2_LAN9118_H

#include <stdint.h>

#include "lwip/err.h"
#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The MAC address the board uses unless told otherwise: locally
 * administered (bit 1 of the first octet set) and unicast (bit 0 clear),
 * so it can never clash with a vendor-assigned address. QEMU's user-mode
 * network accepts any address; two guests on one LAN need distinct ones.
 */
#define AP_MPS2_LAN9118_DEFAULT_MAC { 0x02, 0x41, 0x50, 0x4d, 0x32, 0x01 }

/** Largest frame the driver moves, without the CRC: 1500 + 14 + a VLAN tag. */
#define AP_MPS2_LAN9118_MAX_FRAME 1518u

/** One controller. Set base and mac before netif_add(); the rest is the driver's. */
typedef struct ap_mps2_lan9118 {
    uintptr_t base;  /**< Register block address (ap_mps2_board.lan9118_base). */
    uint8_t mac[6];  /**< The station address to program. */

    uint32_t id_rev;     /**< ID_REV as read by init: chip id << 16 | revision. */
    uint32_t rx_frames;  /**< Frames handed to lwIP. */
    uint32_t rx_errors;  /**< Frames the controller flagged bad, or too long. */
    uint32_t rx_dropped; /**< Good frames lost for want of a pbuf. */
    uint32_t tx_frames;  /**< Frames written to the transmit FIFO. */
    uint32_t tx_errors;  /**< Frames the controller reported failing to send. */
    uint32_t tx_busy;    /**< Frames refused because the FIFO stayed full. */
    uint8_t link_up;     /**< The PHY's link state at the last check. */

    /* One frame's bounce buffer, word-aligned for the 32-bit FIFO port. */
    uint32_t frame[(AP_MPS2_LAN9118_MAX_FRAME + 4u + 3u) / 4u];
} ap_mps2_lan9118_t;

/**
 * Reads the ID_REV register of the controller at base (0x01180001 for the
 * LAN9118 QEMU models). Touches nothing else; safe before init.
 */
uint32_t ap_mps2_lan9118_read_id(uintptr_t base);

/**
 * lwIP netif init function (pass to netif_add() with the
 * ap_mps2_lan9118_t as state): checks the bus (BYTE_TEST) and the chip id,
 * soft-resets the controller, programs the MAC address, restarts PHY
 * auto-negotiation, enables the transmitter and receiver, and fills in the
 * netif (Ethernet, ARP, broadcast; link up if the PHY reports a link).
 *
 * @return ERR_OK; ERR_ARG if netif or its state is NULL; ERR_IF if the
 *         controller does not answer as a LAN9118 family chip or does not
 *         finish its reset.
 */
err_t ap_mps2_lan9118_init(struct netif *netif);

/**
 * Moves received frames into lwIP (netif->input) and retires transmit
 * status. Handles at most a handful of frames per call, so a flood cannot
 * starve the caller's loop.
 *
 * @return the number of frames handed to lwIP (0 when none waited).
 */
int ap_mps2_lan9118_poll(struct netif *netif);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_LAN9118_H */

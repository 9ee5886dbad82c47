/*
 * SMSC LAN9118 driver as a polled lwIP netif.
 *
 * The controller is driven through its 32-bit register window only:
 *  - frames leave through the TX data FIFO: command word A (segment flags
 *    and buffer size), command word B (tag and frame length), then the
 *    frame as little-endian words;
 *  - frames arrive in the RX data FIFO, announced by entries in the RX
 *    status FIFO (length including the 4-byte CRC, error flag); the driver
 *    reads exactly ceil(length / 4) words per frame and drops the CRC;
 *  - MAC registers sit behind MAC_CSR_CMD/MAC_CSR_DATA, and the PHY behind
 *    the MAC's MII_ACC/MII_DATA.
 * Only registers that QEMU's model implements are used (its model aborts
 * the emulator on unknown MAC register numbers), and every wait for the
 * hardware is bounded.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lan9118.h"

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#if ETH_PAD_SIZE != 0
#error "the LAN9118 driver copies frames unpadded: build lwIP with ETH_PAD_SIZE 0"
#endif

/* ---- System control and status registers (offsets from base) ---------- */
#define LAN_RX_DATA_FIFO   0x00u
#define LAN_TX_DATA_FIFO   0x20u
#define LAN_RX_STATUS_FIFO 0x40u
#define LAN_TX_STATUS_FIFO 0x48u
#define LAN_ID_REV         0x50u
#define LAN_IRQ_CFG        0x54u
#define LAN_INT_STS        0x58u
#define LAN_INT_EN         0x5cu
#define LAN_BYTE_TEST      0x64u
#define LAN_RX_CFG         0x6cu
#define LAN_TX_CFG         0x70u
#define LAN_HW_CFG         0x74u
#define LAN_RX_FIFO_INF    0x7cu
#define LAN_TX_FIFO_INF    0x80u
#define LAN_PMT_CTRL       0x84u
#define LAN_MAC_CSR_CMD    0xa4u
#define LAN_MAC_CSR_DATA   0xa8u
#define LAN_E2P_CMD        0xb0u

#define LAN_BYTE_TEST_VALUE 0x87654321u
#define LAN_HW_CFG_SRST     (1u << 0)
#define LAN_PMT_CTRL_READY  (1u << 0)
#define LAN_E2P_CMD_BUSY    (1u << 31)
#define LAN_TX_CFG_TX_ON    (1u << 1)
#define LAN_TX_CFG_TXSAO    (1u << 2) /* let TX status overrun: we only count */

#define LAN_FIFO_INF_STATUS_USED(v) (((v) >> 16) & 0xffu)
#define LAN_TX_FIFO_INF_FREE(v)     ((v) & 0xffffu)

#define LAN_RX_STS_LENGTH(v) (((v) >> 16) & 0x3fffu)
#define LAN_RX_STS_ERROR     (1u << 15)
#define LAN_TX_STS_ERROR     (1u << 15)

#define LAN_TX_CMD_A_FIRST (1u << 13)
#define LAN_TX_CMD_A_LAST  (1u << 12)

/* ---- MAC CSRs, behind MAC_CSR_CMD ------------------------------------- */
#define LAN_MAC_CSR_BUSY  (1u << 31)
#define LAN_MAC_CSR_READ  (1u << 30)
#define LAN_MAC_CR        1u
#define LAN_MAC_ADDRH     2u
#define LAN_MAC_ADDRL     3u
#define LAN_MAC_MII_ACC   6u
#define LAN_MAC_MII_DATA  7u

#define LAN_MAC_CR_FDPX (1u << 20)
#define LAN_MAC_CR_TXEN (1u << 3)
#define LAN_MAC_CR_RXEN (1u << 2)

#define LAN_MII_BUSY  (1u << 0)
#define LAN_MII_WRITE (1u << 1)

/* ---- The internal PHY ---------------------------------------------------- */
#define LAN_PHY_ADDR      1u
#define LAN_PHY_BCR       0u
#define LAN_PHY_BSR       1u
#define LAN_PHY_BCR_ANEG_ENABLE  (1u << 12)
#define LAN_PHY_BCR_ANEG_RESTART (1u << 9)
#define LAN_PHY_BSR_LINK_UP      (1u << 2)

/*
 * Bounds on waiting for the controller. The datasheet allows the soft
 * reset and EEPROM load milliseconds; these are far above that in loop
 * iterations at 25 MHz yet end a wait for a dead chip within a second.
 */
#define LAN_SPIN_LIMIT 200000u

/* Frames handled per poll: enough to empty a burst, few enough to return. */
#define LAN_POLL_BUDGET 8

/* How often the PHY's link state is checked. */
#define LAN_LINK_CHECK_MS 1000u

/* The smallest frame worth passing up: an Ethernet header and the CRC. */
#define LAN_MIN_RX_LEN (14u + 4u)

static uint32_t rd(const ap_mps2_lan9118_t *dev, uint32_t reg)
{
    return *(volatile const uint32_t *)(dev->base + reg);
}

static void wr(const ap_mps2_lan9118_t *dev, uint32_t reg, uint32_t v)
{
    *(volatile uint32_t *)(dev->base + reg) = v;
}

/* Waits until (reg & mask) == want; false if it never happens. */
static bool wait_reg(const ap_mps2_lan9118_t *dev, uint32_t reg,
                     uint32_t mask, uint32_t want)
{
    uint32_t i;

    for (i = 0; i < LAN_SPIN_LIMIT; i++) {
        if ((rd(dev, reg) & mask) == want) {
            return true;
        }
    }
    return false;
}

static bool mac_read(const ap_mps2_lan9118_t *dev, uint32_t index, uint32_t *out)
{
    if (!wait_reg(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY, 0u)) {
        return false;
    }
    wr(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY | LAN_MAC_CSR_READ | index);
    if (!wait_reg(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY, 0u)) {
        return false;
    }
    *out = rd(dev, LAN_MAC_CSR_DATA);
    return true;
}

static bool mac_write(const ap_mps2_lan9118_t *dev, uint32_t index, uint32_t v)
{
    if (!wait_reg(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY, 0u)) {
        return false;
    }
    wr(dev, LAN_MAC_CSR_DATA, v);
    wr(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY | index);
    return wait_reg(dev, LAN_MAC_CSR_CMD, LAN_MAC_CSR_BUSY, 0u);
}

static bool mii_wait_idle(const ap_mps2_lan9118_t *dev)
{
    uint32_t i;
    uint32_t acc;

    for (i = 0; i < LAN_SPIN_LIMIT; i++) {
        if (!mac_read(dev, LAN_MAC_MII_ACC, &acc)) {
            return false;
        }
        if ((acc & LAN_MII_BUSY) == 0u) {
            return true;
        }
    }
    return false;
}

static uint32_t mii_cmd(uint32_t phy_reg, uint32_t flags)
{
    return (LAN_PHY_ADDR << 11) | ((phy_reg & 0x1fu) << 6) | flags | LAN_MII_BUSY;
}

static bool phy_read(const ap_mps2_lan9118_t *dev, uint32_t phy_reg, uint32_t *out)
{
    return mii_wait_idle(dev) &&
           mac_write(dev, LAN_MAC_MII_ACC, mii_cmd(phy_reg, 0u)) &&
           mii_wait_idle(dev) &&
           mac_read(dev, LAN_MAC_MII_DATA, out);
}

static bool phy_write(const ap_mps2_lan9118_t *dev, uint32_t phy_reg, uint32_t v)
{
    return mii_wait_idle(dev) &&
           mac_write(dev, LAN_MAC_MII_DATA, v & 0xffffu) &&
           mac_write(dev, LAN_MAC_MII_ACC, mii_cmd(phy_reg, LAN_MII_WRITE)) &&
           mii_wait_idle(dev);
}

static bool phy_link_up(const ap_mps2_lan9118_t *dev)
{
    uint32_t bsr = 0;

    /* The link bit latches low until read: the second read is current. */
    if (!phy_read(dev, LAN_PHY_BSR, &bsr) || !phy_read(dev, LAN_PHY_BSR, &bsr)) {
        return false;
    }
    return (bsr & LAN_PHY_BSR_LINK_UP) != 0u;
}

static bool known_chip(uint32_t id_rev)
{
    static const uint16_t ids[] = { 0x0115u, 0x0116u, 0x0117u, 0x0118u,
                                    0x9220u };
    size_t i;

    for (i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if ((id_rev >> 16) == ids[i]) {
            return true;
        }
    }
    return false;
}

uint32_t ap_mps2_lan9118_read_id(uintptr_t base)
{
    return *(volatile const uint32_t *)(base + LAN_ID_REV);
}

static void link_check(void *arg)
{
    struct netif *netif = (struct netif *)arg;
    ap_mps2_lan9118_t *dev = (ap_mps2_lan9118_t *)netif->state;
    bool up = phy_link_up(dev);

    if (up && !dev->link_up) {
        netif_set_link_up(netif);
    } else if (!up && dev->link_up) {
        netif_set_link_down(netif);
    }
    dev->link_up = up ? 1u : 0u;
    sys_timeout(LAN_LINK_CHECK_MS, link_check, netif);
}

static err_t lan9118_linkoutput(struct netif *netif, struct pbuf *p)
{
    ap_mps2_lan9118_t *dev = (ap_mps2_lan9118_t *)netif->state;
    uint32_t len = p->tot_len;
    uint32_t words = (len + 3u) / 4u;
    uint32_t i;

    if (len == 0u || len > AP_MPS2_LAN9118_MAX_FRAME) {
        dev->tx_errors++;
        return ERR_BUF;
    }
    /* Room for the frame and its two command words. */
    for (i = 0; LAN_TX_FIFO_INF_FREE(rd(dev, LAN_TX_FIFO_INF)) < len + 8u; i++) {
        if (i >= LAN_SPIN_LIMIT) {
            dev->tx_busy++;
            return ERR_MEM;
        }
    }
    dev->frame[words - 1u] = 0u; /* no stale bytes after the frame's end */
    if (pbuf_copy_partial(p, dev->frame, (u16_t)len, 0) != len) {
        dev->tx_errors++;
        return ERR_BUF;
    }
    /* One segment holds the whole frame; the tag only labels its status. */
    wr(dev, LAN_TX_DATA_FIFO, LAN_TX_CMD_A_FIRST | LAN_TX_CMD_A_LAST | len);
    wr(dev, LAN_TX_DATA_FIFO, ((dev->tx_frames & 0xffffu) << 16) | len);
    for (i = 0; i < words; i++) {
        wr(dev, LAN_TX_DATA_FIFO, dev->frame[i]);
    }
    dev->tx_frames++;
    return ERR_OK;
}

err_t ap_mps2_lan9118_init(struct netif *netif)
{
    static const uint8_t zero_mac[6] = { 0 };
    ap_mps2_lan9118_t *dev;
    uint32_t mac_cr;

    if (netif == NULL || netif->state == NULL) {
        return ERR_ARG;
    }
    dev = (ap_mps2_lan9118_t *)netif->state;
    if (memcmp(dev->mac, zero_mac, sizeof zero_mac) == 0 || (dev->mac[0] & 1u) != 0u) {
        return ERR_ARG; /* no address, or a multicast one */
    }

    /* A wrong base address or bus width shows here, before any write. */
    if (rd(dev, LAN_BYTE_TEST) != LAN_BYTE_TEST_VALUE) {
        return ERR_IF;
    }
    dev->id_rev = rd(dev, LAN_ID_REV);
    if (!known_chip(dev->id_rev)) {
        return ERR_IF;
    }

    wr(dev, LAN_HW_CFG, LAN_HW_CFG_SRST);
    if (!wait_reg(dev, LAN_HW_CFG, LAN_HW_CFG_SRST, 0u) ||
        !wait_reg(dev, LAN_PMT_CTRL, LAN_PMT_CTRL_READY, LAN_PMT_CTRL_READY) ||
        !wait_reg(dev, LAN_E2P_CMD, LAN_E2P_CMD_BUSY, 0u)) {
        return ERR_IF;
    }

    /* Polled: no interrupt line, nothing pending. */
    wr(dev, LAN_IRQ_CFG, 0u);
    wr(dev, LAN_INT_EN, 0u);
    wr(dev, LAN_INT_STS, 0xffffffffu);

    if (!mac_write(dev, LAN_MAC_ADDRL,
                   (uint32_t)dev->mac[0] | ((uint32_t)dev->mac[1] << 8) |
                   ((uint32_t)dev->mac[2] << 16) | ((uint32_t)dev->mac[3] << 24)) ||
        !mac_write(dev, LAN_MAC_ADDRH,
                   (uint32_t)dev->mac[4] | ((uint32_t)dev->mac[5] << 8))) {
        return ERR_IF;
    }

    if (!phy_write(dev, LAN_PHY_BCR, LAN_PHY_BCR_ANEG_ENABLE | LAN_PHY_BCR_ANEG_RESTART)) {
        return ERR_IF;
    }

    /* Words are read from offset 0 and end on a word: RX_CFG all zero. */
    wr(dev, LAN_RX_CFG, 0u);
    wr(dev, LAN_TX_CFG, LAN_TX_CFG_TX_ON | LAN_TX_CFG_TXSAO);

    /*
     * Reset leaves the MAC promiscuous; writing MAC_CR afresh turns that
     * off, so only our address and broadcast get through (multicast is not
     * used: IPv4 only, no IGMP).
     */
    mac_cr = LAN_MAC_CR_FDPX | LAN_MAC_CR_TXEN | LAN_MAC_CR_RXEN;
    if (!mac_write(dev, LAN_MAC_CR, mac_cr)) {
        return ERR_IF;
    }

    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->output = etharp_output;
    netif->linkoutput = lan9118_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(netif->hwaddr, dev->mac, ETH_HWADDR_LEN);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;

    dev->link_up = phy_link_up(dev) ? 1u : 0u;
    if (dev->link_up) {
        netif->flags |= NETIF_FLAG_LINK_UP;
    }
    sys_timeout(LAN_LINK_CHECK_MS, link_check, netif);
    return ERR_OK;
}

/* Reads and discards the rest of a frame the driver will not pass up. */
static void rx_discard(const ap_mps2_lan9118_t *dev, uint32_t words)
{
    uint32_t i;

    for (i = 0; i < words; i++) {
        (void)rd(dev, LAN_RX_DATA_FIFO);
    }
}

int ap_mps2_lan9118_poll(struct netif *netif)
{
    ap_mps2_lan9118_t *dev = (ap_mps2_lan9118_t *)netif->state;
    uint32_t pending;
    int handled = 0;
    int budget;

    /* Retire transmit status, counting failures. */
    pending = LAN_FIFO_INF_STATUS_USED(rd(dev, LAN_TX_FIFO_INF));
    while (pending-- > 0u) {
        if ((rd(dev, LAN_TX_STATUS_FIFO) & LAN_TX_STS_ERROR) != 0u) {
            dev->tx_errors++;
        }
    }

    for (budget = 0; budget < LAN_POLL_BUDGET; budget++) {
        uint32_t status;
        uint32_t len;
        uint32_t words;
        uint32_t i;
        struct pbuf *p;

        if (LAN_FIFO_INF_STATUS_USED(rd(dev, LAN_RX_FIFO_INF)) == 0u) {
            break;
        }
        status = rd(dev, LAN_RX_STATUS_FIFO);
        len = LAN_RX_STS_LENGTH(status);
        words = (len + 3u) / 4u;

        if ((status & LAN_RX_STS_ERROR) != 0u || len < LAN_MIN_RX_LEN ||
            len > AP_MPS2_LAN9118_MAX_FRAME + 4u) {
            rx_discard(dev, words);
            dev->rx_errors++;
            continue;
        }
        for (i = 0; i < words; i++) {
            dev->frame[i] = rd(dev, LAN_RX_DATA_FIFO);
        }
        len -= 4u; /* the CRC */

        p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (p == NULL) {
            dev->rx_dropped++;
            continue;
        }
        if (pbuf_take(p, dev->frame, (u16_t)len) != ERR_OK) {
            pbuf_free(p);
            dev->rx_dropped++;
            continue;
        }
        /* The frame is copied out: input may transmit through dev->frame. */
        if (netif->input(p, netif) != ERR_OK) {
            pbuf_free(p);
            dev->rx_dropped++;
            continue;
        }
        dev->rx_frames++;
        handled++;
    }
    return handled;
}

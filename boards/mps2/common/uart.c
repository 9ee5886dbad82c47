/*
 * Console on the CMSDK APB UART (transmit only, polled).
 *
 * The UART holds one character at a time: STATE.TXFULL is set from the write
 * to DATA until the character has left. Nothing reads the console, so the
 * receiver stays off.
 */
#include <stddef.h>
#include <stdint.h>

#include "mps2.h"
#include "mps2_internal.h"

#define AP_UART_DATA    0x00u
#define AP_UART_STATE   0x04u
#define AP_UART_CTRL    0x08u
#define AP_UART_BAUDDIV 0x10u

#define AP_UART_STATE_TXFULL 0x1u
#define AP_UART_CTRL_TX_EN   0x1u

/*
 * How long to wait for one character to leave before dropping it: far more
 * than a character takes at 115200 baud (87 us, about 2200 core cycles), so
 * only a stuck UART drops output, and a stuck UART cannot hang the program.
 */
#define AP_UART_TX_SPIN_LIMIT 1000000u

static uintptr_t g_uart_base;
static uint32_t g_uart_dropped;

void ap_mps2_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud)
{
    uint32_t div = pclk_hz / baud;

    /* The UART rejects divisors under 16; QEMU ignores such a setting too. */
    if (div < 16u) {
        div = 16u;
    }
    g_uart_base = base;
    AP_MPS2_REG(base + AP_UART_CTRL) = 0u;
    AP_MPS2_REG(base + AP_UART_BAUDDIV) = div;
    AP_MPS2_REG(base + AP_UART_CTRL) = AP_UART_CTRL_TX_EN;
}

static void uart_putc(char c)
{
    uint32_t spins = 0;

    while ((AP_MPS2_REG(g_uart_base + AP_UART_STATE) & AP_UART_STATE_TXFULL) != 0u) {
        if (++spins >= AP_UART_TX_SPIN_LIMIT) {
            g_uart_dropped++;
            return;
        }
    }
    AP_MPS2_REG(g_uart_base + AP_UART_DATA) = (uint8_t)c;
}

void ap_mps2_console_write(const char *buf, size_t len)
{
    size_t i;

    if (g_uart_base == 0u) {
        return;
    }
    for (i = 0; i < len; i++) {
        uart_putc(buf[i]);
    }
}

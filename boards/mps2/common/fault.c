/*
 * Fault reporting. It writes to the UART directly, not through stdio: after
 * a fault the C library's state (or the stack it needs) may be what broke.
 */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "mps2_internal.h"

static void put_str(const char *s)
{
    ap_mps2_console_write(s, strlen(s));
}

static void put_hex(uint32_t v)
{
    static const char digits[] = "0123456789abcdef";
    char buf[10];
    int i;

    buf[0] = '0';
    buf[1] = 'x';
    for (i = 0; i < 8; i++) {
        buf[2 + i] = digits[(v >> (28 - 4 * i)) & 0xfu];
    }
    ap_mps2_console_write(buf, sizeof buf);
}

void ap_mps2_fault_report_text(const char *what, uint32_t value)
{
    put_str("\n*** ");
    put_str(what);
    put_str(" ");
    put_hex(value);
    put_str("\n");
}

void ap_mps2_fault_report(const uint32_t *frame)
{
    static const char *const names[] = { "r0", "r1", "r2", "r3",
                                         "r12", "lr", "pc", "xpsr" };
    unsigned i;

    ap_mps2_fault_report_text("FAULT cfsr", AP_MPS2_SCB_CFSR);
    put_str("    hfsr ");
    put_hex(AP_MPS2_SCB_HFSR);
    put_str(" mmfar ");
    put_hex(AP_MPS2_SCB_MMFAR);
    put_str(" bfar ");
    put_hex(AP_MPS2_SCB_BFAR);
    put_str("\n");
    for (i = 0; i < 8u; i++) {
        put_str("    ");
        put_str(names[i]);
        put_str(" ");
        put_hex(frame[i]);
        put_str("\n");
    }
    ap_mps2_semihost_exit(AP_MPS2_EXIT_FAULT);
    for (;;) {
        __asm__ volatile("wfi");
    }
}

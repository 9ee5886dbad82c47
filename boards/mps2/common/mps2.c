/*
 * Board bring-up shared by every MPS2 image: console, millisecond tick,
 * program exit, and the stack/heap accounting the startup code prepares.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mps2.h"
#include "mps2_internal.h"

extern uint32_t __ap_stack_limit[];
extern uint32_t __ap_stack_top[];

static volatile uint32_t g_ticks_ms;
static int g_board_ready;

void ap_mps2_board_init(void)
{
    if (g_board_ready) {
        return;
    }
    g_board_ready = 1;
    ap_mps2_uart_init(ap_mps2_board.uart0_base, ap_mps2_board.sysclk_hz,
                      AP_MPS2_CONSOLE_BAUD);
    ap_mps2_systick_start(ap_mps2_board.sysclk_hz);
}

/* SysTick_CSR bits. */
#define AP_SYST_ENABLE    0x1u
#define AP_SYST_TICKINT   0x2u
#define AP_SYST_CLKSOURCE 0x4u /* 1: the processor clock, not the reference */

void ap_mps2_systick_start(uint32_t sysclk_hz)
{
    AP_MPS2_SYST_CSR = 0u;
    AP_MPS2_SYST_RVR = sysclk_hz / 1000u - 1u;
    AP_MPS2_SYST_CVR = 0u;
    /* Lowest priority: the tick must never preempt a fault report. */
    AP_MPS2_SCB_SHPR3 = (AP_MPS2_SCB_SHPR3 & 0x00ffffffu) | 0xff000000u;
    AP_MPS2_SYST_CSR = AP_SYST_ENABLE | AP_SYST_TICKINT | AP_SYST_CLKSOURCE;
}

void ap_mps2_systick_handler(void)
{
    g_ticks_ms++;
}

uint32_t ap_mps2_now_ms(void)
{
    /* One aligned 32-bit load: atomic against the tick on every Cortex-M. */
    return g_ticks_ms;
}

void ap_mps2_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
    ap_mps2_semihost_exit(status);
    /* Only a host without semihosting exit gets here: stop quietly. */
    for (;;) {
        __asm__ volatile("wfi");
    }
}

size_t ap_mps2_stack_size(void)
{
    return (size_t)((uintptr_t)__ap_stack_top - (uintptr_t)__ap_stack_limit);
}

size_t ap_mps2_stack_high_water(void)
{
    const uint32_t *p = __ap_stack_limit;

    while (p < __ap_stack_top && *p == AP_MPS2_STACK_PAINT) {
        p++;
    }
    return (size_t)((uintptr_t)__ap_stack_top - (uintptr_t)p);
}

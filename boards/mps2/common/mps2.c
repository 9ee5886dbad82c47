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

static volatile uint32_t g_ticks;
static int g_board_ready;

void ap_mps2_board_init(void)
{
    if (g_board_ready) {
        return;
    }
    g_board_ready = 1;
    ap_mps2_uart_init(ap_mps2_board.uart0_base, ap_mps2_board.sysclk_hz,
                      AP_MPS2_CONSOLE_BAUD);
    ap_mps2_clock_start(ap_mps2_board.timer0_base, ap_mps2_board.sysclk_hz);
}

/* CMSDK APB timer registers and CTRL bits. */
#define AP_TIMER_CTRL   0x00u
#define AP_TIMER_VALUE  0x04u
#define AP_TIMER_RELOAD 0x08u
#define AP_TIMER_CTRL_EN 0x1u

/* SysTick_CSR bits. */
#define AP_SYST_ENABLE    0x1u
#define AP_SYST_TICKINT   0x2u
#define AP_SYST_CLKSOURCE 0x4u /* 1: the processor clock, not the reference */

/*
 * The clock: timer 0 counts down from 2^32 - 1 at the system clock and
 * wraps every 171 s at 25 MHz. Each reading adds the cycles since the
 * previous one to a 64-bit total; SysTick reads it every millisecond, so no
 * wrap can pass unseen even if the program does not ask for the time.
 */
static uintptr_t g_timer_base;
static uint32_t g_cycles_per_ms;
static uint32_t g_timer_last;
static uint64_t g_cycles;

static uint64_t clock_update(void)
{
    uint32_t now = AP_MPS2_REG(g_timer_base + AP_TIMER_VALUE);

    g_cycles += (uint32_t)(g_timer_last - now); /* down-counter, mod 2^32 */
    g_timer_last = now;
    return g_cycles;
}

void ap_mps2_clock_start(uintptr_t timer_base, uint32_t sysclk_hz)
{
    g_timer_base = timer_base;
    g_cycles_per_ms = sysclk_hz / 1000u;
    AP_MPS2_REG(timer_base + AP_TIMER_CTRL) = 0u;
    /* Writing RELOAD also loads VALUE. */
    AP_MPS2_REG(timer_base + AP_TIMER_RELOAD) = UINT32_MAX;
    g_timer_last = AP_MPS2_REG(timer_base + AP_TIMER_VALUE);
    g_cycles = 0u;
    AP_MPS2_REG(timer_base + AP_TIMER_CTRL) = AP_TIMER_CTRL_EN;

    AP_MPS2_SYST_CSR = 0u;
    AP_MPS2_SYST_RVR = g_cycles_per_ms - 1u;
    AP_MPS2_SYST_CVR = 0u;
    /* Lowest priority: the tick must never preempt a fault report. */
    AP_MPS2_SCB_SHPR3 = (AP_MPS2_SCB_SHPR3 & 0x00ffffffu) | 0xff000000u;
    AP_MPS2_SYST_CSR = AP_SYST_ENABLE | AP_SYST_TICKINT | AP_SYST_CLKSOURCE;
}

void ap_mps2_systick_handler(void)
{
    g_ticks++;
    (void)clock_update();
}

uint32_t ap_mps2_now_ms(void)
{
    uint32_t primask;
    uint64_t cycles;

    if (g_cycles_per_ms == 0u) {
        return 0u;
    }
    /* The SysTick handler updates the same total: keep it out meanwhile. */
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask)::"memory");
    cycles = clock_update();
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (uint32_t)(cycles / g_cycles_per_ms);
}

uint32_t ap_mps2_tick_count(void)
{
    return g_ticks;
}

void ap_mps2_exit(int status)
{
    /* Nothing to flush: the board's printf (printf.c) writes to the UART
     * as it formats, with no stdio buffer in between. */
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

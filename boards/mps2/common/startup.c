/*
 * Reset and exception entry for the MPS2 Cortex-M images.
 *
 * Written in C rather than assembly: on ARMv7-M the hardware stacks the
 * caller-saved registers on exception entry and loads SP from the vector
 * table on reset, so every handler can be an ordinary C function.
 */
#include <stdint.h>

#include "mps2.h"
#include "mps2_internal.h"

/* Symbols the linker script defines (boards/mps2/common/mps2.ld). */
extern uint32_t __ap_data_load[];
extern uint32_t __ap_data_start[];
extern uint32_t __ap_data_end[];
extern uint32_t __ap_bss_start[];
extern uint32_t __ap_bss_end[];
extern uint32_t __ap_stack_limit[];
extern uint32_t __ap_stack_top[];

extern int main(void);

void ap_mps2_reset_handler(void) __attribute__((noreturn));
void ap_mps2_default_handler(void);

void ap_mps2_reset_handler(void)
{
    uint32_t *dst;
    const uint32_t *src;
    const uint32_t *sp_now;

    for (src = __ap_data_load, dst = __ap_data_start; dst < __ap_data_end;) {
        *dst++ = *src++;
    }
    for (dst = __ap_bss_start; dst < __ap_bss_end;) {
        *dst++ = 0u;
    }

    /*
     * Paint the unused part of the stack, from its limit up to just below
     * this function's own frame, so ap_mps2_stack_high_water() can later
     * find how deep it grew. Only words below the live SP are touched.
     */
    __asm__ volatile("mov %0, sp" : "=r"(sp_now));
    for (dst = __ap_stack_limit; dst < sp_now - 16;) {
        *dst++ = AP_MPS2_STACK_PAINT;
    }

    /* Linked with -nostartfiles: C has no constructors to run. */
    ap_mps2_board_init();
    ap_mps2_exit(main());
}

/* An interrupt nobody enabled fired: report it and stop, never spin. */
void ap_mps2_default_handler(void)
{
    uint32_t ipsr;

    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ap_mps2_fault_report_text("unexpected exception", ipsr & 0x1ffu);
    ap_mps2_exit(AP_MPS2_EXIT_ABORT);
}

/*
 * HardFault, MemManage, BusFault and UsageFault share one entry. It runs on
 * whichever stack was active (EXC_RETURN bit 2 says which) and hands the
 * stacked frame (r0-r3, r12, lr, pc, xpsr) to the C reporter.
 */
void ap_mps2_fault_entry(void) __attribute__((naked));
void ap_mps2_fault_entry(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b ap_mps2_fault_report\n");
}

/* The core's exceptions, then the 32 external interrupts QEMU wires up. */
#define AP_MPS2_NUM_IRQ 32
#define AP_MPS2_DEF8                                                      \
    ap_mps2_default_handler, ap_mps2_default_handler,                     \
    ap_mps2_default_handler, ap_mps2_default_handler,                     \
    ap_mps2_default_handler, ap_mps2_default_handler,                     \
    ap_mps2_default_handler, ap_mps2_default_handler

typedef void (*ap_mps2_vector_t)(void);

__attribute__((section(".isr_vector"), used))
const ap_mps2_vector_t ap_mps2_vectors[16 + AP_MPS2_NUM_IRQ] = {
    /* The initial stack pointer shares the table with the handlers. */
    [0] = (ap_mps2_vector_t)(uintptr_t)__ap_stack_top,
    [1] = ap_mps2_reset_handler,
    [2] = ap_mps2_default_handler,  /* NMI */
    [3] = ap_mps2_fault_entry,      /* HardFault */
    [4] = ap_mps2_fault_entry,      /* MemManage */
    [5] = ap_mps2_fault_entry,      /* BusFault */
    [6] = ap_mps2_fault_entry,      /* UsageFault */
    [11] = ap_mps2_default_handler, /* SVCall */
    [12] = ap_mps2_default_handler, /* DebugMonitor */
    [14] = ap_mps2_default_handler, /* PendSV */
    [15] = ap_mps2_systick_handler,
    /* 16 onwards: external interrupts 0-31, all unused (the board polls). */
    AP_MPS2_DEF8, AP_MPS2_DEF8, AP_MPS2_DEF8, AP_MPS2_DEF8,
};

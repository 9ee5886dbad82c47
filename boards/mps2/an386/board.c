/*
 * mps2-an386: AN386 FPGA image, Cortex-M4 (with FPU, unused).
 * Addresses as QEMU 7.2 places the devices (hw/arm/mps2.c).
 */
#include "mps2.h"

const ap_mps2_board_t ap_mps2_board = {
    .name = "mps2-an386",
    .cpu = "Cortex-M4",
    .uart0_base = 0x40004000u,
    .timer0_base = 0x40000000u,
    .lan9118_base = 0x40200000u,
    .lan9118_irq = 13u,
    .sysclk_hz = 25000000u,
};

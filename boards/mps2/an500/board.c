/*
 * mps2-an500: AN500 FPGA image, Cortex-M7 (with FPU, unused).
 * Unlike AN385/AN386, its Ethernet controller sits at 0xA0000000.
 * Addresses as QEMU 7.2 places the devices (hw/arm/mps2.c).
 */
#include "mps2.h"

const ap_mps2_board_t ap_mps2_board = {
    .name = "mps2-an500",
    .cpu = "Cortex-M7",
    .uart0_base = 0x40004000u,
    .timer0_base = 0x40000000u,
    .lan9118_base = 0xA0000000u,
    .lan9118_irq = 13u,
    .sysclk_hz = 25000000u,
};

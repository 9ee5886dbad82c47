/*
 * Shared between the board's own files only; applications use mps2.h.
 */
#ifndef AP_MPS2_INTERNAL_H
#define AP_MPS2_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The value the startup code paints the free stack with. */
#define AP_MPS2_STACK_PAINT 0xC5AC5AC5u

/* A 32-bit memory-mapped register. */
#define AP_MPS2_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* ARMv7-M System Control Space: the same on every Cortex-M3/M4/M7. */
#define AP_MPS2_SYST_CSR   AP_MPS2_REG(0xE000E010u)
#define AP_MPS2_SYST_RVR   AP_MPS2_REG(0xE000E014u)
#define AP_MPS2_SYST_CVR   AP_MPS2_REG(0xE000E018u)
#define AP_MPS2_SCB_SHPR3  AP_MPS2_REG(0xE000ED20u)
#define AP_MPS2_SCB_SHCSR  AP_MPS2_REG(0xE000ED24u)
#define AP_MPS2_SCB_CFSR   AP_MPS2_REG(0xE000ED28u)
#define AP_MPS2_SCB_HFSR   AP_MPS2_REG(0xE000ED2Cu)
#define AP_MPS2_SCB_MMFAR  AP_MPS2_REG(0xE000ED34u)
#define AP_MPS2_SCB_BFAR   AP_MPS2_REG(0xE000ED38u)

/* Semihosting operation numbers (Arm "Semihosting for AArch32 and AArch64"). */
enum {
    AP_MPS2_SH_SYS_OPEN = 0x01,
    AP_MPS2_SH_SYS_CLOSE = 0x02,
    AP_MPS2_SH_SYS_WRITE = 0x05,
    AP_MPS2_SH_SYS_READ = 0x06,
    AP_MPS2_SH_SYS_SEEK = 0x0A,
    AP_MPS2_SH_SYS_FLEN = 0x0C,
    AP_MPS2_SH_SYS_CLOCK = 0x10,
    AP_MPS2_SH_SYS_TIME = 0x11,
    AP_MPS2_SH_SYS_GET_CMDLINE = 0x15,
    AP_MPS2_SH_SYS_EXIT = 0x18,
    AP_MPS2_SH_SYS_EXIT_EXTENDED = 0x20
};

/** Issues one semihosting call; the meaning of arg and result depend on op. */
uint32_t ap_mps2_semihost_call(uint32_t op, const void *arg);

/** Opens a host file (mode as in the specification: 1 is "rb"); -1 on failure. */
int32_t ap_mps2_semihost_open(const char *path, uint32_t mode);

/** Reads up to len bytes; returns how many were read, or -1. */
int32_t ap_mps2_semihost_read(int32_t handle, void *buf, size_t len);

/** Writes len bytes; returns 0 when all were written, -1 otherwise. */
int ap_mps2_semihost_write(int32_t handle, const void *buf, size_t len);

/** Moves to byte pos from the file's start; 0 or -1. */
int ap_mps2_semihost_seek(int32_t handle, uint32_t pos);

/** The file's length in bytes, or -1. */
int32_t ap_mps2_semihost_flen(int32_t handle);

/** Closes a host file handle. */
void ap_mps2_semihost_close(int32_t handle);

/** Asks the host to exit with status; returns only if the host cannot. */
void ap_mps2_semihost_exit(int status);

void ap_mps2_clock_start(uintptr_t timer_base, uint32_t sysclk_hz);
void ap_mps2_systick_handler(void);

void ap_mps2_uart_init(uintptr_t base, uint32_t pclk_hz, uint32_t baud);

/* Writes "<what> <value in hex>\n" to the console without using stdio. */
void ap_mps2_fault_report_text(const char *what, uint32_t value);

/* Called from the fault entry with the stacked exception frame. Only the
 * entry's assembly names it, which link-time optimisation cannot see, hence
 * "used". */
void ap_mps2_fault_report(const uint32_t *frame) __attribute__((noreturn, used));

#endif /* AP_MPS2_INTERNAL_H */

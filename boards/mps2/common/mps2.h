/**
 * @file mps2.h
 * @brief Board services of the Arm MPS2 FPGA images as QEMU emulates them
 * (mps2-an385 Cortex-M3, mps2-an386 Cortex-M4, mps2-an500 Cortex-M7).
 *
 * The startup code brings the board up (console UART, 1 kHz SysTick) before
 * main() runs, and ends the program through semihosting when main() returns,
 * so QEMU exits with main()'s return value. These images therefore REQUIRE
 * QEMU's semihosting (-semihosting or -semihosting-config enable=on): without
 * it the first semihosting call is a breakpoint the CPU cannot take, and the
 * core locks up.
 *
 * What differs between the boards lives in one table, ap_mps2_board, defined
 * once per board in boards/mps2/<board>/board.c and chosen by the build.
 */
#ifndef AP_MPS2_H
#define AP_MPS2_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The per-board facts the shared code needs. */
typedef struct ap_mps2_board {
    const char *name;         /**< QEMU machine name, "mps2-an385". */
    const char *cpu;          /**< "Cortex-M3", for logs. */
    uintptr_t uart0_base;     /**< CMSDK APB UART 0 (the console). */
    uintptr_t timer0_base;    /**< CMSDK APB timer 0 (the millisecond clock). */
    uintptr_t lan9118_base;   /**< LAN9118 (LAN9220 on hardware) registers. */
    uint32_t lan9118_irq;     /**< Its NVIC line; the driver polls instead. */
    uint32_t sysclk_hz;       /**< Core and peripheral clock. */
} ap_mps2_board_t;

/** The board this image was built for. */
extern const ap_mps2_board_t ap_mps2_board;

/**
 * Exit statuses the board itself reports (QEMU's exit status). Programs use
 * 0 for success and small positive values of their own below these.
 */
enum {
    AP_MPS2_EXIT_FAULT = 120,   /**< A fault handler ran. */
    AP_MPS2_EXIT_ASSERT = 121,  /**< An assertion (lwIP's too) failed. */
    AP_MPS2_EXIT_ENTROPY = 122, /**< Entropy was needed and not available. */
    AP_MPS2_EXIT_ABORT = 123    /**< abort() or an unexpected interrupt. */
};

/** Console baud rate. QEMU ignores it; hardware would not. */
#define AP_MPS2_CONSOLE_BAUD 115200u

/**
 * Brings up the console, the clock and the 1 kHz SysTick. Called by the
 * startup code before main(); calling it again does nothing.
 */
void ap_mps2_board_init(void);

/**
 * Milliseconds since ap_mps2_board_init(). Wraps at 2^32 (after 49.7 days):
 * compare differences, never absolute values.
 *
 * Read from a free-running hardware counter (CMSDK timer 0 at the system
 * clock), not by counting SysTick interrupts: under QEMU a busy host delays
 * interrupt delivery, and a pending SysTick that fires late counts once
 * however many periods it missed, so a counted clock runs slow (measured:
 * 10 s counted in 18 s of real time on a loaded two-core host). The SysTick
 * interrupt keeps the counter's wraps accounted for when nobody asks.
 */
uint32_t ap_mps2_now_ms(void);

/**
 * SysTick interrupts taken since ap_mps2_board_init(), nominally one per
 * millisecond. Diagnostic only: compared with ap_mps2_now_ms() it shows how
 * many ticks the emulator dropped.
 */
uint32_t ap_mps2_tick_count(void);

/**
 * Ends the program: flushes stdio and asks QEMU, through semihosting, to exit
 * with @p status (SYS_EXIT_EXTENDED; plain SYS_EXIT, which can only say
 * success or failure, if the host lacks it). Never returns.
 */
void ap_mps2_exit(int status) __attribute__((noreturn));

/** Writes len bytes to the console UART, waiting while it is busy. */
void ap_mps2_console_write(const char *buf, size_t len);

/**
 * Stack use so far: the deepest the stack has grown since reset, in bytes.
 * The startup code paints the stack with a pattern; this finds the lowest
 * word that no longer holds it. A call that scribbles the pattern itself
 * could under-report, which the 32-bit pattern makes unlikely.
 */
size_t ap_mps2_stack_high_water(void);

/** The stack's size, as the linker script reserves it, in bytes. */
size_t ap_mps2_stack_size(void);

/** Bytes of the heap region malloc() has taken so far (it never shrinks). */
size_t ap_mps2_heap_used(void);

/** The heap region's size, as the linker script reserves it, in bytes. */
size_t ap_mps2_heap_size(void);

/** Requests to grow the heap that were refused (with no heap region: every
 *  one); a firmware that never allocates reports 0. */
size_t ap_mps2_heap_refused(void);

/* ---- Semihosting (QEMU is the debug host) ---------------------------- */

/**
 * Seconds since 1970-01-01 UTC from the host's clock (SYS_TIME), or -1 if
 * the host did not answer. Under QEMU this is the real date: the host is
 * trusted, as it is for the network and the entropy.
 */
int64_t ap_mps2_semihost_time(void);

/**
 * The host's answer to SYS_CLOCK, in centiseconds, or -1 on failure. The
 * specification calls it execution time; QEMU answers with its own
 * processor time, so it is NOT a wall clock. Diagnostic only.
 */
int32_t ap_mps2_semihost_clock_cs(void);

/**
 * The command line QEMU was given for the program
 * (-semihosting-config enable=on,arg=...,arg=...), its words joined by
 * spaces, as a NUL-terminated string in buf (SYS_GET_CMDLINE). This is how
 * a test passes run-time settings, such as the path of a host file, to the
 * firmware.
 *
 * @return 0; -1 if the host did not answer or the line does not fit in
 *         size bytes (buf is then "").
 */
int ap_mps2_semihost_cmdline(char *buf, size_t size);

/**
 * Reads a whole host file (path as the host understands it; relative paths
 * start at QEMU's working directory) into buf, through SYS_OPEN, SYS_FLEN
 * and SYS_READ, and sets *len to its length.
 *
 * @return 0; -1 if it could not be opened or read in full; -2 if it is
 *         larger than size bytes (nothing is kept then).
 */
int ap_mps2_semihost_read_file(const char *path, void *buf, size_t size,
                               size_t *len);

/* ---- Entropy ----------------------------------------------------------- */

/**
 * Fills buf with len bytes read from the HOST's /dev/urandom through
 * semihosting (SYS_OPEN + SYS_READ).
 *
 * THIS IS A DECISION OF THIS BOARD UNDER QEMU, NOT A HARDWARE RNG. The MPS2
 * FPGA images have no true random number generator, and QEMU emulates none;
 * the only strong source the firmware can reach is the host's kernel, and
 * semihosting is the channel to it. It is as trustworthy as the host running
 * QEMU. On real MPS2 hardware semihosting goes to a debugger (or nowhere),
 * so a product on such a board MUST replace this function with a real
 * source; there is deliberately no fallback to a weak generator.
 *
 * @return 0 with all len bytes written; -1 if the host file could not be
 *         opened or read in full (buf is then wiped).
 */
int ap_mps2_entropy_read(uint8_t *buf, size_t len);

/**
 * 32 random bits from ap_mps2_entropy_read(), for lwIP's LWIP_RAND() (DHCP
 * transaction ids, DNS ids and ports, initial local ports). lwIP has no way
 * to report failure, so on failure this ends the program with
 * AP_MPS2_EXIT_ENTROPY rather than hand out predictable numbers.
 */
uint32_t ap_mps2_rand32(void);

#ifdef __cplusplus
}
#endif

#endif /* AP_MPS2_H */

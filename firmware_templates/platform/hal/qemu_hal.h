/* Bare-metal support for the emulated STM32F405 (QEMU netduinoplus2).
 *
 * The startup code calls hal_init() before main() and hal_exit(main's
 * return value) after it, so a test program is just `int main(void)`.
 * printf() and friends write to USART1 (newlib's _write is retargeted).
 *
 * Time: SysTick runs from the 168 MHz processor clock and interrupts every
 * millisecond. Under `qemu-system-arm -icount shift=0` one instruction takes
 * 1 ns of virtual time, so hal_cycles() * 1000 / 168 is an exact, repeatable
 * instruction count (HAL_INSNS()). The DWT cycle counter is not modelled by
 * QEMU (reads 0); do not use it.
 */
#ifndef KWS_QEMU_HAL_H
#define KWS_QEMU_HAL_H

#include <stddef.h>
#include <stdint.h>

#define HAL_CPU_HZ 168000000u

/* Instructions executed between two hal_cycles() readings under -icount shift=0. */
#define HAL_INSNS(cycles) ((uint64_t)(cycles) * 1000u / (HAL_CPU_HZ / 1000000u))

void hal_init(void);
/* Blocking write of n bytes to USART1. */
void hal_uart_write(const void *data, size_t n);
/* Next received byte (0..255), or -1 when none is waiting. Bytes are
 * collected by the USART1 interrupt into a ring buffer of HAL_RX_BUFFER. */
int hal_uart_read(void);
/* Free space left in the receive ring buffer. */
size_t hal_uart_rx_free(void);
uint32_t hal_millis(void);
uint64_t hal_cycles(void);
/* Ends the emulation with `code` as QEMU's exit status (semihosting; QEMU
 * reports 0 for success and 1 for any failure). */
void hal_exit(int code) __attribute__((noreturn));
/* Resets the chip like a reset button (SCB AIRCR.SYSRESETREQ). */
void hal_reset(void) __attribute__((noreturn));

#ifndef HAL_RX_BUFFER
#define HAL_RX_BUFFER 1024u
#endif

#endif

/* What the shared firmware core needs from a board. Each board family
 * implements it in firmware_templates/boards/<family>/ (UART, clock, LED,
 * microphone driver). All functions are non-blocking except
 * kws_board_write, which may wait for room in the serial port's buffer but
 * must not block for good when no host reads: the ESP32-S3's USB glue
 * drops output then. */
#ifndef KWS_BOARD_H
#define KWS_BOARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Clocks, serial port, LED and (when the board has one) the microphone. */
void kws_board_init(void);
/* Write n bytes to the serial port the host listens on (may wait for room; see above). */
void kws_board_write(const void *data, size_t n);
/* Up to max received bytes into dst; returns how many (0 when none). */
size_t kws_board_read(uint8_t *dst, size_t max);
uint32_t kws_board_millis(void);
/* Free-running microsecond clock for profiling and the load figure (wraps
 * after ~71 minutes). */
uint32_t kws_board_micros(void);
/* The processor clock in Hz, for reports: the board profile's clock_hz
 * (KWS_BOARD_CLOCK_HZ); the emulated board measures its instruction rate. */
uint32_t kws_board_clock_hz(void);
void kws_board_led(int on);
/* Up to max 16 kHz mono samples captured since the last call; 0 for boards
 * without a microphone. */
size_t kws_board_mic_read(int16_t *dst, size_t max);
/* Samples the microphone driver lost since boot because they were not read
 * in time (0 when the driver does not tell). */
uint32_t kws_board_mic_dropped(void);
/* Nothing to do: sleep until the next interrupt (or just return). */
void kws_board_idle(void);

/* A microphone sample scaled to int16, saturated. */
static inline int16_t kws_clamp16(int32_t value)
{
  return (int16_t)(value > INT16_MAX ? INT16_MAX : value < INT16_MIN ? INT16_MIN : value);
}

#ifdef __cplusplus
}
#endif

#endif /* KWS_BOARD_H */

/* Board glue for the emulated STM32F405 (QEMU netduinoplus2) on the kws-qemu
 * platform's HAL: USART1 is the serial port and there is no LED QEMU would
 * show. Audio comes from the host over the serial link; a board file with
 * [mic] type = "tone" adds a test microphone instead of none.
 *
 * Time is emulated time: SysTick (168 MHz) and the millisecond clock follow
 * QEMU's virtual clock, in which each instruction takes 2^N ns under
 * `-icount shift=N` (1 ns by default: a 1000 MIPS board; shift=4 is 62.5 M
 * instructions/s, about a 64 MHz Cortex-M4). kws_board_clock_hz() is that
 * instruction rate, measured at boot against SysTick, so the load figure
 * (busy emulated time / audio time) is the load of a board executing one
 * instruction per cycle at that clock. The tone microphone is paced by the
 * same clock, so it overruns exactly when such a board would. */
#include "kws_app.h"
#include "kws_board.h"
#include "kws_board_config.h"
#include "qemu_hal.h"

void kws_board_write(const void *data, size_t n)
{
  hal_uart_write(data, n);
}

size_t kws_board_read(uint8_t *dst, size_t max)
{
  size_t n = 0;
  int byte;
  while (n < max && (byte = hal_uart_read()) >= 0) {
    dst[n++] = (uint8_t)byte;
  }
  return n;
}

uint32_t kws_board_millis(void)
{
  return hal_millis();
}

uint32_t kws_board_micros(void)
{
  return (uint32_t)(hal_cycles() / (HAL_CPU_HZ / 1000000u));
}

/* Instructions per second of emulated time: a loop of CALIBRATION_LOOPS x 2
 * instructions timed with SysTick (the tick interrupts inside add ~1% at
 * shift=10, nothing measurable below). */
#define CALIBRATION_LOOPS 50000u

static uint32_t measure_instruction_rate(void)
{
  uint32_t left = CALIBRATION_LOOPS;
  uint64_t start = hal_cycles();
  __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(left) : : "cc");
  uint64_t elapsed = hal_cycles() - start;
  return (uint32_t)(2u * (uint64_t)CALIBRATION_LOOPS * HAL_CPU_HZ / elapsed);
}

static uint32_t instruction_rate;

uint32_t kws_board_clock_hz(void)
{
  return instruction_rate;
}

static void mic_init(void);

void kws_board_init(void)
{
  /* hal_init() already ran from the reset handler. */
  instruction_rate = measure_instruction_rate();
  mic_init();
}

void kws_board_led(int on)
{
  (void)on;
}

#if defined(KWS_MIC_TONE)
/* Test microphone: a sawtooth of 64 samples per period (250 Hz at 16 kHz),
 * paced by the millisecond clock. Like a DMA buffer, it holds at most
 * TONE_BUFFER samples (32 ms): a reader that falls behind loses the oldest,
 * and kws_board_mic_dropped() counts them. */
#define TONE_BUFFER 512u
static uint32_t tone_produced;
static uint32_t tone_dropped;

static void mic_init(void)
{
  tone_produced = hal_millis() * (KWS_MIC_SAMPLE_RATE / 1000u);
}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  uint32_t due = hal_millis() * (KWS_MIC_SAMPLE_RATE / 1000u);
  if (due - tone_produced > TONE_BUFFER) {
    tone_dropped += due - tone_produced - TONE_BUFFER;
    tone_produced = due - TONE_BUFFER;
  }
  size_t n = due - tone_produced;
  if (n > max) {
    n = max;
  }
  for (size_t i = 0; i < n; i++) {
    dst[i] = (int16_t)((int32_t)((tone_produced + i) % 64u) * 512 - 16384);
  }
  tone_produced += (uint32_t)n;
  return n;
}

uint32_t kws_board_mic_dropped(void)
{
  return tone_dropped;
}
#else
static void mic_init(void) {}

size_t kws_board_mic_read(int16_t *dst, size_t max)
{
  (void)dst;
  (void)max;
  return 0;
}

uint32_t kws_board_mic_dropped(void)
{
  return 0;
}
#endif

void kws_board_idle(void)
{
  __asm volatile("wfi");
}

int main(void)
{
  kws_board_init();
  kws_app_init();
  for (;;) {
    kws_app_poll();
  }
}

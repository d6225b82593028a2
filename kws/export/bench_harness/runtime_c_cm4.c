/* Runtime-c benchmark for the emulated Cortex-M4 (QEMU netduinoplus2 with
 * -icount shift=0, HAL from firmware_templates/platform): runs the exported
 * model on BENCH_COUNT inputs, printing each inference's SysTick cycles and
 * outputs, then a calibration loop of known instruction count so the host
 * can turn cycles into instructions without trusting the clock ratio. */
#include <stdio.h>
#include <string.h>

#include "bench_inputs.h" /* BENCH_COUNT, bench_inputs[BENCH_COUNT * KWS_MODEL_INPUT_BYTES] */
#include "kws_model.h"
#include "qemu_hal.h"

#define CALIBRATION_LOOPS 1000000u /* 2 instructions each: subs + bne */

static uint64_t calibration_cycles(void) {
  uint32_t n = CALIBRATION_LOOPS;
  const uint64_t start = hal_cycles();
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  return hal_cycles() - start;
}

int main(void) {
  unsigned i, k;
  if (kws_model_init() != 0) {
    printf("init failed: %s\n", kws_model_error());
    return 1;
  }
  for (i = 0; i < BENCH_COUNT; ++i) {
    uint64_t start;
    unsigned long cycles;
    memcpy(kws_model_input(), bench_inputs + i * KWS_MODEL_INPUT_BYTES, KWS_MODEL_INPUT_BYTES);
    start = hal_cycles();
    kws_model_invoke();
    cycles = (unsigned long)(hal_cycles() - start);
    printf("run %u cycles=%lu out=", i, cycles);
    for (k = 0; k < KWS_MODEL_OUTPUT_COUNT; ++k) {
      printf("%d%s", (int)kws_model_output()[k], k + 1 < KWS_MODEL_OUTPUT_COUNT ? "," : "\n");
    }
  }
  printf("calibration instructions=%lu cycles=%lu\n", (unsigned long)(2u * CALIBRATION_LOOPS),
         (unsigned long)calibration_cycles());
  return 0;
}

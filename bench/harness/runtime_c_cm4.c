/* Runtime-c benchmark for the emulated Cortex-M4 (QEMU netduinoplus2 with
 * -icount shift=0, HAL from firmware_templates/platform): runs the exported
 * model on BENCH_COUNT inputs, printing each inference's SysTick cycles,
 * outputs and per-layer cycles (kws_model.c built with -DKWS_PROFILE_LAYERS);
 * for a streaming model also each streaming step after the window filled;
 * then a calibration loop of known instruction count so the host can turn
 * cycles into instructions without trusting the clock ratio. */
#include <stdio.h>
#include <string.h>

#include "bench_inputs.h" /* BENCH_COUNT, bench_inputs[BENCH_COUNT * KWS_MODEL_INPUT_BYTES] */
#include "kws_model.h"
#include "qemu_hal.h"

#define CALIBRATION_LOOPS 1000000u /* 2 instructions each: subs + bne */
#define MAX_LAYERS 64

static uint64_t layer_start;
static unsigned layer_count;
static int layer_ops[MAX_LAYERS];
static unsigned long layer_cycles[MAX_LAYERS];

void kws_layer_done(int op) {
  const uint64_t now = hal_cycles();
  if (layer_count < MAX_LAYERS) {
    layer_ops[layer_count] = op;
    layer_cycles[layer_count++] = (unsigned long)(now - layer_start);
  }
  layer_start = hal_cycles();
}

static uint64_t calibration_cycles(void) {
  uint32_t n = CALIBRATION_LOOPS;
  const uint64_t start = hal_cycles();
  __asm volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  return hal_cycles() - start;
}

static void print_layers(void) {
  unsigned k;
  printf(" layers=");
  for (k = 0; k < layer_count; ++k) {
    printf("%d:%lu%s", layer_ops[k], layer_cycles[k], k + 1 < layer_count ? "," : "");
  }
}

static void print_outputs(const char *what, unsigned i, unsigned long cycles) {
  unsigned k;
  printf("%s %u cycles=%lu out=", what, i, cycles);
  for (k = 0; k < KWS_MODEL_OUTPUT_COUNT; ++k) {
    printf("%d%s", (int)kws_model_output()[k], k + 1 < KWS_MODEL_OUTPUT_COUNT ? "," : "");
  }
  print_layers();
  printf("\n");
}

static unsigned long timed(int (*invoke)(void)) {
  uint64_t start;
  layer_count = 0;
  start = layer_start = hal_cycles();
  invoke();
  return (unsigned long)(hal_cycles() - start);
}

#if KWS_MODEL_STREAM_FRAMES > 0
/* Streams the inputs' frames one after the other, one step per period. */
static void run_stream(void) {
  const unsigned row = KWS_MODEL_INPUT_BYTES / KWS_MODEL_WINDOW_FRAMES;
  const unsigned total = BENCH_COUNT * KWS_MODEL_WINDOW_FRAMES;
  unsigned frame, step = 0;
  kws_model_stream_reset();
  for (frame = 0; frame + KWS_MODEL_STREAM_FRAMES <= total; frame += KWS_MODEL_STREAM_FRAMES, ++step) {
    unsigned long cycles;
    memcpy(kws_model_stream_input(), bench_inputs + frame * row, KWS_MODEL_STREAM_FRAMES * row);
    cycles = timed(kws_model_stream_invoke);
    if (frame + KWS_MODEL_STREAM_FRAMES >= KWS_MODEL_WINDOW_FRAMES) {
      print_outputs("step", step, cycles);
    }
  }
}
#endif

int main(void) {
  unsigned i;
  if (kws_model_init() != 0) {
    printf("init failed: %s\n", kws_model_error());
    return 1;
  }
  for (i = 0; i < BENCH_COUNT; ++i) {
    unsigned long cycles;
    memcpy(kws_model_input(), bench_inputs + i * KWS_MODEL_INPUT_BYTES, KWS_MODEL_INPUT_BYTES);
    cycles = timed(kws_model_invoke);
    print_outputs("run", i, cycles);
  }
#if KWS_MODEL_STREAM_FRAMES > 0
  run_stream();
#endif
  printf("calibration instructions=%lu cycles=%lu\n", (unsigned long)(2u * CALIBRATION_LOOPS),
         (unsigned long)calibration_cycles());
  return 0;
}

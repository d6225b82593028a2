/* Host check of an exported model, used by kws to compare the generated C
 * with the TFLM interpreter on many inputs in one process.
 *
 *   kws_host_runner          whole windows: reads inputs (KWS_MODEL_INPUT_BYTES
 *                            each) from stdin until EOF, one inference each;
 *   kws_host_runner FRAMES   streaming (models with KWS_MODEL_STREAM_FRAMES > 0):
 *                            reads streams of FRAMES frames (a multiple of
 *                            KWS_MODEL_STREAM_FRAMES), resets the model at the
 *                            start of each and runs one streaming inference
 *                            per KWS_MODEL_STREAM_FRAMES frames, warm-up ones
 *                            included.
 *
 * Every inference's outputs (KWS_MODEL_OUTPUT_COUNT scores) go to stdout. */
#include <stdio.h>
#include <stdlib.h>

#include "kws_model.h"

#define ROW (KWS_MODEL_INPUT_BYTES / KWS_MODEL_WINDOW_FRAMES)

/* Copies `n` bytes of `src` to `dst`, runs `invoke` and writes the outputs. */
static int infer(unsigned char *dst, const unsigned char *src, size_t n, int (*invoke)(void), const char *what) {
  size_t i;
  for (i = 0; i < n; ++i) {
    dst[i] = src[i];
  }
  if (invoke() != 0) {
    fprintf(stderr, "%s: %s\n", what, kws_model_error());
    return 1;
  }
  fwrite(kws_model_output(), sizeof(kws_output_t), KWS_MODEL_OUTPUT_COUNT, stdout);
  return 0;
}

static int whole_windows(void) {
  static unsigned char input[KWS_MODEL_INPUT_BYTES];
  while (fread(input, 1, sizeof(input), stdin) == sizeof(input)) {
    if (infer((unsigned char *)kws_model_input(), input, sizeof(input), kws_model_invoke, "kws_model_invoke")) {
      return 1;
    }
  }
  return 0;
}

#if KWS_MODEL_STREAM_FRAMES > 0
static int streams(long frames) {
  static unsigned char chunk[KWS_MODEL_STREAM_FRAMES * ROW];
  long done = 0;
  while (fread(chunk, 1, sizeof(chunk), stdin) == sizeof(chunk)) {
    if (done % frames == 0) {
      kws_model_stream_reset();
    }
    if (infer((unsigned char *)kws_model_stream_input(), chunk, sizeof(chunk), kws_model_stream_invoke,
              "kws_model_stream_invoke")) {
      return 1;
    }
    done += KWS_MODEL_STREAM_FRAMES;
  }
  return 0;
}
#endif

int main(int argc, char **argv) {
  const long frames = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  if (kws_model_init() != 0) {
    fprintf(stderr, "kws_model_init: %s\n", kws_model_error());
    return 1;
  }
  if (argc < 2) {
    return whole_windows();
  }
#if KWS_MODEL_STREAM_FRAMES > 0
  if (frames > 0 && frames % KWS_MODEL_STREAM_FRAMES == 0) {
    return streams(frames);
  }
  fprintf(stderr, "usage: %s [FRAMES] (FRAMES a positive multiple of %d)\n", argv[0], KWS_MODEL_STREAM_FRAMES);
#else
  (void)frames;
  fprintf(stderr, "%s: this model does not stream (KWS_MODEL_STREAM_FRAMES is 0)\n", argv[0]);
#endif
  return 2;
}

/* Host check of a streaming export: argv[1] is the length of each stream in
 * frames (a multiple of KWS_MODEL_STREAM_FRAMES). Reads streams of that many
 * frames (ROW bytes each) from stdin until EOF; resets
 * the model at the start of each, runs one streaming inference per
 * KWS_MODEL_STREAM_FRAMES frames and writes every inference's outputs
 * (KWS_MODEL_OUTPUT_COUNT scores) to stdout, warm-up ones included. */
#include <stdio.h>
#include <stdlib.h>

#include "kws_model.h"

#if KWS_MODEL_STREAM_FRAMES < 1
#error "this model does not stream (KWS_MODEL_STREAM_FRAMES is 0)"
#endif

#define ROW (KWS_MODEL_INPUT_BYTES / KWS_MODEL_WINDOW_FRAMES)

int main(int argc, char **argv) {
  static unsigned char chunk[KWS_MODEL_STREAM_FRAMES * ROW];
  const long frames = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  long done = 0;
  size_t i;
  if (frames < 1 || frames % KWS_MODEL_STREAM_FRAMES != 0) {
    fprintf(stderr, "usage: %s FRAMES (a positive multiple of %d)\n", argv[0], KWS_MODEL_STREAM_FRAMES);
    return 2;
  }
  if (kws_model_init() != 0) {
    fprintf(stderr, "kws_model_init: %s\n", kws_model_error());
    return 1;
  }
  while (fread(chunk, 1, sizeof(chunk), stdin) == sizeof(chunk)) {
    unsigned char *dst = (unsigned char *)kws_model_stream_input();
    if (done % frames == 0) {
      kws_model_stream_reset();
    }
    for (i = 0; i < sizeof(chunk); ++i) {
      dst[i] = chunk[i];
    }
    if (kws_model_stream_invoke() != 0) {
      fprintf(stderr, "kws_model_stream_invoke: %s\n", kws_model_error());
      return 1;
    }
    fwrite(kws_model_output(), sizeof(kws_output_t), KWS_MODEL_OUTPUT_COUNT, stdout);
    done += KWS_MODEL_STREAM_FRAMES;
  }
  return 0;
}

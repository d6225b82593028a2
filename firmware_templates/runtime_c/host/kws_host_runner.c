/* Host check of an exported model: reads inputs (KWS_MODEL_INPUT_BYTES each)
 * from stdin until EOF, runs one inference per input and writes the outputs
 * (KWS_MODEL_OUTPUT_COUNT scores each) to stdout. Used by kws to compare the
 * generated C with the TFLM interpreter on many inputs in one process. */
#include <stdio.h>

#include "kws_model.h"

int main(void) {
  static unsigned char input[KWS_MODEL_INPUT_BYTES];
  size_t i;
  if (kws_model_init() != 0) {
    fprintf(stderr, "kws_model_init: %s\n", kws_model_error());
    return 1;
  }
  while (fread(input, 1, sizeof(input), stdin) == sizeof(input)) {
    unsigned char *dst = (unsigned char *)kws_model_input();
    for (i = 0; i < sizeof(input); ++i) {
      dst[i] = input[i];
    }
    if (kws_model_invoke() != 0) {
      fprintf(stderr, "kws_model_invoke: %s\n", kws_model_error());
      return 1;
    }
    fwrite(kws_model_output(), sizeof(kws_output_t), KWS_MODEL_OUTPUT_COUNT, stdout);
  }
  return 0;
}

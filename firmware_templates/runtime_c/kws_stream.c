/* kws runtime "c", streaming kernels. See kws_stream.h. */
#include "kws_stream.h"

void kws_average_pool_rows(const kws_pool_t *p, const int8_t *input, int8_t *output, int32_t *sums)
{
  const int32_t channels = p->channels, width = p->in_w, steps = p->k_h;
  const int32_t count = steps * width;
  int32_t *row = sums + (steps - p->in_h) * channels;
  int32_t r, x, c, s;
  for (r = 0; r < p->in_h; ++r, row += channels, input += width * channels) {
    for (c = 0; c < channels; ++c) { /* one channel down the row, in a register */
      const int8_t *v = input + c;
      int32_t sum = 0;
      for (x = 0; x < width; ++x, v += channels) {
        sum += *v;
      }
      row[c] = sum;
    }
  }
  for (c = 0; c < channels; ++c) {
    int32_t acc = 0, average;
    for (s = 0; s < steps; ++s) {
      acc += sums[s * channels + c];
    }
    average = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    output[c] = (int8_t)(average < p->act_min ? p->act_min : (average > p->act_max ? p->act_max : average));
  }
}

/* kws runtime "c", streaming: kernels that keep state across inferences
 * (see kws/export/streaming.py). C99, no malloc; bit-exact with TFLM's
 * reference kernels on the whole window. */
#ifndef KWS_STREAM_H
#define KWS_STREAM_H

#include <stdint.h>

#include "kws_kernels.h"

/* AVERAGE_POOL_2D over the whole window, streaming. `input` holds the
 * p->in_h new time steps (rows of p->in_w x p->channels); `sums` holds, for
 * each of the window's p->k_h steps (oldest first, the new ones last), the
 * sum of each channel over its row. Writes the new steps' sums, then the
 * window's average per channel: TFLM's integer sum, rounded division by
 * p->k_h * p->k_w and clamp. */
void kws_average_pool_rows(const kws_pool_t *p, const int8_t *input, int8_t *output, int32_t *sums);

#endif /* KWS_STREAM_H */

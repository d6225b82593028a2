/* kws streaming audio frontend: int16 samples in, one int8 feature frame per
 * stride out. C99, integer-only (no float, no libm, no malloc).
 *
 * The algorithm is the TFLite Micro micro-frontend family: Hann window (Q12),
 * 512-point fixed-point real FFT, mel filterbank, spectral-subtraction noise
 * reduction, PCAN gain control, log scale, int8 mapping. Every constant comes
 * from the generated kws_frontend_config.h / kws_frontend_tables.h (rendered
 * by kws from the model's frontend parameters). kws/audio/frontend.py is the
 * Python twin; tests prove both give identical values.
 */
#ifndef KWS_FRONTEND_H
#define KWS_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "kws_frontend_config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int16_t input[KWS_FE_FFT_SIZE];          /* current window + zero padding */
  size_t input_used;                       /* how many of them are filled   */
  uint32_t estimate[KWS_FE_NUM_CHANNELS];  /* noise estimate per channel    */
} kws_frontend_t;

/* Reset all state (start of a new stream). */
void kws_frontend_init(kws_frontend_t *fe);

/* Consume up to n samples. Returns how many were consumed; when a window
 * completes, stops there, sets *frame_ready = 1 and writes the int8 frame to
 * out (and the raw uint16 log-mel values to raw when raw is not NULL).
 * Call again with the remaining samples. */
size_t kws_frontend_feed(kws_frontend_t *fe, const int16_t *samples, size_t n,
                         int8_t out[KWS_FE_NUM_CHANNELS],
                         uint16_t *raw, int *frame_ready);

#ifdef __cplusplus
}
#endif

#endif /* KWS_FRONTEND_H */

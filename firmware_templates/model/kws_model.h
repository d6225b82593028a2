/* kws model interface: the same four calls for runtime "tflm" and runtime "c".
 *
 *   if (kws_model_init() != 0) { print(kws_model_error()); stop; }
 *   print("arena used", kws_model_arena_used_bytes());
 *   fill kws_model_input() with KWS_MODEL_INPUT_BYTES quantized features;
 *   kws_model_invoke();  scores = kws_model_output();  (KWS_MODEL_OUTPUT_COUNT)
 */
#ifndef KWS_MODEL_H
#define KWS_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kws_model_settings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Prepares the model; 0 on success. Otherwise kws_model_error() says why
 * (for example a tensor arena that is too small) and nothing else may be called. */
int kws_model_init(void);

/* The input tensor: KWS_MODEL_INPUT_BYTES values of type kws_input_t. */
kws_input_t *kws_model_input(void);

/* Runs one inference on the current input; 0 on success. The arena is
 * reused inside an inference (runtime c overlaps buffers), so fill the input
 * again before every call and read the output before writing the next input. */
int kws_model_invoke(void);

/* The output tensor of the last inference: KWS_MODEL_OUTPUT_COUNT scores. */
const kws_output_t *kws_model_output(void);

#if KWS_MODEL_STREAM_FRAMES > 0
/* Streaming (runtime c, when the model allows it): each inference takes
 * only the KWS_MODEL_STREAM_FRAMES newest frames and computes only the time
 * steps they make new; the model keeps what later inferences still need.
 *
 *   after kws_model_stream_reset(), every KWS_MODEL_STREAM_FRAMES frames:
 *     copy them (oldest first) to kws_model_stream_input();
 *     kws_model_stream_invoke();  scores = kws_model_output();
 *
 * Once the frames since the reset fill a window, the scores equal
 * kws_model_invoke() on the window of the newest KWS_MODEL_WINDOW_FRAMES
 * frames, bit for bit.
 * kws_model_invoke() itself resets the stream (it replays its window). */
void kws_model_stream_reset(void);
kws_input_t *kws_model_stream_input(void);
int kws_model_stream_invoke(void);
#endif

/* Bytes of the tensor arena actually in use after kws_model_init(). */
size_t kws_model_arena_used_bytes(void);

/* Why the last call failed, or "" when nothing failed. */
const char *kws_model_error(void);

#ifdef __cplusplus
}
#endif

#endif /* KWS_MODEL_H */

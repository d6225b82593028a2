/* kws posterior smoothing: int8 class scores in, keyword detections out.
 * C99, integer-only, no malloc. kws/train/smoothing.py is the Python twin;
 * tests prove both report the same detections on long score streams.
 *
 * Like TFLM's RecognizeCommands: each inference adds its scores (int8 softmax
 * output + 128, so 0..255 = probability x 256) stamped with a millisecond
 * time; results older than average_window_ms (or beyond
 * KWS_SMOOTHING_MAX_RESULTS) leave the window. With at least minimum_count
 * results in it, the per-class average (integer division) picks the top class
 * (lowest index on ties); it is reported when its bit is set in keyword_mask,
 * its average is >= threshold and suppression_ms passed since the last report.
 * Times are uint32 ms; differences wrap, so the clock may roll over.
 */
#ifndef KWS_SMOOTHING_H
#define KWS_SMOOTHING_H

#include <stdint.h>

#ifndef KWS_SMOOTHING_MAX_RESULTS
#define KWS_SMOOTHING_MAX_RESULTS 64
#endif
#ifndef KWS_SMOOTHING_MAX_CLASSES
#define KWS_SMOOTHING_MAX_CLASSES 32
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  uint32_t average_window_ms;
  uint32_t suppression_ms;
  uint32_t keyword_mask;   /* bit i: class i may be reported */
  uint8_t threshold;       /* 0..255 */
  uint8_t minimum_count;   /* 1..KWS_SMOOTHING_MAX_RESULTS */
  uint8_t num_classes;     /* 1..KWS_SMOOTHING_MAX_CLASSES */
} kws_smoothing_config_t;

typedef struct {
  int label;               /* class index */
  uint8_t score;           /* its average score, 0..255 */
  uint32_t time_ms;
} kws_detection_t;

typedef struct {
  kws_smoothing_config_t cfg;
  uint32_t times[KWS_SMOOTHING_MAX_RESULTS];
  uint8_t scores[KWS_SMOOTHING_MAX_RESULTS][KWS_SMOOTHING_MAX_CLASSES];
  uint32_t sums[KWS_SMOOTHING_MAX_CLASSES];
  uint16_t oldest;         /* ring index of the oldest result */
  uint16_t count;          /* results in the window */
  uint8_t has_report;
  uint32_t last_report_ms;
} kws_smoothing_t;

/* Start empty with cfg. Returns 0, or -1 when cfg is out of range. */
int kws_smoothing_init(kws_smoothing_t *s, const kws_smoothing_config_t *cfg);

/* Add one inference's scores (cfg.num_classes int8 values) at now_ms.
 * Returns 1 and fills *out on a detection, 0 otherwise, -1 (result ignored)
 * when now_ms is earlier than the previous result. */
int kws_smoothing_update(kws_smoothing_t *s, const int8_t *scores, uint32_t now_ms, kws_detection_t *out);

#ifdef __cplusplus
}
#endif

#endif /* KWS_SMOOTHING_H */

/* kws posterior smoothing; see kws_smoothing.h. */
#include "kws_smoothing.h"

#include <string.h>

int kws_smoothing_init(kws_smoothing_t *s, const kws_smoothing_config_t *cfg) {
  if (cfg->num_classes < 1 || cfg->num_classes > KWS_SMOOTHING_MAX_CLASSES ||
      cfg->minimum_count < 1 || cfg->minimum_count > KWS_SMOOTHING_MAX_RESULTS ||
      cfg->average_window_ms == 0) {
    return -1;
  }
  memset(s, 0, sizeof(*s));
  s->cfg = *cfg;
  return 0;
}

static void drop_oldest(kws_smoothing_t *s) {
  const uint8_t *old = s->scores[s->oldest];
  for (int i = 0; i < s->cfg.num_classes; ++i) {
    s->sums[i] -= old[i];
  }
  s->oldest = (uint16_t)((s->oldest + 1) % KWS_SMOOTHING_MAX_RESULTS);
  s->count--;
}

int kws_smoothing_update(kws_smoothing_t *s, const int8_t *scores, uint32_t now_ms, kws_detection_t *out) {
  if (s->count > 0) {
    uint16_t newest = (uint16_t)((s->oldest + s->count - 1) % KWS_SMOOTHING_MAX_RESULTS);
    if ((uint32_t)(now_ms - s->times[newest]) > 0x7FFFFFFFu) {
      return -1;
    }
  }
  if (s->count == KWS_SMOOTHING_MAX_RESULTS) {
    drop_oldest(s);
  }
  uint16_t slot = (uint16_t)((s->oldest + s->count) % KWS_SMOOTHING_MAX_RESULTS);
  s->times[slot] = now_ms;
  for (int i = 0; i < s->cfg.num_classes; ++i) {
    uint8_t v = (uint8_t)(scores[i] + 128);
    s->scores[slot][i] = v;
    s->sums[i] += v;
  }
  s->count++;
  while ((uint32_t)(now_ms - s->times[s->oldest]) > s->cfg.average_window_ms) {
    drop_oldest(s);
  }
  if (s->count < s->cfg.minimum_count) {
    return 0;
  }
  int top = 0;
  uint32_t best = s->sums[0] / s->count;
  for (int i = 1; i < s->cfg.num_classes; ++i) {
    uint32_t avg = s->sums[i] / s->count;
    if (avg > best) {
      best = avg;
      top = i;
    }
  }
  if (!((s->cfg.keyword_mask >> top) & 1u) || best < s->cfg.threshold) {
    return 0;
  }
  if (s->has_report && (uint32_t)(now_ms - s->last_report_ms) < s->cfg.suppression_ms) {
    return 0;
  }
  s->has_report = 1;
  s->last_report_ms = now_ms;
  out->label = top;
  out->score = (uint8_t)best;
  out->time_ms = now_ms;
  return 1;
}

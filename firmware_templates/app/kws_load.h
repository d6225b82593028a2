/* Real-time accounting: can the firmware keep up with the microphone?
 *
 * Busy time is what the main loop spends in rounds that did work (serial
 * input, microphone, frontend, model, smoothing, output: everything in
 * kws_app_poll), timed with kws_board_micros(); rounds without work, and the
 * board's idle (WFI, yield, vTaskDelay), count as free. Every
 * KWS_LOAD_PERIOD_MS of audio through the frontend, one line for people:
 *
 *     Status load=21% clock=64MHz audio_ms=2000 dropped=0
 *
 * load = busy time / duration of that audio, in percent (above 100: slower
 * than real time); clock = kws_board_clock_hz() in MHz; audio_ms = the audio
 * of this period; dropped = samples lost in this period (ring buffer full,
 * plus what the microphone driver reports). On the emulated board every
 * figure is in emulated time (see kws_board_qemu.c). */
#ifndef KWS_LOAD_H
#define KWS_LOAD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef KWS_LOAD_PERIOD_MS
#define KWS_LOAD_PERIOD_MS 2000u
#endif

/* Start of a main-loop round: returns the time to give to kws_load_end. */
uint32_t kws_load_begin(void);
/* End of the round that started at `start`; it counts as busy when it worked. */
void kws_load_end(uint32_t start, int worked);
/* n samples went through the frontend. */
void kws_load_audio(size_t n);
/* Prints the status line once a period of audio went through. ring_dropped:
 * the audio ring's lost-sample counter (it may restart from 0). */
void kws_load_report(uint32_t ring_dropped);
/* kws_board_clock_hz() rounded to MHz (for the boot banner). */
uint32_t kws_load_clock_mhz(void);

#ifdef __cplusplus
}
#endif

#endif /* KWS_LOAD_H */

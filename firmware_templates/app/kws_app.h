/* The shared firmware core: audio (microphone or host stream over the
 * serial link) -> ring buffer -> streaming frontend (one frame per stride)
 * -> feature window -> model every KWS_INFER_EVERY_FRAMES frames ->
 * posterior smoothing -> "Heard <word> (<score>) @<ms>ms" and
 * kws_on_keyword().
 *
 * Host-streamed clips (BEGIN, AUDIO..., END frames) are evaluated one by
 * one: the frontend starts fresh, every frame is computed, the last window
 * is classified and the raw scores go back as
 *     ~result id=<clip> frames=<n> scores=<s0,s1,...> fe_us=<t> nn_us=<t>
 * (scores 0..255 = probability x 256), so the host can compare them with
 * its own results bit for bit.
 *
 * A board's main calls kws_board_init(), kws_app_init() and then
 * kws_app_poll() forever (Arduino: setup()/loop()). */
#ifndef KWS_APP_H
#define KWS_APP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Prints the boot banner and prepares the model. */
void kws_app_init(void);
/* One round of the main loop: serial input, microphone, frontend, model. */
void kws_app_poll(void);
/* Called for each detection; the default blinks the LED. Define your own
 * (a strong symbol) to drive a relay, a GPIO, a display... */
void kws_on_keyword(const char *label, uint8_t score);

#ifdef __cplusplus
}
#endif

#endif /* KWS_APP_H */

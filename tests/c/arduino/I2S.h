/* Stand-in for arduino-pico's I2S library at fdd7557 (libraries/I2S/src/I2S.h):
 * what kws's I2S glue calls, with the library's signatures; I2S derives from
 * Stream there too. */
#ifndef KWS_STANDIN_I2S_H
#define KWS_STANDIN_I2S_H

#include <Arduino.h>

class I2S : public Stream {
public:
  I2S(PinMode direction = OUTPUT);
  virtual ~I2S();
  bool setBCLK(pin_size_t pin);
  bool setDATA(pin_size_t pin);
  bool setBitsPerSample(int bps);
  bool setBuffers(size_t buffers, size_t bufferWords, int32_t silenceSample = 0);
  bool begin(long sampleRate);
  int available() override;
  int read() override;
  size_t write(const uint8_t *buffer, size_t size) override;
  bool getOverUnderflow();
  size_t read(int32_t *val, bool sync);
  void onReceive(void (*)(void));
};

#endif

/* Stand-in for the PDM library of the Arduino mbed core 4.5.0
 * (libraries/PDM/src/PDM.h): what kws's PDM glue calls. */
#ifndef KWS_STANDIN_PDM_H
#define KWS_STANDIN_PDM_H

#include <Arduino.h>

class PDMClass {
public:
  int begin(int channels, int sampleRate);
  virtual int available();
  virtual int read(void *buffer, size_t size);
  void onReceive(void (*)(void));
};

extern PDMClass PDM;

#endif

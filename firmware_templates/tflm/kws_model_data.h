/* The model flatbuffer, linked into flash (see kws_model_data.cc). */
#ifndef KWS_MODEL_DATA_H
#define KWS_MODEL_DATA_H

extern const unsigned char kws_model_data[];
extern const unsigned int kws_model_data_len;

#endif /* KWS_MODEL_DATA_H */

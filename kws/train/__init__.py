"""Training: manifest clips -> features -> Keras model -> int8 .tflite + reports."""

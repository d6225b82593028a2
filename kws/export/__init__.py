"""Export: a .tflite model becomes firmware source.

Runtime ``tflm`` renders the model as a C array with an exact op resolver and
a measured arena; runtime ``c`` lowers it to plain C kernels with a static
memory plan. ``export_model`` writes either into a firmware folder and checks
that it fits the board.
"""

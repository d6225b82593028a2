// kws_model.h implemented with TensorFlow Lite Micro: the model array, the
// generated op resolver and a static arena of KWS_ARENA_BYTES.
#include <new>

#include "kws_model.h"
#include "kws_model_data.h"
#include "kws_op_resolver.h"
#include "tensorflow/lite/micro/micro_allocator.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_resource_variable.h"
#include "tensorflow/lite/schema/schema_generated.h"

namespace {

alignas(16) uint8_t g_arena[KWS_ARENA_BYTES];
kws::OpResolver g_resolver;
alignas(tflite::MicroInterpreter) uint8_t g_interpreter_memory[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter* g_interpreter = nullptr;
const char* g_error = "kws_model_init() was not called";

int Fail(const char* why) {
  g_error = why;
  return 1;
}

}  // namespace

extern "C" int kws_model_init(void) {
  const tflite::Model* model = tflite::GetModel(kws_model_data);
  if (model->version() != TFLITE_SCHEMA_VERSION) {
    return Fail("model schema version differs from this TFLM build");
  }
  if (kws::RegisterOps(g_resolver) != kTfLiteOk) {
    return Fail("op resolver: registering the model's ops failed");
  }
  tflite::MicroAllocator* allocator = tflite::MicroAllocator::Create(g_arena, sizeof(g_arena));
  if (allocator == nullptr) {
    return Fail("tensor arena too small: KWS_ARENA_BYTES cannot even hold the allocator");
  }
  tflite::MicroResourceVariables* variables = nullptr;
#if KWS_MODEL_RESOURCE_VARIABLES > 0
  variables = tflite::MicroResourceVariables::Create(allocator, KWS_MODEL_RESOURCE_VARIABLES);
  if (variables == nullptr) {
    return Fail("tensor arena too small: no room for the model's resource variables");
  }
#endif
  g_interpreter = new (g_interpreter_memory) tflite::MicroInterpreter(model, g_resolver, allocator, variables);
  if (g_interpreter->AllocateTensors() != kTfLiteOk) {
    g_interpreter = nullptr;
    return Fail("tensor arena too small for this model (KWS_ARENA_BYTES); re-run kws export for this TFLM build");
  }
  if (g_interpreter->input(0)->bytes != KWS_MODEL_INPUT_BYTES) {
    g_interpreter = nullptr;
    return Fail("model input size differs from KWS_MODEL_INPUT_BYTES");
  }
  g_error = "";
  return 0;
}

extern "C" kws_input_t* kws_model_input(void) {
  return g_interpreter->typed_input_tensor<kws_input_t>(0);
}

extern "C" int kws_model_invoke(void) {
  if (g_interpreter->Invoke() != kTfLiteOk) {
    return Fail("TFLM Invoke() failed");
  }
  return 0;
}

extern "C" const kws_output_t* kws_model_output(void) {
  return g_interpreter->typed_output_tensor<kws_output_t>(0);
}

extern "C" size_t kws_model_arena_used_bytes(void) {
  return g_interpreter == nullptr ? 0 : g_interpreter->arena_used_bytes();
}

extern "C" const char* kws_model_error(void) { return g_error; }

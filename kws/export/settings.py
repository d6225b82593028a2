"""What the firmware must know about a model besides its weights: labels,
input/output quantization, frontend parameters and posterior smoothing.

They come from the model's kws metadata; ``--labels`` (and an explicit
FrontendParams) stand in for models kws did not train. The generated header
``kws_model_settings.h`` is the same for both runtimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import jinja2

from kws.audio.frontend_header import params_hash
from kws.audio.frontend_params import FrontendParams
from kws.errors import UsageError
from kws.export.render import c_float, c_string
from kws.export.tflite_model import Tensor, TfliteModel
from kws.train.smoothing import SmoothingParams

_CTYPES = {"int8": "int8_t", "uint8": "uint8_t", "int16": "int16_t"}


@dataclass(frozen=True)
class ModelSettings:
    """Labels, frontend and smoothing that travel with one exported model."""

    labels: tuple[str, ...]
    frontend: FrontendParams
    smoothing: dict[str, Any] | None
    warnings: tuple[str, ...] = field(default=())


def resolve_settings(model: TfliteModel, labels: Sequence[str] | None = None,
                     frontend: FrontendParams | None = None, period_ms: int | None = None) -> ModelSettings:
    """Labels from ``labels`` or the metadata (their count must match the
    output); frontend from ``frontend``, the metadata or kws's defaults;
    ``period_ms`` replaces the smoothing's inference period."""
    warnings: list[str] = []
    chosen = list(labels) if labels else model.labels
    if not chosen:
        raise UsageError(
            f"{model.source}: the model carries no kws labels; pass --labels with one name per output, "
            "in output order (e.g. --labels _silence_,_unknown_,yes,no)"
        )
    if len(set(chosen)) != len(chosen) or not all(chosen):
        raise UsageError(f"--labels {','.join(chosen)}: names must be non-empty and distinct")
    if len(chosen) != model.output.size:
        raise UsageError(
            f"--labels: {len(chosen)} names for {model.output.size} model outputs ({model.output.describe()}); "
            "give one name per output, in output order"
        )
    params = frontend or model.frontend
    if params is None:
        params = FrontendParams()
        warnings.append("the model has no frontend parameters in its metadata; the header assumes kws's defaults")
    unfed = feed_problem(model, params)
    if unfed:
        warnings.append(unfed)
    smoothing = model.smoothing
    if period_ms is not None:
        if period_ms < params.stride_ms:
            raise UsageError(f"--period-ms {period_ms}: use at least the frontend stride ({params.stride_ms} ms)")
        smoothing = {**(smoothing or SmoothingParams().to_dict()), "inference_period_ms": int(period_ms)}
        # the averaging window must still hold minimum_count results, or nothing is ever reported
        fitting = max(1, int(smoothing["average_window_ms"]) // int(period_ms))
        smoothing["minimum_count"] = min(int(smoothing["minimum_count"]), fitting)
    return ModelSettings(tuple(chosen), params, smoothing, tuple(warnings))


def feed_problem(model: TfliteModel, params: FrontendParams) -> str:
    """Why kws's firmware frontend cannot feed ``model`` with ``params`` ("" when it can):
    the firmware gives a model whole windows of frames x channels features."""
    frames, channels = params.num_frames, params.num_channels
    shape = model.input.shape
    if model.input.size == frames * channels:
        return ""
    if model.uses_resource_variables and len(shape) >= 2 and shape[-1] == channels and model.input.size < frames * channels:
        return (f"a streaming model fed {model.input.size // channels} frames of {channels} features per inference "
                f"(its state in resource variables, like micro_wake_word's): kws's firmware gives a TFLM model whole "
                f"windows of {frames} x {channels} features, and streams only the models it runs with runtime c")
    return (f"the model input has {model.input.size} values ({model.input.describe()}) but kws's frontend gives "
            f"{frames} x {channels} = {frames * channels} features: the firmware cannot feed this model as it is")


def _quant(tensor: Tensor) -> tuple[str, int]:
    if tensor.quant is None:
        return "1.0f", 0
    return c_float(tensor.quant.scale), tensor.quant.zero_point


def _define_value(value: bool | int | float) -> str:
    """A #define value: booleans as 1/0, numbers as C literals."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value) if isinstance(value, float) else str(int(value))


def inference_period_frames(smoothing: dict[str, Any] | None, frontend: FrontendParams) -> int:
    """Frames between two inferences: the smoothing's inference period (kws's
    default when the model has none) in frontend strides, at least 1."""
    params = SmoothingParams.from_dict(smoothing) if smoothing else SmoothingParams()
    return max(1, round(params.inference_period_ms / frontend.stride_ms))


def render_settings(env: jinja2.Environment, model: TfliteModel, settings: ModelSettings, runtime: str,
                    arena_bytes: int, arena_note: str, stream_frames: int = 0, stream_note: str = "") -> str:
    """Text of ``kws_model_settings.h``."""
    input_scale, input_zero_point = _quant(model.input)
    output_scale, output_zero_point = _quant(model.output)
    return env.get_template("model/kws_model_settings.h.j2").render(
        source=model.source.rsplit("/", 1)[-1],
        model_bytes=len(model.data),
        sha256=model.sha256,
        runtime=runtime,
        input=model.input,
        input_ctype=_CTYPES[model.input.dtype],
        input_scale=input_scale,
        input_zero_point=input_zero_point,
        output=model.output,
        output_ctype=_CTYPES[model.output.dtype],
        output_scale=output_scale,
        output_zero_point=output_zero_point,
        labels=[c_string(label) for label in settings.labels],
        arena_bytes=arena_bytes,
        arena_note=arena_note,
        resource_variables=model.resource_variable_count,
        stream_frames=stream_frames,
        frontend_frames=settings.frontend.num_frames,
        stream_note=stream_note,
        frontend_json=settings.frontend.to_json(),
        frontend_hash=params_hash(settings.frontend),
        frontend=[(k, _define_value(v)) for k, v in settings.frontend.to_dict().items()],
    )

"""Runtime ``tflm``: the model as TFLite Micro sources.

Renders from ``firmware_templates/tflm/``: the flatbuffer as an
``alignas(16)`` const C array (size and sha256 in a comment), a
``MicroMutableOpResolver<N>`` registering exactly the model's N ops, and the
``kws_model.h`` implementation over a static arena of the measured size.

These sources need TFLM itself to build. To check that they compile against a
tflite-micro checkout, point ``KWS_TFLM_DIR`` at it (with its third-party
downloads: flatbuffers, gemmlowp, ruy, kissfft) and run
``pytest tests/test_export_tflm.py -k compiles``.
"""

from __future__ import annotations

import jinja2

from kws.export.op_support import TFLM_RESOLVER_METHODS
from kws.export.render import c_array, static_file
from kws.export.tflite_model import TfliteModel

STATIC_SOURCES = ("kws_model_data.h", "kws_model_tflm.cc")


def resolver_ops(model: TfliteModel) -> list[tuple[str, str]]:
    """(op, MicroMutableOpResolver method) for every distinct op, in order of first use."""
    return [(op, TFLM_RESOLVER_METHODS[op]) for op in model.ops]


def render_tflm_sources(env: jinja2.Environment, model: TfliteModel) -> dict[str, str]:
    """File name -> text of the TFLM-specific model sources."""
    source = model.source.rsplit("/", 1)[-1]
    files = {
        "kws_model_data.cc": env.get_template("tflm/kws_model_data.cc.j2").render(
            source=source, size=len(model.data), sha256=model.sha256,
            body=c_array(model.data, per_line=16, hexadecimal=True),
        ),
        "kws_op_resolver.h": env.get_template("tflm/kws_op_resolver.h.j2").render(
            ops=resolver_ops(model), sha256=model.sha256,
        ),
    }
    files.update({name: static_file("tflm", name) for name in STATIC_SOURCES})
    return files

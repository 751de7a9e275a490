"""Checks for the exercises of notebook 04 (kernels and feature maps).

The questions are about the baseline, so the expected answers and the hints are
taken from :func:`helpers.models.baseline_cnn` itself: its kernel shapes, output
shapes and layer settings.
"""

from __future__ import annotations

from helpers.exercises import exercise, layer_shape, number, reference_model, shape


def _baseline():
    return reference_model("baseline_cnn")


#: The filters of the third convolution exercise 04.1 asks about (a block after pool2).
NEW_FILTERS = 128


@exercise("04.1")
def conv3_kernel_shape(answer):
    model = _baseline()
    conv2 = tuple(int(v) for v in model.get_layer("conv2").kernel.shape)
    kh, kw, _, c_in = conv2  # the new layer reads pool2's maps: conv2's filters
    f = NEW_FILTERS
    expected = (kh, kw, c_in, f)
    return shape(
        answer,
        expected,
        hints={
            conv2: f"That is conv2's shape, printed above. The new layer reads the {c_in} "
            f"maps of pool2, so it has a kernel for each of {c_in} input channels, and "
            f"{f} filters.",
            (f, kh, kw, c_in): "Keras puts the filters last: (height, width, input channels, "
            "filters).",
            (kh, kw, c_in): "Add the filters axis: (height, width, input channels, filters).",
            (f, c_in, kh, kw): "Keras stores kernels as (height, width, input channels, filters).",
            "default": "The shape is (kernel height, kernel width, input channels, filters); "
            "the input channels are the maps the layer reads.",
        },
        why=f"{f} filters, each with a {kh} × {kw} kernel for each of the {c_in} maps of pool2.",
    )


@exercise("04.2")
def conv1_same_padding_values(answer):
    model = _baseline()
    h, w, c = layer_shape(model, "conv1")
    in_h, in_w, _ = (int(v) for v in model.input_shape[1:])
    values = in_h * in_w * c  # 'same' padding keeps the input's height and width
    pixels = in_h * in_w
    return number(
        answer,
        values,
        hints={
            h * w * c: f"{h} × {w} × {c} is conv1's output as built, with 'valid' padding (the "
            f"table above); 'same' padding keeps the {in_h} × {in_w} size.",
            pixels: f"{in_h} × {in_w} is one feature map; conv1 has {c} filters, one map each.",
            model.get_layer("conv1").count_params(): f"{model.get_layer('conv1').count_params()} "
            "is conv1's number of parameters, and padding does not change it; the question asks "
            "about the size of its output.",
            "default": f"With 'same' padding each of conv1's {c} maps keeps the input's "
            f"{in_h} × {in_w} size.",
        },
        why=f"{in_h} × {in_w} × {c} = {values:,} numbers, {values / pixels:.0f} times the "
        f"{pixels} input pixels, and {values - h * w * c:,} more than with 'valid' padding.",
    )


def _windows(model) -> dict[str, tuple[int, int, int]]:
    """Per convolution or pooling layer, in order: (window size, stride, receptive field).

    The receptive field is the width in input pixels of the patch that one output value
    depends on: each layer adds (window - 1) × (distance between its inputs, in pixels).
    """
    out, field, step = {}, 1, 1
    for layer in model.layers:
        config = layer.get_config()
        window = config.get("kernel_size") or config.get("pool_size")
        if window is None:
            continue
        size, stride = int(window[0]), int(config["strides"][0])
        field += (size - 1) * step
        step *= stride
        out[layer.name] = (size, stride, field)
    return out


@exercise("04.3")
def conv2_receptive_field(answer):
    windows = _windows(_baseline())
    k1, _, _ = windows["conv1"]
    pool_size, pool_stride, pool1_field = windows["pool1"]
    k2, _, expected = windows["conv2"]
    unpooled = _windows(reference_model("cnn", pooling="none"))["conv2"][2]
    conv1_span = (k2 - 1) * pool_stride + pool_size  # the conv1 values one conv2 value reads
    return number(
        answer,
        expected,
        hints={
            unpooled: f"{k1} + {k2} - 1 = {unpooled} would hold without pooling; after pool1 "
            f"the neighbouring values that conv2 reads are {pool_stride} conv1 values apart.",
            k2 * k2: f"{k2} × {k2} = {k2 * k2} is the number of values in a kernel; the "
            "question asks for the width of the image patch.",
            windows["pool2"][2]: f"{windows['pool2'][2]} is the receptive field of pool2, one "
            "layer further.",
            conv1_span: f"conv2 sees {conv1_span} conv1 values across, but each of those looks "
            f"at {k1} pixels: add the {k1 - 1} extra pixels at the edge.",
            pool1_field: f"{pool1_field} is pool1's receptive field; conv2 adds its own "
            f"{k2} × {k2} window on top.",
            "default": f"Work outwards: conv2 sees {k2} pool1 values, {pool_stride} conv1 "
            "values apart ...",
        },
        why=f"{k2} pool1 values → {conv1_span} conv1 values (stride {pool_stride}) → "
        f"{conv1_span} + {k1} - 1 = {expected} pixels.",
    )

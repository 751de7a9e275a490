"""Checks for the exercises of notebook 04 (kernels and feature maps)."""

from __future__ import annotations

from helpers.exercises import exercise, number, shape


@exercise("04.1")
def conv2_kernel_shape(answer):
    return shape(
        answer,
        (3, 3, 32, 32),
        hints={
            (3, 3, 1, 32): "That is conv1's shape. conv2 reads the 32 feature maps of pool1, "
            "so it has a kernel for each of 32 input channels.",
            (
                32,
                3,
                3,
                32,
            ): "Keras puts the filters last: (height, width, input channels, filters).",
            (3, 3, 32): "Add the filters axis: (height, width, input channels, filters).",
            (32, 32, 3, 3): "Keras stores kernels as (height, width, input channels, filters).",
            "default": "The shape is (kernel height, kernel width, input channels, filters).",
        },
        why="32 filters, each with a 3 × 3 kernel for each of the 32 input channels.",
    )


@exercise("04.2")
def conv1_output_values(answer):
    return number(
        answer,
        21_632,
        hints={
            25_088: "28 × 28 × 32 would need 'same' padding; the baseline's convolutions are "
            "valid, so the maps are 26 × 26.",
            5_408: "13 × 13 × 32 is after pooling; the question asks about conv1's own output.",
            676: "26 × 26 is one feature map; conv1 has 32 filters, one map each.",
            320: "320 is conv1's number of parameters, not the size of its output.",
            "default": "conv1 outputs one 26 × 26 map per filter, and it has 32 filters.",
        },
        why="26 × 26 × 32 = 21,632 numbers, 27 times as many as the 784 input pixels.",
    )


@exercise("04.3")
def conv2_receptive_field(answer):
    return number(
        answer,
        8,
        hints={
            5: "3 + 3 - 1 = 5 would hold without pooling; pool1 doubles the step between "
            "neighbouring values that conv2 reads.",
            9: "3 × 3 = 9 is the number of values in a kernel; the question asks for the "
            "width of the image patch.",
            10: "10 is the receptive field of pool2, one layer further.",
            6: "conv2 sees 6 conv1 values across, but each of those looks at 3 pixels: "
            "add the 2 extra pixels at the edge.",
            4: "4 is pool1's receptive field; conv2 adds its own 3 × 3 window on top.",
            "default": "Work outwards: conv2 sees 3 pool1 values, 2 conv1 values apart ...",
        },
        why="3 pool1 values → 6 conv1 values (stride 2) → 6 + 3 - 1 = 8 pixels.",
    )

"""The course's model builders.

``baseline_cnn`` is introduced in notebook 02 and trained in notebook 03; the
``pooling``, ``dropout`` and ``batch_norm`` options of :func:`cnn` are the variants
of notebooks 05-07; :func:`capstone_cnn` is notebook 08's model.
"""

from __future__ import annotations

import keras
from keras import layers

__all__ = [
    "INPUT_SHAPE",
    "NUM_CLASSES",
    "POOLING_CHOICES",
    "baseline_cnn",
    "capstone_cnn",
    "cnn",
    "compile_model",
    "conv_layer_names",
]

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
POOLING_CHOICES = ("max", "average", "strided", "none")


def compile_model(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile with Adam, sparse categorical cross-entropy and accuracy (introduced in notebook 03).

    ``learning_rate`` may be a number or a Keras learning-rate schedule.
    """
    if isinstance(learning_rate, (int, float)) and not 0 < learning_rate <= 1:
        raise ValueError(
            f"learning_rate is {learning_rate!r}; expected a number in (0, 1], e.g. 1e-3"
        )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _check_rate(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"{name} is {value!r}; expected a dropout rate in [0, 1), e.g. 0.25")


def cnn(
    filters: tuple[int, ...] = (32, 32),
    dense_units: int = 128,
    pooling: str = "max",
    batch_norm: bool = False,
    conv_dropout: float = 0.0,
    dense_dropout: float = 0.0,
    learning_rate: float = 1e-3,
    name: str = "cnn",
) -> keras.Model:
    """Build and compile a family of small CNNs around the course's baseline.

    Introduced in notebook 05; the defaults give exactly :func:`baseline_cnn`. One
    block per entry of ``filters``: Conv2D(f, 3x3) [+ BatchNormalization] + ReLU,
    then the block's down-sampling, chosen by ``pooling``:

    - ``"max"``: MaxPooling2D(2) (the baseline);
    - ``"average"``: AveragePooling2D(2);
    - ``"strided"``: no pooling layer, the convolution itself uses stride 2;
    - ``"none"``: no down-sampling at all.

    With ``batch_norm`` the normalization sits between the convolution (which then
    has no bias, since BN's beta replaces it) and the ReLU. ``conv_dropout`` adds
    Dropout after each block, ``dense_dropout`` after the dense layer.
    """
    if pooling not in POOLING_CHOICES:
        raise ValueError(f"pooling is {pooling!r}; expected one of {POOLING_CHOICES}")
    if not filters or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in filters):
        raise ValueError(f"filters is {filters!r}; expected a non-empty tuple of positive ints")
    if isinstance(dense_units, bool) or not isinstance(dense_units, int) or dense_units < 1:
        raise ValueError(f"dense_units is {dense_units!r}; expected a positive int, e.g. 128")
    _check_rate("conv_dropout", conv_dropout)
    _check_rate("dense_dropout", dense_dropout)

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    for i, f in enumerate(filters, start=1):
        strides = 2 if pooling == "strided" else 1
        activation = None if batch_norm else "relu"
        x = layers.Conv2D(
            f, 3, strides=strides, activation=activation, use_bias=not batch_norm, name=f"conv{i}"
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
            x = layers.Activation("relu", name=f"relu{i}")(x)
        if pooling == "max":
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        elif pooling == "average":
            x = layers.AveragePooling2D(2, name=f"pool{i}")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"drop{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense")(x)
    if dense_dropout:
        x = layers.Dropout(dense_dropout, name="drop_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return compile_model(keras.Model(inputs, outputs, name=name), learning_rate)


def baseline_cnn(learning_rate: float = 1e-3) -> keras.Model:
    """The module's baseline CNN, compiled (introduced in notebook 02, trained in notebook 03).

    Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(32, 3x3, relu) ->
    MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dense(10, softmax); input
    28x28x1; Adam, sparse categorical cross-entropy, accuracy. 113,386 parameters.
    """
    return cnn(learning_rate=learning_rate, name="baseline_cnn")


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, in order (introduced in notebook 04)."""
    return [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)]


def capstone_cnn(
    widths: tuple[int, int] = (32, 64),
    dense_units: int = 256,
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.5,
    augment: bool = True,
    learning_rate: float = 1e-3,
) -> keras.Model:
    """Notebook 08's model: two double-conv blocks with BN and dropout, plus light augmentation.

    Introduced in notebook 08. Each block is [Conv2D(same) + BN + ReLU] x 2, then
    MaxPooling2D(2) and Dropout; then Dense + BN + ReLU + Dropout and the softmax.
    With ``augment`` the model starts with RandomFlip("horizontal") and a random
    translation of up to 2 pixels, which are active only in training.
    ``learning_rate`` may be a schedule.
    """
    if len(widths) != 2 or any(
        isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths
    ):
        raise ValueError(f"widths is {widths!r}; expected two positive ints, e.g. (32, 64)")
    if isinstance(dense_units, bool) or not isinstance(dense_units, int) or dense_units < 1:
        raise ValueError(f"dense_units is {dense_units!r}; expected a positive int, e.g. 256")
    _check_rate("conv_dropout", conv_dropout)
    _check_rate("dense_dropout", dense_dropout)
    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    if augment:
        x = layers.RandomFlip("horizontal", name="flip")(x)
        x = layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", name="shift")(x)
    for b, width in enumerate(widths, start=1):
        for c in (1, 2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{b}_{c}")(x)
            x = layers.BatchNormalization(name=f"bn{b}_{c}")(x)
            x = layers.Activation("relu", name=f"relu{b}_{c}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{b}")(x)
        x = layers.Dropout(conv_dropout, name=f"drop{b}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="bn_dense")(x)
    x = layers.Activation("relu", name="relu_dense")(x)
    x = layers.Dropout(dense_dropout, name="drop_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return compile_model(keras.Model(inputs, outputs, name="capstone_cnn"), learning_rate)

"""The course's model builders, and tools to look inside a model.

``baseline_cnn`` is introduced in notebook 02 and trained in notebook 03; the
``pooling``, ``dropout`` and ``batch_norm`` options of :func:`cnn` are the variants
of notebooks 05-07; :func:`capstone_cnn` is notebook 08's model. Notebook 04 looks
inside a trained model with :func:`conv_kernels`, :func:`feature_extractor` and
:func:`layer_outputs`.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from helpers.data import check_images

__all__ = [
    "CURVE_COLUMNS",
    "INPUT_SHAPE",
    "NUM_CLASSES",
    "POOLING_CHOICES",
    "SEARCH_COLUMNS",
    "baseline_cnn",
    "capstone_cnn",
    "capstone_search",
    "cnn",
    "compile_model",
    "conv_kernels",
    "conv_layer_names",
    "feature_extractor",
    "feature_layer_names",
    "layer_outputs",
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


_POOLING_LAYERS = (layers.MaxPooling2D, layers.AveragePooling2D)


def _check_model(model: keras.Model) -> None:
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model is a {type(model).__name__}; expected a Keras model, "
            "e.g. helpers.models.baseline_cnn()"
        )


def feature_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D and 2-D pooling layers, in order (introduced in notebook 04).

    These are the layers whose outputs are feature maps, one 2-D grid per channel.
    """
    _check_model(model)
    return [
        layer.name for layer in model.layers if isinstance(layer, (layers.Conv2D, *_POOLING_LAYERS))
    ]


def _check_layer_name(model: keras.Model, name: str, valid: Sequence[str], kind: str) -> None:
    if not isinstance(name, str) or name not in valid:
        raise ValueError(
            f"{model.name!r} has no {kind} named {name!r}; the valid names are {list(valid)}"
        )


def conv_kernels(model: keras.Model, layer_name: str) -> np.ndarray:
    """The kernels of a Conv2D layer as an array (introduced in notebook 04).

    The shape is ``(kernel height, kernel width, input channels, filters)``: for the
    baseline, ``(3, 3, 1, 32)`` for ``"conv1"`` and ``(3, 3, 32, 32)`` for ``"conv2"``.
    The biases are left out.
    """
    _check_model(model)
    _check_layer_name(model, layer_name, conv_layer_names(model), "Conv2D layer")
    return np.asarray(model.get_layer(layer_name).kernel)


def feature_extractor(model: keras.Model, layer_names: Sequence[str] | None = None) -> keras.Model:
    """A model from the same input to the outputs of the named layers (introduced in notebook 04).

    ``layer_names`` defaults to :func:`feature_layer_names` (every convolution and
    pooling layer). The new model shares the original's weights; calling it on a
    batch returns a dict ``{layer name: output}``.
    """
    _check_model(model)
    valid = [layer.name for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    if layer_names is None:
        layer_names = feature_layer_names(model)
    elif isinstance(layer_names, str):
        raise TypeError(
            f"layer_names is the string {layer_names!r}; expected a list of names, "
            f"e.g. [{layer_names!r}]"
        )
    layer_names = list(layer_names)
    if not layer_names:
        raise ValueError(f"layer_names is empty; expected some of {valid}")
    for name in layer_names:
        _check_layer_name(model, name, valid, "layer")
    outputs = {name: model.get_layer(name).output for name in layer_names}
    return keras.Model(model.inputs, outputs, name=f"{model.name}_features")


def _as_batch(images: np.ndarray) -> np.ndarray:
    """Turn one image (28, 28) / (28, 28, 1) or a batch (N, 28, 28) into (N, 28, 28, 1)."""
    x = np.asarray(images)
    if x.shape in ((28, 28), (28, 28, 1)):
        x = x.reshape(1, 28, 28, 1)
    elif x.ndim == 3 and x.shape[1:] == (28, 28):
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(
            f"images has shape {np.shape(images)}; expected one image of shape (28, 28) or "
            "(28, 28, 1), or a batch of shape (N, 28, 28, 1)"
        )
    return check_images(x, "images")


def layer_outputs(
    model: keras.Model, images: np.ndarray, layer_names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Run images through a model and return what the named layers output (introduced in notebook 04).

    ``images`` is one model-ready image, ``(28, 28)`` or ``(28, 28, 1)``, or a batch
    ``(N, 28, 28, 1)``, float in [0, 1]. Returns ``{layer name: array}`` in layer
    order, each array with the batch axis first, e.g. ``(N, 26, 26, 32)`` for
    ``"conv1"`` of the baseline.
    """
    extractor = feature_extractor(model, layer_names)
    names = feature_layer_names(model) if layer_names is None else list(layer_names)
    x = _as_batch(images)
    outputs = extractor.predict(x, batch_size=256, verbose=0)
    return {name: np.asarray(outputs[name]) for name in names}


def _check_count(name: str, value: int, low: int, example: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} is {value!r}; expected a whole number >= {low}, e.g. {example}")


def capstone_cnn(
    widths: tuple[int, ...] = (32, 64),
    convs_per_block: int = 2,
    dense_units: int = 256,
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.5,
    flip: bool = False,
    max_shift: int = 0,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
) -> keras.Model:
    """Notebook 08's model: convolution blocks with batch norm, pooling and dropout.

    Introduced in notebook 08. One block per entry of ``widths``, each
    ``convs_per_block`` times [Conv2D(width, 3x3, "same", no bias) + BN + ReLU], then
    MaxPooling2D(2) and Dropout(``conv_dropout``); then Flatten, Dense(``dense_units``,
    no bias) + BN + ReLU + Dropout(``dense_dropout``) and the 10-way softmax. The
    defaults are the capstone notebook 08 trains (two blocks of two convolutions,
    32 then 64 filters).

    Optional augmentation layers at the start, active only in training:
    ``flip`` adds RandomFlip("horizontal"), ``max_shift`` a random translation of up
    to that many pixels. ``learning_rate`` may be a number or a Keras schedule.
    """
    if (
        not isinstance(widths, (tuple, list))
        or not widths
        or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)
    ):
        raise ValueError(
            f"widths is {widths!r}; expected a non-empty tuple of positive ints, one per "
            "block, e.g. (32, 64)"
        )
    if len(widths) > 3:
        raise ValueError(
            f"widths is {widths!r} ({len(widths)} blocks); expected at most 3 blocks: each "
            "halves the 28 x 28 image, and a fourth would leave 1 x 1 feature maps"
        )
    _check_count("convs_per_block", convs_per_block, 1, "2")
    _check_count("dense_units", dense_units, 1, "256")
    _check_count("max_shift", max_shift, 0, "2")
    if max_shift > 14:
        raise ValueError(f"max_shift is {max_shift!r}; expected at most 14 pixels, e.g. 2")
    if not isinstance(flip, bool):
        raise ValueError(f"flip is {flip!r}; expected True or False")
    _check_rate("conv_dropout", conv_dropout)
    _check_rate("dense_dropout", dense_dropout)

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    if flip:
        x = layers.RandomFlip("horizontal", name="flip")(x)
    if max_shift:
        x = layers.RandomTranslation(
            max_shift / 28, max_shift / 28, fill_mode="constant", name="shift"
        )(x)
    for b, width in enumerate(widths, start=1):
        for c in range(1, convs_per_block + 1):
            x = layers.Conv2D(int(width), 3, padding="same", use_bias=False, name=f"conv{b}_{c}")(x)
            x = layers.BatchNormalization(name=f"bn{b}_{c}")(x)
            x = layers.Activation("relu", name=f"relu{b}_{c}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{b}")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"drop{b}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(dense_units), use_bias=False, name="dense")(x)
    x = layers.BatchNormalization(name="bn_dense")(x)
    x = layers.Activation("relu", name="relu_dense")(x)
    if dense_dropout:
        x = layers.Dropout(dense_dropout, name="drop_dense")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return compile_model(keras.Model(inputs, outputs, name="capstone_cnn"), learning_rate)


#: The columns of the two tables :func:`capstone_search` returns.
SEARCH_COLUMNS = (
    "label",
    "architecture",
    "widths",
    "convs_per_block",
    "augmentation",
    "batch_size",
    "learning_rate",
    "schedule",
    "epochs",
    "seed",
    "parameters",
    "s_per_epoch",
    "training_s",
    "val_accuracy",
    "chosen",
)
CURVE_COLUMNS = ("label", "epoch", "elapsed_s", "val_accuracy")


def capstone_search():
    """The measurements behind notebook 08's recipe, as two pandas DataFrames.

    Introduced in notebook 08. Returns ``(runs, curves)``. ``runs`` has one row per
    candidate trained during the search (columns :data:`SEARCH_COLUMNS`): its
    architecture, augmentation, batch size, learning rate and schedule, epochs and seed, its
    parameter count, the seconds per epoch measured on 54,000 images on an otherwise
    idle 2-core CPU, the training time that makes (``epochs * s_per_epoch``), its
    validation accuracy after the last epoch, and whether it is the ``chosen`` recipe.
    ``curves`` holds the validation accuracy after every epoch of the main candidates
    (columns :data:`CURVE_COLUMNS`), with the elapsed training time at that epoch.

    The files ship with the helpers (``helpers/results/``), so this works wherever the
    helpers are installed.
    """
    from importlib import resources

    import pandas as pd

    folder = resources.files("helpers") / "results"
    tables = []
    for name, columns in (
        ("capstone_search.csv", SEARCH_COLUMNS),
        ("capstone_search_curves.csv", CURVE_COLUMNS),
    ):
        with (folder / name).open() as handle:
            table = pd.read_csv(handle)
        if tuple(table.columns) != columns:
            raise ValueError(
                f"{name} has the columns {list(table.columns)}; expected {list(columns)}. "
                "Reinstall the course's helpers."
            )
        tables.append(table)
    return tables[0], tables[1]

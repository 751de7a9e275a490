"""The course's model builders, and tools to look inside a model.

Notebook 02 writes the baseline as a ``keras.Sequential``; :func:`baseline_cnn` is
that model for the notebooks that reuse it. The ``pooling``, ``dropout`` and
``batch_norm`` options of :func:`cnn` are the variants of notebooks 05-07, its
``augment`` and ``head`` options those of notebook 08; :func:`capstone_cnn` is
notebook 10's model. Notebook 04 writes a feature extractor
with ``keras.Model(inputs, outputs)``; :func:`feature_extractor` and
:func:`layer_outputs` reuse it.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import layers

from helpers import augmentation, checks

__all__ = [
    "INPUT_SHAPE",
    "NUM_CLASSES",
    "HEAD_CHOICES",
    "POOLING_CHOICES",
    "architecture",
    "baseline_cnn",
    "capstone_cnn",
    "cnn",
    "compile_model",
    "conv_kernels",
    "conv_layer_names",
    "feature_extractor",
    "feature_layer_names",
    "fingerprint",
    "layer_outputs",
]

INPUT_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
POOLING_CHOICES = ("max", "average", "strided", "none")
#: What follows the convolutional blocks: Flatten (the baseline) or global average pooling.
HEAD_CHOICES = ("flatten", "gap")
#: Training steps Keras runs per call into TensorFlow. With small batches on a CPU the
#: Python overhead of each call is a large share of a step; 16 steps per call trained the
#: baseline at batch 32 about 1.3x faster, with identical results (the course's
#: appendix "How fast is this course?").
STEPS_PER_EXECUTION = 16

#: The capstone's goal (notebook 10): at least this test accuracy, with at most
#: CAPSTONE_MAX_PARAMETERS parameters. The teachers' rubric (tools.grading) and the speed
#: page's goals (make bench) use the same numbers.
CAPSTONE_GOAL = 0.94
CAPSTONE_MAX_PARAMETERS = 1_000_000


def compile_model(model: keras.Model, learning_rate: float = 1e-3) -> keras.Model:
    """Compile with Adam, sparse categorical cross-entropy and accuracy (introduced in notebook 03).

    Notebook 03 writes this ``model.compile(...)`` call and checks that a model compiled
    here trains to the same weights. ``learning_rate`` may be a number or a Keras
    learning-rate schedule. Keras runs :data:`STEPS_PER_EXECUTION` steps per call into
    TensorFlow, which is faster and computes the same weights.
    """
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        checks.number("learning_rate", learning_rate, above=0, high=1, example=1e-3)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


def cnn(
    filters: tuple[int, ...] = (32, 32),
    dense_units: int = 128,
    pooling: str = "max",
    batch_norm: bool = False,
    conv_dropout: float = 0.0,
    dense_dropout: float = 0.0,
    weight_decay: float = 0.0,
    batch_norm_momentum: float = 0.99,
    augment: Sequence[str] = (),
    head: str = "flatten",
    learning_rate: float = 1e-3,
    name: str = "cnn",
    compile: bool = True,
) -> keras.Model:
    """Build and compile a family of small CNNs around the course's baseline.

    Introduced in notebook 03; the defaults give exactly :func:`baseline_cnn`. One
    block per entry of ``filters``: Conv2D(f, 3x3) [+ BatchNormalization] + ReLU,
    then the block's down-sampling, chosen by ``pooling``:

    - ``"max"``: MaxPooling2D(2) (the baseline);
    - ``"average"``: AveragePooling2D(2);
    - ``"strided"``: no pooling layer, the convolution itself uses stride 2;
    - ``"none"``: no down-sampling at all.

    With ``batch_norm`` the normalization sits between the convolution (which then
    has no bias, since BN's beta replaces it) and the ReLU; ``batch_norm_momentum``
    is its moving averages' momentum (Keras' default 0.99). ``conv_dropout`` adds
    Dropout after each block, ``dense_dropout`` after the dense layer.
    ``weight_decay`` adds an L2 penalty, ``weight_decay * sum(w**2)``, on the kernels
    of every convolution and dense layer (notebook 06). ``augment`` names
    augmentation layers put in front of the first block, active only in training
    (:func:`helpers.augmentation.layers_for`: ``"shift"``, ``"flip"``, ``"erase"``, ...);
    ``head="gap"`` replaces Flatten by GlobalAveragePooling2D (both notebook 08). With
    ``compile=False`` the model is returned as built, for the caller to compile.
    """
    checks.choice("pooling", pooling, POOLING_CHOICES)
    filters = checks.positive_ints("filters", filters, "(32, 32)")
    dense_units = checks.whole("dense_units", dense_units, 1, example=128)
    checks.flag("batch_norm", batch_norm)
    checks.rate("conv_dropout", conv_dropout)
    checks.rate("dense_dropout", dense_dropout)
    weight_decay = checks.number("weight_decay", weight_decay, 0, 1, example=1e-4)
    batch_norm_momentum = checks.number(
        "batch_norm_momentum", batch_norm_momentum, 0, below=1, example=0.99
    )
    checks.flag("compile", compile)
    checks.choice("head", head, HEAD_CHOICES)
    augmenting = augmentation.layers_for(augment)
    # Keras records a regularizer in the layer's settings only when there is one, so the
    # baseline's architecture is the same with and without this option.
    decay = {"kernel_regularizer": keras.regularizers.L2(weight_decay)} if weight_decay else {}
    bn_settings = {} if batch_norm_momentum == 0.99 else {"momentum": batch_norm_momentum}

    inputs = keras.Input(shape=INPUT_SHAPE, name="image")
    x = inputs
    for layer in augmenting:
        x = layer(x)
    for i, f in enumerate(filters, start=1):
        strides = 2 if pooling == "strided" else 1
        activation = None if batch_norm else "relu"
        x = layers.Conv2D(
            f,
            3,
            strides=strides,
            activation=activation,
            use_bias=not batch_norm,
            name=f"conv{i}",
            **decay,
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}", **bn_settings)(x)
            x = layers.Activation("relu", name=f"relu{i}")(x)
        if pooling == "max":
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        elif pooling == "average":
            x = layers.AveragePooling2D(2, name=f"pool{i}")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"drop{i}")(x)
    if head == "gap":
        x = layers.GlobalAveragePooling2D(name="average")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(dense_units, activation="relu", name="dense", **decay)(x)
    if dense_dropout:
        x = layers.Dropout(dense_dropout, name="drop_dense")(x)
    # The softmax in float32 whatever the policy: in bfloat16 (notebooks 03 and 10) every
    # probability above 0.998 would round to 1.0, as Keras' mixed-precision guide warns.
    outputs = layers.Dense(
        NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32", **decay
    )(x)
    model = keras.Model(inputs, outputs, name=name)
    return compile_model(model, learning_rate) if compile else model


def baseline_cnn(learning_rate: float = 1e-3, compile: bool = True) -> keras.Model:
    """The module's baseline CNN, compiled (introduced in notebook 02).

    Notebook 02 writes it layer by layer as a ``keras.Sequential`` and notebook 03
    compiles and trains it; this is the same model (a test checks that they agree),
    for the notebooks that reuse it. Conv2D(32, 3x3, relu) -> MaxPooling2D(2) ->
    Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(128, relu) ->
    Dense(10, softmax); input 28x28x1; compiled by :func:`compile_model` unless
    ``compile=False``.
    """
    return cnn(learning_rate=learning_rate, name="baseline_cnn", compile=compile)


#: Layer settings that do not change what a layer computes or how many weights it has.
_NOT_ARCHITECTURE = {"name", "dtype", "trainable", "build_config", "seed"}


def _settings(config):
    if isinstance(config, dict):
        return {k: _settings(v) for k, v in sorted(config.items()) if k not in _NOT_ARCHITECTURE}
    if isinstance(config, (list, tuple)):
        return [_settings(v) for v in config]
    return config


def architecture(model: keras.Model) -> list[str]:
    """The model's layers, one line each: class and settings, without names.

    Introduced in notebook 02.

    Two models with the same list compute the same function of their weights, whether
    they were written as ``keras.Sequential`` or with the functional API, and whatever
    their layers are called: ``architecture(a) == architecture(b)`` is how the course
    checks that a notebook's model and the helper that reuses it agree. The saved
    baseline's record holds it too, so that a changed model never loads an old file.
    """
    checks.model(model)
    lines = [f"input {tuple(model.input_shape[1:])}"]
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        settings = _settings(layer.get_config())
        lines.append(f"{type(layer).__name__} {settings}")
    return lines


def fingerprint(model: keras.Model) -> str:
    """A short code for what a compiled model is and how it learns (introduced in notebook 03).

    Twelve hexadecimal digits computed from :func:`architecture` and the optimizer's
    settings (its class and learning rate). Two models with the same fingerprint train
    the same way from the same seed; the course's seed sweeps record it for every
    variant, so that a notebook can check that its own models are the ones the shipped
    results measured.
    """
    import hashlib
    import json

    checks.model(model)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError(
            f"{model.name!r} is not compiled; compile it before taking its fingerprint"
        )
    config = optimizer.get_config()
    learning_rate = config.get("learning_rate")
    described = {
        "architecture": architecture(model),
        "optimizer": type(optimizer).__name__,
        "learning_rate": learning_rate
        if isinstance(learning_rate, (int, float))
        else repr(learning_rate),
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D layers, in order (introduced in notebook 04)."""
    return [layer.name for layer in model.layers if isinstance(layer, layers.Conv2D)]


_POOLING_LAYERS = (layers.MaxPooling2D, layers.AveragePooling2D)


def feature_layer_names(model: keras.Model) -> list[str]:
    """Names of the model's Conv2D and 2-D pooling layers, in order (introduced in notebook 04).

    These are the layers whose outputs are feature maps, one 2-D grid per channel.
    """
    checks.model(model)
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
    checks.model(model)
    _check_layer_name(model, layer_name, conv_layer_names(model), "Conv2D layer")
    return np.asarray(model.get_layer(layer_name).kernel)


def feature_extractor(model: keras.Model, layer_names: Sequence[str] | None = None) -> keras.Model:
    """A model from the same input to the outputs of the named layers (introduced in notebook 04).

    ``layer_names`` defaults to :func:`feature_layer_names` (every convolution and
    pooling layer). The new model shares the original's weights; calling it on a
    batch returns a dict ``{layer name: output}``.
    """
    checks.model(model)
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
    return checks.images(x, "images")


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


def capstone_cnn(
    widths: tuple[int, ...] = (32, 64),
    convs_per_block: int = 2,
    dense_units: int = 256,
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.5,
    flip: bool = False,
    max_shift: int = 0,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    batch_norm: bool = True,
    bn_momentum: float = 0.99,
) -> keras.Model:
    """Notebook 10's model: convolution blocks with batch norm, pooling and dropout.

    Introduced in notebook 10. One block per entry of ``widths``, each
    ``convs_per_block`` times [Conv2D(width, 3x3, "same", no bias) + BN + ReLU], then
    MaxPooling2D(2) and Dropout(``conv_dropout``); then Flatten, Dense(``dense_units``,
    no bias) + BN + ReLU + Dropout(``dense_dropout``) and the 10-way softmax. The
    defaults are the capstone notebook 10 trains (two blocks of two convolutions,
    32 then 64 filters).

    Optional augmentation layers at the start, active only in training:
    ``flip`` adds RandomFlip("horizontal"), ``max_shift`` a random translation of up
    to that many pixels. ``learning_rate`` may be a number or a Keras schedule.
    ``batch_norm=False`` (notebook 10's ablation) leaves out every BatchNormalization
    layer; the convolutions and the dense layer then have biases of their own.
    ``bn_momentum`` is the momentum of the batch normalization's moving statistics
    (Keras' default, 0.99; notebook 07 measures what a smaller one changes).
    """
    widths = checks.positive_ints("widths", widths, "(32, 64), one per block")
    if len(widths) > 3:
        raise ValueError(
            f"widths is {widths!r} ({len(widths)} blocks); expected at most 3 blocks: each "
            "halves the 28 x 28 image, and a fourth would leave 1 x 1 feature maps"
        )
    convs_per_block = checks.whole("convs_per_block", convs_per_block, 1, example=2)
    dense_units = checks.whole("dense_units", dense_units, 1, example=256)
    max_shift = checks.whole("max_shift", max_shift, 0, 14, example=2)
    checks.flag("flip", flip)
    checks.flag("batch_norm", batch_norm)
    checks.rate("conv_dropout", conv_dropout)
    checks.rate("dense_dropout", dense_dropout)
    bn_momentum = checks.number("bn_momentum", bn_momentum, 0, below=1, example=0.99)

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
            x = layers.Conv2D(
                int(width), 3, padding="same", use_bias=not batch_norm, name=f"conv{b}_{c}"
            )(x)
            if batch_norm:
                x = layers.BatchNormalization(momentum=bn_momentum, name=f"bn{b}_{c}")(x)
            x = layers.Activation("relu", name=f"relu{b}_{c}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{b}")(x)
        if conv_dropout:
            x = layers.Dropout(conv_dropout, name=f"drop{b}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(int(dense_units), use_bias=not batch_norm, name="dense")(x)
    if batch_norm:
        x = layers.BatchNormalization(momentum=bn_momentum, name="bn_dense")(x)
    x = layers.Activation("relu", name="relu_dense")(x)
    if dense_dropout:
        x = layers.Dropout(dense_dropout, name="drop_dense")(x)
    outputs = layers.Dense(
        NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32"
    )(x)
    return compile_model(
        keras.Model(inputs, outputs, name="capstone_cnn"), learning_rate
    )  # float32 softmax: see cnn()

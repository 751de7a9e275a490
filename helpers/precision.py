"""Numeric precision, batch size and learning rate chosen for the machine (introduced in notebook 03).

Notebook 03 trains the baseline with the module's recipe: 32-bit floats (``float32``),
batches of 32 and Adam at a constant learning rate of 1e-3 (:data:`REFERENCE`). Two
changes make training faster on a CPU:

- **bfloat16.** On a processor that computes in bfloat16 natively (``avx512_bf16`` or
  ``amx_bf16`` among its CPU flags), Keras' ``mixed_bfloat16`` policy keeps the weights
  in float32 but computes the layers in bfloat16, half the bits per number.
- **Larger batches.** A batch of 256 gives each step eight times the work, which a CPU
  does more efficiently; but an epoch then takes eight times fewer steps. The learning
  rate grows with the batch (:func:`scaled_learning_rate`, 8e-3 at 256), rises to that
  value over the first half epoch (a warm-up: large steps from random weights can
  diverge) and then decays to zero along a cosine, as notebook 10's recipe does
  (:meth:`TrainingPath.rate`).

:func:`choose` picks the path for this machine, :func:`use` sets its policy and
returns it; ``str(path)`` says which one, for the notebooks to print. The course's
appendix "How fast is this course?" compares the paths after the same epochs, over
several seeds.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from helpers import checks

__all__ = [
    "BFLOAT16_FLAGS",
    "FAST_BATCH_SIZE",
    "REFERENCE",
    "WARMUP_EPOCHS",
    "TrainingPath",
    "choose",
    "cpu_flags",
    "native_bfloat16",
    "processor",
    "scaled_learning_rate",
    "scope",
    "use",
]

#: CPU flags (Linux ``/proc/cpuinfo``) of instructions that compute in bfloat16.
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")
#: The batch size of the faster path.
FAST_BATCH_SIZE = 256
#: Epochs over which the faster path's learning rate rises from zero to its peak.
WARMUP_EPOCHS = 0.5
#: A GPU's compute capability from which it computes in bfloat16 (NVIDIA Ampere on).
GPU_BFLOAT16_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class TrainingPath:
    """A way to train: Keras dtype policy, batch size, learning rate, and why it was chosen.

    ``learning_rate`` is Adam's rate: constant, or with ``schedule="cosine"`` the peak
    of a warm-up over :data:`WARMUP_EPOCHS` followed by a cosine decay to zero.
    """

    policy: str
    batch_size: int
    learning_rate: float
    schedule: str = "constant"
    reason: str = ""

    def __str__(self) -> str:
        rate = f"learning rate {self.learning_rate:g}"
        if self.schedule == "cosine":
            rate = f"learning rate warmed up to {self.learning_rate:g}, then cosine decay"
        text = f"{self.policy}, batch {self.batch_size}, {rate}"
        return f"{text} ({self.reason})" if self.reason else text

    def rate(self, train_size: int, epochs: int):
        """Adam's learning rate for ``epochs`` over ``train_size`` images: a number or a schedule."""
        train_size = checks.whole("train_size", train_size, 1, example=54_000)
        epochs = checks.whole("epochs", epochs, 1, example=5)
        if self.schedule == "constant":
            return self.learning_rate
        import keras

        steps_per_epoch = math.ceil(train_size / self.batch_size)
        warmup = min(round(WARMUP_EPOCHS * steps_per_epoch), steps_per_epoch * epochs - 1)
        return keras.optimizers.schedules.CosineDecay(
            0.0,
            decay_steps=steps_per_epoch * epochs - warmup,
            warmup_target=self.learning_rate,
            warmup_steps=warmup,
        )


#: The module's recipe, which notebook 03 trains first: float32, batches of 32, Adam at 1e-3.
REFERENCE = TrainingPath("float32", 32, 1e-3, reason="the module's recipe")


def scaled_learning_rate(
    batch_size: int, base_rate: float = REFERENCE.learning_rate, base_batch: int = 32
) -> float:
    """The peak learning rate for ``batch_size``: ``base_rate * batch_size / base_batch``.

    A batch ``k`` times larger takes ``k`` times fewer steps per epoch, each from a
    gradient averaged over ``k`` times more images; a ``k`` times larger step keeps the
    distance covered per epoch comparable (the linear scaling rule, which needs the
    warm-up of :meth:`TrainingPath.rate` at the start of training).
    """
    batch_size = checks.whole("batch_size", batch_size, 1, example=128)
    base_batch = checks.whole("base_batch", base_batch, 1, example=32)
    base_rate = checks.number("base_rate", base_rate, above=0, high=1, example=1e-3)
    return base_rate * batch_size / base_batch


def _cpuinfo() -> str | None:
    """The text of Linux's ``/proc/cpuinfo``, or None where there is none."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return None


def processor(cpuinfo: str | None = None) -> str:
    """The processor's name, from ``/proc/cpuinfo`` (``platform.processor()`` elsewhere).

    ``cpuinfo`` is that file's text, for tests. Timed measurements record it, since the
    same code runs at different speeds on different processors.
    """
    import platform

    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    if cpuinfo is None:
        return platform.processor()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor()


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The processor's feature flags, read from ``/proc/cpuinfo`` (empty where there is none).

    ``cpuinfo`` is that file's text, for tests; by default it is read from Linux.
    """
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    if cpuinfo is None:  # not Linux: no flags known, so float32
        return frozenset()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def native_bfloat16(flags: Iterable[str] | None = None) -> bool:
    """Whether the processor computes in bfloat16 natively (one of :data:`BFLOAT16_FLAGS`)."""
    flags = cpu_flags() if flags is None else frozenset(flags)
    return any(flag in flags for flag in BFLOAT16_FLAGS)


def _gpu_capabilities() -> list[tuple[int, int]]:
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability") or (0, 0)))
    return capabilities


def choose(
    flags: Iterable[str] | None = None, gpus: list[tuple[int, int]] | None = None
) -> TrainingPath:
    """The course's faster path for this machine.

    - On a GPU: its own mixed precision, ``mixed_bfloat16`` from compute capability 8.0
      (Ampere) on and ``mixed_float16`` before it.
    - On a CPU with native bfloat16: ``mixed_bfloat16``.
    - Elsewhere: ``float32`` (emulated bfloat16 is slower than float32).

    Always at :data:`FAST_BATCH_SIZE`, with :func:`scaled_learning_rate` as the peak of
    a warm-up and cosine decay. ``flags`` (CPU flags) and ``gpus`` (their compute
    capabilities) default to this machine's.
    """
    gpus = _gpu_capabilities() if gpus is None else list(gpus)
    flags = cpu_flags() if flags is None else frozenset(flags)
    native = [flag for flag in BFLOAT16_FLAGS if flag in flags]
    if gpus:
        best = max(gpus)
        policy = "mixed_bfloat16" if best >= GPU_BFLOAT16_CAPABILITY else "mixed_float16"
        reason = f"GPU of compute capability {best[0]}.{best[1]}"
    elif native:
        policy, reason = "mixed_bfloat16", f"the processor has {', '.join(native)}"
    else:
        policy, reason = "float32", "the processor has no native bfloat16"
    return TrainingPath(
        policy, FAST_BATCH_SIZE, scaled_learning_rate(FAST_BATCH_SIZE), "cosine", reason
    )


def use(path: TrainingPath) -> TrainingPath:
    """Make ``path``'s policy Keras' global dtype policy (for models built from now on)."""
    import keras

    if not isinstance(path, TrainingPath):
        raise TypeError(
            f"path is {type(path).__name__}; expected a TrainingPath, "
            "for example precision.choose() or precision.REFERENCE"
        )
    keras.config.set_dtype_policy(path.policy)
    return path


@contextlib.contextmanager
def scope(path: TrainingPath) -> Iterator[TrainingPath]:
    """Build models in ``path``'s policy inside a ``with`` block (used in notebook 10).

    Notebooks 03 and 10 set the policy with ``keras.config.set_dtype_policy`` before
    building the faster path's model and set float32 back after training it; ``make
    sweep`` builds the capstone's ablation, and notebook 10 the models it compares with
    that ablation, inside the block::

        with precision.scope(precision.choose()):
            same = ablation.matches(...)

    The policy in force before the block is restored after it, also when a cell fails
    inside it, so that the models built later in the notebook are not silently trained
    in another precision.
    """
    import keras

    before = keras.config.dtype_policy().name
    use(path)
    try:
        yield path
    finally:
        keras.config.set_dtype_policy(before)

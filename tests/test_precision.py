"""The training path chosen for the machine: precision, batch size and learning rate."""

from __future__ import annotations

import keras
import pytest

from helpers import precision

EPYC = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
XEON_AMX = "flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile\n"
OLD = "flags\t\t: fpu sse2 avx2 fma\n"


def test_flags_are_read_from_cpuinfo():
    assert precision.cpu_flags(EPYC) == {"fpu", "avx2", "avx512f", "avx512_bf16"}
    assert precision.cpu_flags("no flags here\n") == frozenset()


@pytest.mark.parametrize(
    "cpuinfo, native", [(EPYC, True), (XEON_AMX, True), (OLD, False), ("", False)]
)
def test_native_bfloat16(cpuinfo, native):
    assert precision.native_bfloat16(precision.cpu_flags(cpuinfo)) is native


def test_learning_rate_grows_with_the_batch():
    assert precision.scaled_learning_rate(32) == pytest.approx(1e-3)
    assert precision.scaled_learning_rate(128) == pytest.approx(4e-3)
    assert precision.scaled_learning_rate(64, base_rate=2e-3) == pytest.approx(4e-3)
    with pytest.raises(ValueError, match="batch_size"):
        precision.scaled_learning_rate(0)


def test_choose_follows_the_processor():
    fast = precision.choose(flags=precision.cpu_flags(EPYC), gpus=[])
    assert (fast.policy, fast.batch_size) == ("mixed_bfloat16", precision.FAST_BATCH_SIZE)
    assert fast.learning_rate == precision.scaled_learning_rate(precision.FAST_BATCH_SIZE)
    assert "avx512_bf16" in str(fast)
    plain = precision.choose(flags=precision.cpu_flags(OLD), gpus=[])
    assert plain.policy == "float32" and "no native bfloat16" in str(plain)


def test_choose_prefers_the_gpu():
    assert precision.choose(flags=(), gpus=[(9, 0)]).policy == "mixed_bfloat16"
    older = precision.choose(flags=precision.cpu_flags(EPYC), gpus=[(7, 5)])
    assert older.policy == "mixed_float16" and "7.5" in str(older)


def test_choose_on_this_machine_agrees_with_its_flags():
    path = precision.choose()
    expected = "mixed_bfloat16" if precision.native_bfloat16() else "float32"
    assert path.policy == expected


def test_use_sets_the_global_policy_for_new_models():
    before = keras.config.dtype_policy().name
    try:
        precision.use(precision.TrainingPath("mixed_bfloat16", 128, 2e-3))
        layer = keras.layers.Dense(2)
        assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
        precision.use(precision.REFERENCE)
        assert keras.layers.Dense(2).compute_dtype == "float32"
    finally:
        keras.config.set_dtype_policy(before)
    with pytest.raises(TypeError, match="expected a TrainingPath"):
        precision.use("mixed_bfloat16")


def test_scope_builds_in_the_path_policy_and_restores_the_one_before():
    fast = precision.TrainingPath("mixed_bfloat16", 128, 2e-3)
    assert keras.config.dtype_policy().name == "float32"
    with precision.scope(fast) as path:
        assert path is fast
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    with pytest.raises(RuntimeError, match="a failing cell"):
        with precision.scope(fast):
            raise RuntimeError("a failing cell")
    assert keras.layers.Dense(2).compute_dtype == "float32"
    with pytest.raises(TypeError, match="expected a TrainingPath"):
        with precision.scope("mixed_bfloat16"):
            pass
    assert keras.config.dtype_policy().name == "float32"


def test_reference_rate_is_constant():
    assert precision.REFERENCE.rate(54_000, 5) == 1e-3
    assert (
        str(precision.REFERENCE) == "float32, batch 32, learning rate 0.001 (the module's recipe)"
    )


def test_faster_path_warms_up_then_decays_to_zero():
    path = precision.TrainingPath("float32", 128, 4e-3, "cosine")  # any batch and rate
    schedule = path.rate(54_000, 5)  # 422 steps per epoch, 2,110 in all
    warmup = round(precision.WARMUP_EPOCHS * 422)
    assert float(schedule(0)) == 0.0
    assert float(schedule(warmup // 2)) == pytest.approx(2e-3, rel=1e-2)
    assert float(schedule(warmup)) == pytest.approx(4e-3, rel=1e-6)
    assert float(schedule(2_110)) == pytest.approx(0.0, abs=1e-9)
    assert "warmed up to 0.004, then cosine decay" in str(path)
    # a single short epoch still leaves a step after the warm-up
    assert float(path.rate(200, 1)(1)) > 0


def test_processor_is_read_from_cpuinfo():
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2\n"
    assert precision.processor(text) == "AMD EPYC 9R14"
    assert isinstance(precision.processor("flags : fpu\n"), str)  # no name: the platform's

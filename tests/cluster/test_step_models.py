"""Step models recover known parameters from synthetic timings, and rank as the data say."""

from __future__ import annotations

import pytest

from edgesim.cluster.step_models import (
    CLASS_ROOFLINE,
    FORMULA,
    LAYER_ROOFLINE,
    STEP_MODELS,
    WORK_FILL,
    FittedModel,
    StepSample,
    fit_all,
    relative_errors,
)


def sample(kind, batch, flops, layers, seconds=0.0):
    total_bytes = sum(b for _, _, b in layers)
    return StepSample(f"{kind} {flops:g}", kind, batch, flops, total_bytes, layers, seconds)


def workloads():
    """Layers of several kinds and sizes, training steps and eval batches."""
    out = []
    for scale in (1e5, 1e6, 1e7, 1e8, 1e9):
        for kind in ("train", "eval"):
            layers = (
                ("conv", 3 * scale, scale / 50),
                ("other", 0.0, scale / 20),
                ("linear", 3e4 * scale**0.5, 3e2 * scale**0.5),  # not in step with the convs
                ("other", 0.0, scale / 40),
            )
            out.append(sample(kind, 32, sum(f for _, f, _ in layers), layers))
    return out


def with_times(truth: FittedModel):
    return [
        StepSample(s.label, s.kind, s.batch_size, s.flops, s.bytes, s.layers, truth.predict(s))
        for s in workloads()
    ]


def test_formula_recovers_overheads_and_flop_rate():
    truth = FittedModel(
        FORMULA,
        {"flop_rate": 2e10, "bandwidth": 1e13, "step_overhead_s": 5e-4, "eval_overhead_s": 1e-4},
    )
    fitted = FORMULA.fit(with_times(truth), bandwidth=1e13)
    assert fitted.params["flop_rate"] == pytest.approx(2e10, rel=0.01)
    assert fitted.params["step_overhead_s"] == pytest.approx(5e-4, rel=0.01)
    assert fitted.params["eval_overhead_s"] == pytest.approx(1e-4, rel=0.01)


def test_work_fill_recovers_how_much_work_fills_the_device():
    # A GPU-like device: 1e13 FLOP/s, reached only by steps of ≥ 1.7e11 FLOPs (17 ms of it).
    truth = FittedModel(
        WORK_FILL,
        {
            "flop_rate": 1e13,
            "saturation_flops": 1.7e11,
            "bandwidth": 1e15,
            "step_overhead_s": 7e-4,
            "eval_overhead_s": 2e-4,
        },
    )
    # Steps from far below to far above that amount, training and evaluation.
    steps = [
        sample(kind, 32, flops, (("conv", flops, flops / 100),))
        for flops in (1e8, 1e9, 1e10, 1e11, 1e12, 1e13)
        for kind in ("train", "eval")
    ]
    timed = [
        StepSample(s.label, s.kind, s.batch_size, s.flops, s.bytes, s.layers, truth.predict(s))
        for s in steps
    ]
    fitted = WORK_FILL.fit(timed, bandwidth=1e15)
    assert fitted.params["saturation_flops"] == pytest.approx(1.7e11, rel=0.05)
    assert fitted.params["flop_rate"] == pytest.approx(1e13, rel=0.05)
    assert max(relative_errors(fitted, timed)) < 0.01
    assert max(relative_errors(FORMULA.fit(timed, bandwidth=1e15), timed)) > 0.2


def test_class_roofline_reproduces_its_own_timings():
    params = {
        "conv_flop_rate": 3e10,
        "linear_flop_rate": 9e10,
        "bandwidth": 5e9,
        "step_overhead_s": 2e-4,
        "eval_overhead_s": 0.0,
        "conv_overhead_s": 2e-4,
        "linear_overhead_s": 1e-5,
        "other_overhead_s": 5e-5,
    }
    samples = with_times(FittedModel(CLASS_ROOFLINE, params))
    fitted = CLASS_ROOFLINE.fit(samples)
    # the grid search reproduces the times; rates that trade off against each other on
    # these workloads need not come back exactly, so only the predictions are held to 1 %
    assert max(relative_errors(fitted, samples)) < 0.01


def test_overheads_are_never_negative():
    truth = FittedModel(
        LAYER_ROOFLINE,
        {
            "flop_rate": 1e10,
            "bandwidth": 1e10,
            "step_overhead_s": 0.0,
            "eval_overhead_s": 0.0,
            "layer_overhead_s": 0.0,
        },
    )
    samples = [
        StepSample(s.label, s.kind, s.batch_size, s.flops, s.bytes, s.layers, 0.5 * s.seconds)
        for s in with_times(truth)
    ]
    fitted = FORMULA.fit(samples)
    assert all(fitted.params[n] >= 0 for n in FORMULA.overheads)


def test_the_richer_model_wins_when_the_data_have_its_shape():
    params = {
        "conv_flop_rate": 1e10,
        "linear_flop_rate": 1e11,
        "bandwidth": 2e9,
        "step_overhead_s": 1e-4,
        "eval_overhead_s": 1e-5,
        "conv_overhead_s": 3e-4,
        "linear_overhead_s": 0.0,
        "other_overhead_s": 5e-5,
    }
    samples = with_times(FittedModel(CLASS_ROOFLINE, params))
    fits = fit_all(samples, bandwidth=2e10)
    assert set(fits) == set(STEP_MODELS)
    worst = {n: max(relative_errors(f, samples)) for n, f in fits.items()}
    assert worst["class-roofline"] < 0.01 < worst["formula"]


def test_fit_refuses_unmeasured_samples():
    with pytest.raises(ValueError, match="measured seconds"):
        FORMULA.fit(workloads())

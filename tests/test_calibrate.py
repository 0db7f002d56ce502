"""`edgesim calibrate`: a profile from fake timings that loads, runs a scenario, refuses bad input.

The host's clock is replaced by a timer that answers from known cost-model
parameters, so the tests are fast and never depend on how busy the machine is.
"""

from __future__ import annotations

import pytest

import edgesim.calibrate as calibration
from edgesim.cli import main
from edgesim.cluster.step_models import CLASS_ROOFLINE, FittedModel, filled_compute_time
from edgesim.config.profiles import load_device_profile

SUSTAINED, STEP, EVAL = 2e10, 4e-4, 5e-5


def fake_timer(probe, units):
    overhead = STEP if probe.sample.kind == "train" else EVAL
    return overhead + probe.sample.flops / SUSTAINED


@pytest.fixture
def fake_host(monkeypatch):
    monkeypatch.setattr(calibration, "wall_timer", lambda device: fake_timer)
    monkeypatch.setattr(calibration, "copy_bandwidth", lambda device, stat: 1e13)


def test_fit_recovers_the_timers_parameters(fake_host, tmp_path):
    out = tmp_path / "host.yaml"
    profile = calibration.calibrate(out, models=["mlp"], shapes=[(1, 8, 8)], batches=[8, 64])
    assert profile.peak_flops * profile.efficiency == pytest.approx(SUSTAINED, rel=0.01)
    assert profile.efficiency == 1.0
    assert profile.step_overhead_s == pytest.approx(STEP, rel=0.01)
    assert profile.eval_overhead_s == pytest.approx(EVAL, rel=0.05)
    assert load_device_profile(out) == profile
    assert profile.saturation_flops == 0.0  # every step at the full rate: a CPU
    assert profile.calibration.step_models["work-fill"].worst_error < 0.01
    for workload in profile.calibration.workloads:
        assert workload.predicted_s == pytest.approx(workload.measured_s, rel=0.01)


def test_fit_recovers_the_work_a_gpu_needs_to_fill(monkeypatch, tmp_path):
    """A GPU-like host: 1e12 FLOP/s only from 1e9 FLOPs per step on; smaller steps are slower."""

    def gpu_timer(probe, units):
        overhead = STEP if probe.sample.kind == "train" else EVAL
        return overhead + filled_compute_time(probe.sample.flops, 1e12, 1e9)

    monkeypatch.setattr(calibration, "copy_bandwidth", lambda device, stat: 1e15)
    monkeypatch.setattr(calibration, "wall_timer", lambda device: gpu_timer)
    # cnn-small at 1×28×28: 0.045 to 2.9 GFLOP training steps, a 1.9 GFLOP eval batch
    out = tmp_path / "gpu.yaml"
    profile = calibration.calibrate(
        out, models=["cnn-small"], shapes=[(1, 28, 28)], batches=[2, 8, 32, 128]
    )
    assert profile.saturation_flops == pytest.approx(1e9, rel=0.05)
    assert profile.peak_flops * profile.efficiency == pytest.approx(1e12, rel=0.05)
    for workload in profile.calibration.workloads:  # through edgesim.cluster.costs
        assert workload.predicted_s == pytest.approx(workload.measured_s, rel=0.02)
    assert profile.calibration.step_models["formula"].worst_error > 0.05


def test_the_layer_roofline_is_charged_where_it_predicts_held_out_workloads_better(
    monkeypatch, tmp_path, layer_costs
):
    """A CPU-like host whose convolutions are slow and costly to start: no whole-step law fits
    an MLP and CNNs at once, the layer roofline does, so the profile charges layer by layer."""
    truth = FittedModel(CLASS_ROOFLINE, layer_costs)
    monkeypatch.setattr(calibration, "copy_bandwidth", lambda device, stat: 1e10)
    monkeypatch.setattr(
        calibration, "wall_timer", lambda device: lambda probe, units: truth.predict(probe.sample)
    )
    models = ["mlp", "cnn-small", "lenet5", "resnet8"]
    profile = calibration.calibrate(
        tmp_path / "layered.yaml", models=models, shapes=[(1, 8, 8)], batches=[8, 64]
    )
    assert profile.layer_costs is not None  # (rates that never bind are not identified)
    for workload in profile.calibration.workloads:  # through edgesim.cluster.costs
        assert workload.predicted_s == pytest.approx(workload.measured_s, rel=0.03)
    assert profile.calibration.step_models["formula"].worst_error > 0.2
    assert load_device_profile(tmp_path / "layered.yaml") == profile


def test_cli_writes_a_profile_a_scenario_runs_on(
    fake_host, tmp_path, write_scenario, tiny_scenario, capsys
):
    out = tmp_path / "my-host.yaml"
    args = ["calibrate", "--out", str(out), "--quick", "--peak-flops", "1e11", "--quiet"]
    assert main([*args, "--power-compute", "65", "--power-idle", "20"]) == 0
    profile = load_device_profile(out)
    assert profile.name == "my-host"
    assert profile.efficiency == pytest.approx(0.2, rel=0.01)
    assert (profile.power_w.compute, profile.power_w.idle, profile.power_w.transmit) == (65, 20, 3)
    assert any("transmit: not measured" in s for s in profile.sources)
    assert {w.kind for w in profile.calibration.workloads} == {"train", "eval"}
    assert profile.layer_costs is None  # the whole-step law predicts this host exactly
    tiny_scenario["devices"][0]["profile"] = str(out)
    tiny_scenario["schemes"] = [{"scheme": "fedavg", "rounds": 1}]
    scenario = write_scenario(tiny_scenario)
    assert main(["run", str(scenario), "--out", str(tmp_path / "r"), "--quiet"]) == 0


def test_an_existing_file_is_kept_without_force(fake_host, tmp_path, capsys):
    out = tmp_path / "host.yaml"
    out.write_text("mine\n")
    assert main(["calibrate", "--out", str(out), "--model", "mlp", "--batch-size", "8"]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    args = ["calibrate", "--out", str(out), "--model", "mlp", "--batch-size", "8", "--force"]
    assert main([*args, "--quiet"]) == 0
    assert load_device_profile(out).name == "host"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--input-shape", "3x32"], "--input-shape: expected CxHxW"),
        (["--model", "mlp", "--batch-size", "0"], "--batch-size"),
        (["--peak-flops", "-1"], "--peak-flops"),
        (["--peak-flops", "1e6"], "below the"),
        (["--power-compute", "0"], "--power-compute"),
        (["--model", "mlpp"], "did you mean 'mlp'"),
        (["--batch-size", "8"], "workloads of --model"),
    ],
)
def test_bad_options_are_user_errors(fake_host, tmp_path, capsys, options, message):
    out = tmp_path / "host.yaml"
    assert main(["calibrate", "--out", str(out), "--quick", "--quiet", *options]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not out.exists()


def test_out_must_be_a_yaml_file(fake_host, tmp_path, capsys):
    assert main(["calibrate", "--out", str(tmp_path / "host.json")]) == 2
    assert "a profile is a .yaml file" in capsys.readouterr().err

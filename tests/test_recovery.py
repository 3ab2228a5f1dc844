"""Recovery-probability sweeps: known answers, executors, instance independence, checkpoints."""

import concurrent.futures
import dataclasses
import json
import multiprocessing
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import qnb
import qnb.recovery
from qnb import RECOVERY_METHODS, instance_data, recovery_probability

# d = 4, m* = 1: d (d + 1) / 2 = 10 samples determine every symmetric matrix.
D, M_STAR = 4, 1
N_VALUES = [2, 6, 10, 20]
TRIALS = 3
SEED = 11


@pytest.fixture(scope="module")
def serial_flow():
    return recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="flow", rng=SEED,
                                executor="serial")


@pytest.fixture(scope="module")
def serial_certificate():
    return recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                                executor="serial")


def process_pool(workers):
    """A pool whose workers come from a fork server: forking this process is unsafe
    once a Dask cluster has left threads behind."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
    return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)


def assert_same_sweep(a, b):
    assert_array_equal(a.recovered, b.recovered)
    assert_array_equal(a.instance_status, b.instance_status)
    for key in ("distance", "final_loss", "certificate"):
        if key in a:
            assert_allclose(b[key], a[key], rtol=1e-8, atol=1e-300)


# --- known answers ---------------------------------------------------------------

@pytest.mark.parametrize("method", ["flow", "certificate"])
def test_known_answers(method):
    """n = 20 >= d (d + 1) / 2 always recovers a rank-one teacher; n = 2 < d never does."""
    res = recovery_probability(D, M_STAR, [2, 20], 5, method=method, rng=0, executor="serial")
    assert res.success and res.status == 0 and res.n_failed == 0
    assert_array_equal(res.recovered, [[False] * 5, [True] * 5])
    assert_array_equal(res.probability, [0.0, 1.0])
    assert_array_equal(res.stderr, [0.0, 0.0])
    assert_allclose(res.alpha, [0.5, 5.0])
    assert res.method == method and res.n_loaded == 0 and res.seconds > 0
    if method == "flow":
        assert np.all(res.distance[1] < 1e-3) and np.all(res.distance[0] > 1e-1)
        assert np.all(res.final_loss < 1e-6)  # both interpolate; only n = 20 finds A*
        assert "certificate" not in res
    else:
        assert np.all(res.certificate[1] > 0) and np.all(res.certificate[0] <= 0)
        assert "distance" not in res


def test_probability_and_stderr_are_binomial(serial_flow):
    p = serial_flow.recovered.mean(axis=1)
    assert_allclose(serial_flow.probability, p)
    assert_allclose(serial_flow.stderr, np.sqrt(p * (1 - p) / TRIALS))
    assert serial_flow.recovered.shape == (len(N_VALUES), TRIALS)
    assert_array_equal(serial_flow.n_values, N_VALUES)


def test_methods_agree_on_a_small_sweep():
    """The certificate and the flow see the same instances and mostly agree.

    Disagreements are instances near the threshold where A* is the unique
    minimizer but the flow converges slowly (a power law) and is not yet
    within ``recovery_tol`` at ``flow_time``; the reverse (the flow finds A*
    although another minimizer exists) must not happen.
    """
    n_values = list(range(2, 13))
    cert = recovery_probability(D, M_STAR, n_values, 5, method="certificate", rng=3,
                                executor="serial")
    flow = recovery_probability(D, M_STAR, n_values, 5, method="flow", rng=3)  # default pool
    assert cert.success and flow.success
    agreement = float(np.mean(cert.recovered == flow.recovered))
    print(f"\ncertificate/flow agreement, d={D}, m*={M_STAR}, n=2..12, 5 trials: {agreement:.3f}")
    print("P(certificate):", cert.probability)
    print("P(flow):       ", flow.probability)
    assert agreement >= 0.8
    assert not np.any(flow.recovered & ~cert.recovered)
    assert np.all(cert.recovered[n_values.index(10):])  # from d (d + 1) / 2 on


# --- executors and instance independence -------------------------------------

def test_process_pool_gives_the_serial_result(serial_flow, serial_certificate):
    with process_pool(2) as pool:
        flow = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="flow", rng=SEED,
                                    executor=pool)
        cert = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                                    executor=pool)
        assert pool.submit(int, "7").result() == 7  # an executor given is left open
    assert_same_sweep(serial_flow, flow)
    assert_same_sweep(serial_certificate, cert)


def test_dask_cluster_gives_the_serial_result(serial_flow, serial_certificate):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        flow = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="flow", rng=SEED,
                                    executor=client)
        cert = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                                    executor=client)
    assert_same_sweep(serial_flow, flow)
    assert_same_sweep(serial_certificate, cert)


def test_duck_typed_executor(serial_certificate):
    class Inline:
        calls = 0

        def submit(self, fn, *args):
            Inline.calls += 1
            future = concurrent.futures.Future()
            future.set_result(fn(*args))
            return future

    res = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                               executor=Inline())
    assert Inline.calls == len(N_VALUES) * TRIALS
    assert_same_sweep(serial_certificate, res)


def test_instance_does_not_depend_on_the_rest_of_the_sweep(serial_flow):
    subset = [20, 6]  # other values, other order, fewer trials
    part = recovery_probability(D, M_STAR, subset, 2, method="flow", rng=SEED, executor="serial")
    rows = [N_VALUES.index(n) for n in subset]
    assert_array_equal(part.recovered, serial_flow.recovered[rows, :2])
    assert_array_equal(part.distance, serial_flow.distance[rows, :2])
    # ... and the seed matters.
    other = recovery_probability(D, M_STAR, subset, 2, method="flow", rng=SEED + 1,
                                 executor="serial")
    assert not np.array_equal(other.distance, part.distance)


def test_instance_data_is_the_documented_stream():
    A_star, X, y, _ = instance_data(5, 7, 2, D, M_STAR)
    rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(7, 2)))
    W_star = rng.standard_normal((M_STAR, D))
    assert_allclose(A_star, W_star.T @ W_star)
    assert_array_equal(X, rng.standard_normal((7, D)))
    assert_allclose(y, np.einsum("ki,ij,kj->k", X, A_star, X))


def test_seed_is_recorded_when_drawn():
    res = recovery_probability(D, M_STAR, [3], 2, method="certificate", executor="serial")
    assert isinstance(res.seed, int) and res.seed >= 0
    again = recovery_probability(D, M_STAR, [3], 2, method="certificate", rng=res.seed,
                                 executor="serial")
    assert_array_equal(again.certificate, res.certificate)
    from_generator = recovery_probability(D, M_STAR, [3], 1, method="certificate",
                                          rng=np.random.default_rng(1), executor="serial")
    assert from_generator.seed == int(np.random.default_rng(1).integers(0, 2**63))


# --- failures ------------------------------------------------------------------------

def flaky_flow(fail):
    """The flow method, with ``fail(call, out)`` applied to the output of each call (1, 2, ...)."""
    calls = []

    def solve(*args):
        calls.append(1)
        return fail(len(calls), RECOVERY_METHODS["flow"].solve(*args))

    return dataclasses.replace(RECOVERY_METHODS["flow"], solve=solve), calls


def test_failed_instance_is_counted_and_reported(tmp_path, monkeypatch):
    def fail(call, out):
        if call == 2:
            raise np.linalg.LinAlgError("singular matrix (test)")
        if call == 3:
            out.update(status=qnb.recovery.STATUS_FLOW_FAILED, detail="integration failed: test",
                       distance=np.nan, final_loss=np.nan)
        return out

    method, calls = flaky_flow(fail)
    monkeypatch.setitem(RECOVERY_METHODS, "flaky flow", method)  # a new entry of the public table
    res = recovery_probability(D, M_STAR, [20], 4, method="flaky flow", rng=0, executor="serial",
                               checkpoint=tmp_path)
    assert not res.success and res.status == 1 and res.n_failed == 2
    assert_array_equal(res.instance_success, [[True, False, False, True]])
    assert_array_equal(res.recovered, [[True, False, False, True]])  # failed: not recovered
    assert_array_equal(res.failed_per_n, [2])
    assert res.instance_status[0, 1] == qnb.recovery.STATUS_SOLVER_RAISED
    assert res.instance_status[0, 2] == qnb.recovery.STATUS_FLOW_FAILED == -1
    assert np.isnan(res.distance[0, 1:3]).all() and np.isfinite(res.distance[0, [0, 3]]).all()
    assert "n=20 trial=1: the solver raised LinAlgError: singular matrix (test)" in res.message
    assert "n=20 trial=2: the flow failed: integration failed: test" in res.message
    assert res.probability[0] == 0.5
    # Failures are checkpointed too (they are deterministic).
    again = recovery_probability(D, M_STAR, [20], 4, method="flaky flow", rng=0, executor="serial",
                                 checkpoint=tmp_path)
    assert again.n_loaded == 4 and len(calls) == 4 and again.n_failed == 2


def test_unexpected_errors_are_the_instance_status(tmp_path, monkeypatch):
    """Issue #13, defect 5: any exception of one instance (not only a solver's numerical error)
    is that instance's status, with the exception's type and message; the sweep goes on, and a
    rerun recomputes the instance (the failure may be a bug fixed since) instead of crashing."""
    def broken(call, out):
        if call == 2:
            raise RuntimeError("a bug, not a solver failure")
        return out

    method, calls = flaky_flow(broken)
    monkeypatch.setitem(RECOVERY_METHODS, "broken", method)
    kwargs = dict(method="broken", rng=0, executor="serial", checkpoint=tmp_path)
    res = recovery_probability(D, M_STAR, [20], 3, **kwargs)
    assert_array_equal(res.instance_status, [[0, qnb.recovery.STATUS_RAISED, 0]])
    assert "n=20 trial=1: raised RuntimeError: a bug, not a solver failure" in res.message
    assert np.isnan(res.distance[0, 1]) and not res.recovered[0, 1] and res.recovered[0, [0, 2]].all()
    again = recovery_probability(D, M_STAR, [20], 3, **kwargs)
    assert again.n_loaded == 2 and len(calls) == 4 and again.success


def test_methods_are_a_table():
    """Each method is an entry of RECOVERY_METHODS; the sweep reports the fields the entry names."""
    assert set(RECOVERY_METHODS) == {"certificate", "uniqueness", "phaselift", "flow"}
    for name, method in RECOVERY_METHODS.items():
        res = recovery_probability(D, M_STAR, [3], 1, method=name, rng=0, executor="serial")
        assert all(res[key].shape == (1, 1) for key in method.reported)
        assert res.method == name


# --- checkpoints ------------------------------------------------------------------------

def test_checkpoint_recomputes_only_missing_instances(tmp_path, counting, serial_flow):
    counter = counting()
    kwargs = dict(method="flow", rng=SEED, executor=counter, checkpoint=tmp_path)
    first = recovery_probability(D, M_STAR, N_VALUES, TRIALS, **kwargs)
    total = len(N_VALUES) * TRIALS
    assert counter.calls == total and first.n_loaded == 0
    assert_same_sweep(serial_flow, first)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == total and all(f.endswith(".npz") for f in files)

    for name in files[1:4]:
        os.remove(tmp_path / name)
    (tmp_path / files[5]).write_bytes(b"truncated")  # unreadable: recomputed as well, with a warning
    with pytest.warns(UserWarning, match=f"{files[5]} is not used .* it is unreadable"):
        second = recovery_probability(D, M_STAR, N_VALUES, TRIALS, **kwargs)
    assert counter.calls == total + 4 and second.n_loaded == total - 4
    assert sorted(os.listdir(tmp_path)) == files
    assert_same_sweep(first, second)

    # Everything loaded: nothing is submitted, whatever the executor.
    third = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="flow", rng=SEED,
                                 executor=None, checkpoint=tmp_path)
    assert third.n_loaded == total and counter.calls == total + 4
    assert_same_sweep(first, third)

    # recovery_tol is applied to the stored distance: the files are reused.
    strict = recovery_probability(D, M_STAR, N_VALUES, TRIALS, **kwargs, recovery_tol=1e-12)
    assert strict.n_loaded == total and not strict.recovered.any()

    # Parameters that change the instances do not pick these files up.
    recovery_probability(D, M_STAR, [20], 1, method="flow", rng=SEED, executor=counter,
                         checkpoint=tmp_path, flow_time=1e5)
    recovery_probability(D, M_STAR, [20], 1, method="certificate", rng=SEED, executor=counter,
                         checkpoint=tmp_path)
    assert counter.calls == total + 6 and len(os.listdir(tmp_path)) == total + 2


def test_files_of_another_schema_are_recomputed(tmp_path, counting):
    """A file written by an older schema is never misread: neither under its old name nor under
    the current one (each file carries the identity it was written for)."""
    counter = counting()
    kwargs = dict(method="certificate", rng=SEED, executor=counter, checkpoint=tmp_path)
    first = recovery_probability(D, M_STAR, [3, 4], 1, **kwargs)
    name = sorted(os.listdir(tmp_path))[0]
    with np.load(tmp_path / name) as f:
        fields = {key: f[key] for key in f.files}
    identity = json.loads(str(fields["checkpoint"]))
    fields["checkpoint"] = np.array(json.dumps(identity | {"format": "qnb.sweep/1"}, sort_keys=True))
    fields["certificate"] = np.array(-1.0)  # what a misread would return
    np.savez(tmp_path / name, **fields)
    # The schema of version 1 named files n<n>_t<trial>_<hash>.npz and held no identity.
    np.savez(tmp_path / "n000003_t00000_0123456789ab.npz", certificate=np.array(-1.0))
    with pytest.warns(UserWarning, match="it has the schema 'qnb.sweep/1', not 'qnb.sweep/3'"):
        again = recovery_probability(D, M_STAR, [3, 4], 1, **kwargs)
    assert again.n_loaded == 1 and counter.calls == 3
    assert_array_equal(again.certificate, first.certificate)


def test_interrupted_sweep_resumes(tmp_path, counting, serial_certificate):
    # A sweep stopped after 5 instances (Ctrl-C inside the sixth): the 5 are on disk.
    with pytest.raises(KeyboardInterrupt):
        recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                             executor=counting(fail_after=5), checkpoint=tmp_path)
    assert len(os.listdir(tmp_path)) == 5
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]

    counter = counting()
    resumed = recovery_probability(D, M_STAR, N_VALUES, TRIALS, method="certificate", rng=SEED,
                                   executor=counter, checkpoint=tmp_path)
    assert resumed.n_loaded == 5 and counter.calls == len(N_VALUES) * TRIALS - 5
    assert_same_sweep(serial_certificate, resumed)


def test_sweep_extended_with_more_n_values_resumes(tmp_path, serial_flow):
    """A first, shorter sweep (as if stopped early) is picked up by the full one on a pool."""
    kwargs = dict(method="flow", rng=SEED, checkpoint=tmp_path)
    recovery_probability(D, M_STAR, N_VALUES[:2], TRIALS, executor="serial", **kwargs)
    with process_pool(2) as pool:
        full = recovery_probability(D, M_STAR, N_VALUES, TRIALS, executor=pool, **kwargs)
    assert full.n_loaded == 2 * TRIALS
    assert len(os.listdir(tmp_path)) == len(N_VALUES) * TRIALS
    assert_same_sweep(serial_flow, full)


def test_progress_goes_to_stderr(capsys, tmp_path):
    recovery_probability(D, M_STAR, [3, 4], 2, method="certificate", rng=0, executor="serial",
                         progress=True, checkpoint=tmp_path)
    out, err = capsys.readouterr()
    assert out == "" and "4/4 instances" in err and "0 from checkpoint" in err
    recovery_probability(D, M_STAR, [3, 4], 2, method="certificate", rng=0, executor="serial",
                         progress=True, checkpoint=tmp_path)
    assert "4/4 instances, 4 from checkpoint" in capsys.readouterr().err


# --- argument checks -----------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"d": 0}, ValueError, "d must be >= 1"),
        ({"d": 4.0}, TypeError, "d must be an integer"),
        ({"m_star": 0}, ValueError, "m_star must be >= 1"),
        ({"n_values": []}, ValueError, "n_values must not be empty"),
        ({"n_values": [3, 0]}, ValueError, "n_values entry must be >= 1"),
        ({"n_values": [3, 4.5]}, TypeError, "n_values entry must be an integer"),
        ({"n_values": [3, 3]}, ValueError, "n_values must not repeat"),
        ({"n_values": "34"}, TypeError, "n_values must be a 1-D sequence"),
        ({"n_values": [[3, 4]]}, TypeError, "n_values must be a 1-D sequence"),
        ({"trials": 0}, ValueError, "trials must be >= 1"),
        ({"trials": True}, TypeError, "trials must be an integer"),
        ({"method": "sdp"}, ValueError, "method must be one of"),
        ({"method": None}, TypeError, "method must be a string"),
        ({"rng": -1}, ValueError, "rng must be a non-negative integer"),
        ({"rng": 1.5}, TypeError, "rng must be None, a non-negative integer or a numpy Generator"),
        ({"executor": "threads"}, ValueError, "executor must be None, 'serial' or an executor"),
        ({"executor": 2}, TypeError, "executor must be None, 'serial', a concurrent.futures"),
        ({"teacher": "uniform"}, ValueError, "teacher must be one of"),
        ({"width": 0}, ValueError, "width must be >= 1"),
        ({"flow_time": 0.0}, ValueError, "flow_time must be finite and > 0"),
        ({"flow_time": np.inf}, ValueError, "flow_time must be finite and > 0"),
        ({"recovery_tol": -1e-3}, ValueError, "recovery_tol must be finite and > 0"),
        ({"recovery_tol": "1e-3"}, TypeError, "recovery_tol must be a real number"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be None or a directory"),
        ({"progress": 1}, TypeError, "progress must be True or False"),
    ],
)
def test_argument_errors(kwargs, error, match, counting):
    counter = counting()
    args = {"d": D, "m_star": M_STAR, "n_values": [3], "trials": 1, "executor": counter} | kwargs
    with pytest.raises(error, match=match):
        recovery_probability(**args)
    assert counter.calls == 0  # checked before any work


def test_checkpoint_must_not_be_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ValueError, match="checkpoint must be a directory"):
        recovery_probability(D, M_STAR, [3], 1, executor="serial", checkpoint=path)

"""Sweeps that survive their instances and their interruptions (issue #13, defects 2, 3, 5, 6).

A seed drawn for ``rng=None`` is printed and resumes; checkpoint files are checked against the
task and read with bounded memory; an instance has a time limit; every failure of one instance
is its status; a sweep killed with SIGKILL resumes to the uninterrupted result and leaves no
worker process and no temporary file behind.
"""

import concurrent.futures
import dataclasses
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import qnb
import qnb.loss_curves
import qnb.recovery
from qnb import RECOVERY_METHODS

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
D, M_STAR = 4, 1
T_SHORT = [0.0, 0.1, 1.0, 10.0]
STATUS_RAISED = qnb.recovery.STATUS_RAISED
STATUS_TIMED_OUT = qnb.recovery.STATUS_TIMED_OUT

# Each sweep, small, and a field whose values identify its instances.
SWEEPS = {
    "recovery_probability": (lambda **kw: qnb.recovery_probability(D, M_STAR, [6, 10], 2, executor="serial", **kw),
                             "certificate"),
    "recovery_threshold": (lambda **kw: qnb.recovery_threshold(D, M_STAR, 3, executor="serial", **kw),
                           "n_threshold"),
    "string_profiles": (lambda **kw: qnb.string_profiles(D, [8], 2, n_images=10, flow_time=1e3,
                                                         executor="serial", **kw), "train_loss"),
    "gd_loss_curves": (lambda **kw: qnb.gd_loss_curves(3, 1, 8, 3, T_SHORT, **kw), "train_loss"),
}


def printed_seed(err, sweep):
    """The seed a sweep printed on stderr for rng=None."""
    found = re.findall(rf"^{sweep}: rng=None, drew seed (\d+); pass rng=(\d+) to repeat or resume",
                       err, flags=re.MULTILINE)
    assert len(found) == 1 and found[0][0] == found[0][1], err
    return int(found[0][0])


def stored(path):
    with np.load(path) as f:
        return {key: f[key] for key in f.files}


def npy_bytes(value):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
    return buffer.getvalue()


def write_members(path, members):
    """An ``.npz`` file (valid zip checksums) with the given raw ``.npy`` members."""
    with zipfile.ZipFile(path, "w") as archive:
        for key, raw in members.items():
            archive.writestr(f"{key}.npy", raw)


def with_solve(solve):
    """The certificate method of RECOVERY_METHODS with another ``solve``."""
    return dataclasses.replace(RECOVERY_METHODS["certificate"], solve=solve)


# Top-level, so that process-pool workers can unpickle them (they import this module).

def sleep_at_7(X, *args):
    """The certificate, except that with 7 samples it sleeps (an alarm interrupts it)."""
    if X.shape[0] == 7:
        time.sleep(60)
    return RECOVERY_METHODS["certificate"].solve(X, *args)


def stuck_at_7_dies_at_8(X, *args):
    """The certificate, except that with 7 samples it hangs where no alarm reaches it, as
    compiled code can (only killing the process stops it), and with 8 its process dies."""
    if X.shape[0] == 7:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
        time.sleep(60)
    if X.shape[0] == 8:
        os._exit(3)
    return RECOVERY_METHODS["certificate"].solve(X, *args)


# --- defect 2: a drawn seed is printed, stored and resumes -------------------------------------

@pytest.mark.parametrize("sweep", sorted(SWEEPS))
def test_drawn_seed_is_printed_stored_and_resumes(sweep, tmp_path, capsys):
    """Defect 2: with rng=None the seed was drawn, hashed into the file names and never printed,
    so an interrupted sweep could not be resumed. Now it is printed on stderr before any work,
    stored in every record's identity and returned; a rerun with it reads every record back."""
    call, field = SWEEPS[sweep]
    res = call(rng=None, checkpoint=tmp_path)
    seed = printed_seed(capsys.readouterr().err, sweep)
    assert seed == res.seed
    files = sorted(tmp_path.glob("*.npz"))
    assert len(files) == res.instance_status.size
    for path in files:
        assert json.loads(str(stored(path)["checkpoint"]))["task"]["seed"] == seed
    again = call(rng=seed, checkpoint=tmp_path)
    assert "drew seed" not in capsys.readouterr().err
    assert again.n_loaded == res.instance_status.size and again.seed == seed
    assert_array_equal(again[field], res[field])


# --- defect 6: checkpoints do not trust their names -------------------------------------------

def test_record_of_another_seed_under_this_name_is_recomputed_with_a_warning(tmp_path):
    """Defect 6: a record renamed from another seed was dropped without a word (or, before the
    identity check, used). Now it is recomputed with a warning that says which parameter differs."""
    one, two = tmp_path / "one", tmp_path / "two"
    qnb.recovery_threshold(D, M_STAR, 2, rng=1, executor="serial", checkpoint=one)
    expected = qnb.recovery_threshold(D, M_STAR, 2, rng=2, executor="serial", checkpoint=two)
    for source, target in zip(sorted(one.iterdir()), sorted(two.iterdir())):  # trial 0, trial 1
        shutil.copyfile(source, target)
    with pytest.warns(UserWarning, match=r"computed for another task \(seed: stored 1, expected 2\)"):
        again = qnb.recovery_threshold(D, M_STAR, 2, rng=2, executor="serial", checkpoint=two)
    assert again.n_loaded == 0
    for a, b in zip(again.probe_value, expected.probe_value):
        assert_array_equal(a, b)
    assert qnb.recovery_threshold(D, M_STAR, 2, rng=2, executor="serial", checkpoint=two).n_loaded == 2


def forge(fields, how):
    """A forged record (fields of a genuine one), written with valid zip checksums."""
    fields = dict(fields)
    identity = json.loads(str(fields["checkpoint"]))
    if how == "identity of other parameters":
        identity["task"]["teacher"] = "orthonormal"
        fields["checkpoint"] = np.array(json.dumps(identity, sort_keys=True))
    elif how == "field of another shape":
        fields["certificate"] = np.array([-1.0, -1.0, -1.0])
    elif how == "missing field":
        del fields["certificate"]
    elif how == "status of another type":
        fields["status"] = np.array("decided")
    return {key: npy_bytes(value) for key, value in fields.items()}


@pytest.mark.parametrize("how, reason", [
    ("identity of other parameters", "teacher: stored 'orthonormal', expected 'gaussian'"),
    ("field of another shape", r"field 'certificate' has shape \(3,\), expected \(\)"),
    ("missing field", "it lacks the field 'certificate'"),
    ("status of another type", "field 'status' has dtype <U7"),
])
def test_forged_record_is_recomputed_with_a_warning(how, reason, tmp_path):
    """Defect 6: a forged or corrupt record with valid zip checksums under the right name was
    used (a wrong field crashed the assembly). Now it is recomputed, with a warning saying why."""
    kwargs = dict(method="certificate", rng=3, executor="serial", checkpoint=tmp_path)
    first = qnb.recovery_probability(D, M_STAR, [6, 10], 1, **kwargs)
    victim = sorted(tmp_path.glob("*.npz"))[0]
    write_members(victim, forge(stored(victim), how))
    with pytest.warns(UserWarning, match=f"{victim.name} is not used .*{reason}"):
        again = qnb.recovery_probability(D, M_STAR, [6, 10], 1, **kwargs)
    assert again.n_loaded == 1 and again.success
    assert_array_equal(again.certificate, first.certificate)


def test_member_announcing_a_huge_array_is_rejected_before_allocation(tmp_path):
    """Defect 3 (checkpoints): a member whose .npy header claims 2**40 floats aborted the sweep
    with MemoryError. Now the header is checked against the bytes stored and a limit before
    anything is allocated, and the instance is recomputed with a warning."""
    kwargs = dict(method="certificate", rng=3, executor="serial", checkpoint=tmp_path)
    first = qnb.recovery_probability(D, M_STAR, [6], 2, **kwargs)
    victim = sorted(tmp_path.glob("*.npz"))[0]
    members = {key: npy_bytes(value) for key, value in stored(victim).items()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (2**40,)})
    members["certificate"] = header.getvalue() + bytes(16)
    write_members(victim, members)
    with pytest.warns(UserWarning, match=r"header claims shape \(1099511627776,\)"):
        again = qnb.recovery_probability(D, M_STAR, [6], 2, **kwargs)
    assert again.n_loaded == 1
    assert_array_equal(again.certificate, first.certificate)


# --- defect 5: every failure of one instance is its status -------------------------------------

@pytest.mark.parametrize("solver", ["string_method", "flow_with_fallback", "is_unique_minimizer"])
def test_string_profiles_records_an_exception_as_the_instance_status(solver, monkeypatch):
    """Defect 5: string_profiles caught no exception, so one instance whose string method, flow
    or certificate raised aborted the sweep. Now it is that instance's status (-200, with the
    exception's type and message) and its fields are NaN, -1 or False."""
    module = sys.modules["qnb.string_profiles"]
    original = getattr(module, solver)

    def raising_with_9_samples(*args, **kwargs):
        X = args[{"string_method": 2, "flow_with_fallback": 1, "is_unique_minimizer": 0}[solver]]
        if X.shape[0] == 9:
            raise FloatingPointError(f"{solver} gave up (test)")
        return original(*args, **kwargs)

    monkeypatch.setattr(module, solver, raising_with_9_samples)
    res = qnb.string_profiles(D, [8, 9], 1, rng=2, n_images=10, flow_time=1e3, executor="serial")
    assert_array_equal(res.instance_status, [[0], [STATUS_RAISED]])
    assert res.n_failed == 1 and not res.success
    assert f"n=9 trial=0: raised FloatingPointError: {solver} gave up (test)" in res.message
    assert np.isnan(res.train_loss[1, 0]).all() and np.isfinite(res.train_loss[0, 0]).all()
    assert res.nit[1, 0] == -1 and not res.unique[1, 0] and np.isnan(res.flow_gap[1, 0])


def test_loss_curves_record_an_exception_as_the_run_status(tmp_path, monkeypatch):
    """Defect 5: an exception in one run's flow aborted gd_loss_curves. Now it is the run's
    status, the run's row is NaN, the failed record is stored, and a rerun recomputes it."""
    def raising_second_call(*args, _calls=[0], **kwargs):
        _calls[0] += 1
        if _calls[0] == 2:
            raise ValueError("A0 is not finite (test)")
        return qnb.flows.empirical_flow(*args, **kwargs)

    monkeypatch.setattr(qnb.loss_curves, "empirical_flow", raising_second_call)
    res = qnb.gd_loss_curves(3, 1, 8, 3, T_SHORT, rng=4, checkpoint=tmp_path)
    assert_array_equal(res.instance_status, [0, STATUS_RAISED, 0])
    assert "run=1: raised ValueError: A0 is not finite (test)" in res.message
    assert np.isnan(res.train_loss[1]).all() and np.isfinite(res.train_loss[[0, 2]]).all()
    assert len(list(tmp_path.glob("*.npz"))) == 3  # the failure is written too ...
    monkeypatch.undo()
    again = qnb.gd_loss_curves(3, 1, 8, 3, T_SHORT, rng=4, checkpoint=tmp_path)
    assert again.n_loaded == 2 and again.success  # ... and retried on resume
    assert_array_equal(again.train_loss[[0, 2]], res.train_loss[[0, 2]])


def test_recovery_threshold_records_an_exception_as_the_instance_status(monkeypatch):
    """Defect 5: an exception other than ArithmeticError or LinAlgError in the uniqueness decision
    aborted recovery_threshold. Now it is the instance's status; the other instances are kept."""
    def solve(X, *args):
        if X[0, 0] > 0:  # some instances, all their probes
            raise KeyError("no such margin (test)")
        return RECOVERY_METHODS["certificate"].solve(X, *args)

    monkeypatch.setitem(RECOVERY_METHODS, "raising", with_solve(solve))
    res = qnb.recovery_threshold(D, M_STAR, 6, method="raising", rng=0, executor="serial")
    raised = res.instance_status == STATUS_RAISED
    assert raised.any() and not raised.all() and res.n_failed == raised.sum()
    assert_array_equal(res.n_threshold[raised], -1)
    assert all(p.size == 0 for p, r in zip(res.probe_n, raised) if r)
    assert "raised KeyError: 'no such margin (test)'" in res.message


# --- defect 3: a time limit per instance --------------------------------------------------------

def test_instance_over_its_time_limit_is_a_status_in_serial(tmp_path, monkeypatch):
    """Defect 3: sweeps had no per-instance time limit, so one hanging instance stalled the whole
    sweep. Now, on 'serial', an alarm stops it at instance_timeout: status -201 and a message,
    the sweep goes on, and a rerun retries it."""
    monkeypatch.setitem(RECOVERY_METHODS, "slow", with_solve(sleep_at_7))
    kwargs = dict(method="slow", rng=0, executor="serial", checkpoint=tmp_path)
    start = time.perf_counter()
    res = qnb.recovery_probability(D, M_STAR, [6, 7], 2, instance_timeout=2.0, **kwargs)
    assert time.perf_counter() - start < 20
    assert_array_equal(res.instance_status, [[0, 0], [STATUS_TIMED_OUT] * 2])
    assert "n=7 trial=1: stopped after instance_timeout = 2 s" in res.message
    assert np.all(res.instance_seconds[1] >= 2.0)
    monkeypatch.setitem(RECOVERY_METHODS, "slow", RECOVERY_METHODS["certificate"])
    again = qnb.recovery_probability(D, M_STAR, [6, 7], 2, **kwargs)
    assert again.n_loaded == 2 and again.success


def test_a_pure_python_loop_is_stopped_in_serial(monkeypatch):
    """Defect 3: a run that never returns (a busy loop, like LSODA stuck at t = 0) is stopped."""
    def endless(*args, _calls=[0], **kwargs):
        _calls[0] += 1
        while _calls[0] == 1:
            pass
        return qnb.flows.empirical_flow(*args, **kwargs)

    monkeypatch.setattr(qnb.loss_curves, "empirical_flow", endless)
    # The limit leaves the second, normal run ample time on a loaded machine (it takes ~10 ms).
    res = qnb.gd_loss_curves(3, 1, 8, 2, T_SHORT, rng=0, instance_timeout=3.0)
    assert_array_equal(res.instance_status, [STATUS_TIMED_OUT, 0])
    assert np.isnan(res.train_loss[0]).all() and np.isfinite(res.train_loss[1]).all()


def test_stuck_or_dead_worker_of_the_default_pool_is_the_instance_status(monkeypatch):
    """Defects 3 and 5: on a process pool a hung instance could not be stopped, and a worker that
    died broke the pool. Now a worker of the default pool still busy after its limit (stuck
    where the alarm cannot reach) is killed and replaced, with status -201; a worker that dies is
    replaced, with status -202; the other instances finish."""
    monkeypatch.setitem(RECOVERY_METHODS, "stuck", with_solve(stuck_at_7_dies_at_8))
    start = time.perf_counter()
    res = qnb.recovery_probability(D, M_STAR, [6, 7, 8, 9, 10], 1, method="stuck", rng=0,
                                   executor=None, instance_timeout=3.0)
    assert time.perf_counter() - start < 40
    assert_array_equal(res.instance_status[:, 0], [0, STATUS_TIMED_OUT, qnb.recovery.STATUS_WORKER_LOST,
                                                   0, 0])
    assert "n=7 trial=0: stopped after instance_timeout = 3 s" in res.message
    assert re.search(r"n=8 trial=0: its worker was lost: .*\(exit code 3\)", res.message), res.message


def test_time_limit_holds_on_a_given_process_pool(monkeypatch):
    """Defect 3: on a process pool passed by the caller, the alarm in the worker stops the
    instance at its limit; the pool stays usable."""
    monkeypatch.setitem(RECOVERY_METHODS, "slow", with_solve(sleep_at_7))
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else None)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        res = qnb.recovery_probability(D, M_STAR, [6, 7], 2, method="slow", rng=0, executor=pool,
                                       instance_timeout=2.0)
        assert pool.submit(int, "7").result() == 7
    assert_array_equal(res.instance_status, [[0, 0], [STATUS_TIMED_OUT] * 2])


def test_time_limit_that_cannot_be_enforced_says_so():
    """Defect 3: outside the main thread no alarm can be set, so 'serial' cannot stop an
    instance; the sweep warns instead of silently running without the limit asked for."""
    caught = []

    def sweep():
        with warnings.catch_warnings(record=True) as found:
            warnings.simplefilter("always")
            res = qnb.gd_loss_curves(3, 1, 8, 1, T_SHORT, rng=0, instance_timeout=10.0)
        caught.extend((str(w.message), w.category, res.success) for w in found)

    thread = threading.Thread(target=sweep)
    thread.start()
    thread.join()
    assert [(c, ok) for _, c, ok in caught] == [(RuntimeWarning, True)]
    assert "instance_timeout is not enforced with executor='serial'" in caught[0][0]


@pytest.mark.parametrize("value, error", [(0.0, ValueError), (-1.0, ValueError), (np.inf, ValueError),
                                          ("10", TypeError)])
def test_instance_timeout_is_checked(value, error, counting):
    counter = counting()
    with pytest.raises(error, match="instance_timeout"):
        qnb.recovery_probability(D, M_STAR, [6], 1, executor=counter, instance_timeout=value)
    assert counter.calls == 0


# --- kill and resume: SIGKILL part way, rerun, compare with an uninterrupted run -----------------

# Runs of about 0.07 s each: a sweep long enough to be killed part way, short for a test.
KILLED_SWEEP = {"d": 4, "m_star": 1, "n": 12, "n_runs": 30, "t_eval": [0.0, 1.0, 10.0, 100.0, 1e3, 1e4]}

SCRIPT = """
import json
import sys

import qnb


def main():
    sweep, checkpoint, rng, executor = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    qnb.gd_loss_curves(**sweep, rng=None if rng == "None" else int(rng), checkpoint=checkpoint,
                       executor=None if executor == "None" else executor)


if __name__ == "__main__":
    main()
"""


def descendants(pid):
    """Processes below ``pid`` (Linux /proc), as ``{pid: command line}``."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found[child] = cmdline(child)
                frontier.append(child)
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def running(pid):
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_part_way(tmp_path, rng, executor):
    """Start the sweep in a subprocess, SIGKILL it once a few records exist; return its pid,
    its stderr and the processes it had started. (Its stderr goes to a file: orphaned workers
    would keep a pipe open, and reading it would hang instead of failing.)"""
    script = tmp_path / "sweep.py"
    script.write_text(SCRIPT)
    checkpoint = tmp_path / "checkpoint"
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(tmp_path / "stderr.txt", "w+") as err:
        proc = subprocess.Popen([sys.executable, str(script), json.dumps(KILLED_SWEEP), str(checkpoint),
                                 str(rng), str(executor)], env=env, stderr=err)
        try:
            deadline = time.monotonic() + 120
            while len(list(checkpoint.glob("gd_loss_curves_*.npz"))) < 3:
                assert proc.poll() is None, (tmp_path / "stderr.txt").read_text()
                assert time.monotonic() < deadline, "the sweep wrote no records"
                time.sleep(0.01)
            children = descendants(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    return proc.pid, (tmp_path / "stderr.txt").read_text(), children


def assert_resumes_to_the_uninterrupted_result(checkpoint, seed, executor):
    resumed = qnb.gd_loss_curves(**KILLED_SWEEP, rng=seed, checkpoint=checkpoint, executor=executor)
    assert 3 <= resumed.n_loaded < KILLED_SWEEP["n_runs"]  # killed part way, resumed from there
    assert not list(checkpoint.glob(".tmp-*"))
    uninterrupted = qnb.gd_loss_curves(**KILLED_SWEEP, rng=seed)
    assert resumed.success and uninterrupted.success
    for key in ("train_loss", "population_loss", "instance_status"):
        assert_array_equal(resumed[key], uninterrupted[key])  # bitwise


def plant_abandoned_temporaries(checkpoint, writer):
    """What a writer killed in the middle of a record leaves (which a kill at a random moment
    rarely hits): its temporary file, and one of an unknown writer, two hours old."""
    (checkpoint / f".tmp-{socket.gethostname()}-{writer}-planted.npz").write_bytes(b"half a zip")
    old = checkpoint / ".tmp-unknownwriter.npz"
    old.write_bytes(b"half a zip")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))


@pytest.mark.slow  # a subprocess and three sweeps: about 8 s
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="lists processes through /proc")
def test_sweep_killed_on_the_default_pool_resumes_and_leaves_no_workers(tmp_path):
    """Defects 2 and 5, the acceptance check: a sweep on the default process pool is killed with
    SIGKILL part way; its workers (and their fork server) then exit by themselves, instead of
    outliving it; the rerun with the same seed reads the records written, removes the killed
    writer's temporary files and gives bitwise the uninterrupted result."""
    pid, err, children = kill_part_way(tmp_path, 11, None)
    assert any("forkserver" in line or "multiprocessing" in line for line in children.values()), children
    deadline = time.monotonic() + 20
    while any(running(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not {child: line for child, line in children.items() if running(child)}
    checkpoint = tmp_path / "checkpoint"
    plant_abandoned_temporaries(checkpoint, pid)
    assert_resumes_to_the_uninterrupted_result(checkpoint, 11, "serial")


@pytest.mark.slow  # a subprocess and two sweeps: about 6 s
def test_sweep_killed_with_a_drawn_seed_resumes_with_the_printed_seed(tmp_path):
    """Defect 2, the acceptance check for rng=None: the killed sweep printed its drawn seed; the
    rerun with it reads the records written and gives bitwise the uninterrupted result."""
    pid, err, _ = kill_part_way(tmp_path, None, "serial")
    seed = printed_seed(err, "gd_loss_curves")
    checkpoint = tmp_path / "checkpoint"
    plant_abandoned_temporaries(checkpoint, pid)
    assert_resumes_to_the_uninterrupted_result(checkpoint, seed, "serial")

import pytest

from early_stop import EarlyStopping


def test_patience_counts_consecutive_bad_epochs_and_resets_on_improvement():
    s = EarlyStopping(patience=2, mode="max")
    assert [s.step(v) for v in (0.5, 0.4, 0.6, 0.6, 0.55)] == [False, False, False, False, True]
    assert s.best == 0.6 and s.best_epoch == 2


def test_min_mode_and_min_delta():
    s = EarlyStopping(patience=1, mode="min", min_delta=0.1)
    assert not s.step(1.0)
    assert s.improved
    assert s.step(0.95)          # better, but not by more than min_delta
    assert not s.improved and s.best == 1.0


def test_nan_never_improves():
    s = EarlyStopping(patience=1, mode="max")
    s.step(0.1)
    assert s.step(float("nan")) and s.best == 0.1


def test_state_round_trip_resumes_exactly():
    a = EarlyStopping(patience=3, mode="max")
    for v in (0.1, 0.3, 0.2):
        a.step(v)
    b = EarlyStopping()
    b.load_state_dict(a.state_dict())
    assert [a.step(v) for v in (0.25, 0.2)] == [b.step(v) for v in (0.25, 0.2)] == [False, True]


@pytest.mark.parametrize("kwargs", [{"mode": "up"}, {"patience": 0}, {"min_delta": -1}])
def test_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        EarlyStopping(**kwargs)

"""A sync run's stages in the seed's order, its progress, and when it goes round again."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calldesk.domain.errors import InvalidValue
from calldesk.domain.replica_runs import (
    MAX_ITERATIONS,
    RunProgress,
    SyncStage,
    another_iteration,
)


def test_the_stages_run_in_the_seeds_order():
    order: list[SyncStage] = []
    stage: SyncStage | None = SyncStage.SESSION
    while stage is not None:
        order.append(stage)
        stage = stage.following
    assert order == [
        SyncStage.SESSION,
        SyncStage.SCHEMA,
        SyncStage.PULL,
        SyncStage.SERVER_DELETES,
        SyncStage.LOCAL_DELETES,
        SyncStage.CREATES,
        SyncStage.MERGE,
        SyncStage.MOVE_PULLED,
        SyncStage.FINISH,
    ]


def test_every_stage_says_what_it_does():
    assert len({stage.label for stage in SyncStage}) == len(SyncStage)


def test_progress_is_a_fraction_of_the_stage_once_its_total_is_known():
    assert RunProgress(SyncStage.PULL).fraction is None
    assert RunProgress(SyncStage.PULL, done=250, total=1000).fraction == 0.25
    assert RunProgress(SyncStage.CREATES, total=0).fraction == 1.0


@pytest.mark.parametrize(
    ("iteration", "done", "total", "message"),
    [
        (0, 0, None, "iterations 1 to"),
        (MAX_ITERATIONS + 1, 0, None, "iterations 1 to"),
        (1, -1, None, "items, not -1"),
        (1, 11, 10, "total of 10 items, not 11"),
    ],
)
def test_progress_outside_its_bounds_is_refused(iteration, done, total, message):
    with pytest.raises(InvalidValue, match=message):
        RunProgress(SyncStage.PULL, iteration, done, total)


@given(
    iteration=st.integers(1, MAX_ITERATIONS),
    pulled=st.integers(0, 10),
    pushed=st.integers(0, 10),
)
def test_a_run_goes_round_again_while_it_moves_anything_and_has_iterations_left(
    iteration, pulled, pushed
):
    again = another_iteration(iteration, pulled, pushed)
    assert again == (iteration < MAX_ITERATIONS and pulled + pushed > 0)


def test_the_echo_of_the_runs_own_writes_counts_as_pulled():
    """The echo brings back the server's computed fields (L86): one more iteration."""
    assert another_iteration(1, pulled=0, pushed=3)
    assert another_iteration(2, pulled=3, pushed=0)
    assert not another_iteration(3, pulled=0, pushed=0)


def test_negative_counts_are_refused():
    with pytest.raises(InvalidValue, match="no fewer than 0"):
        another_iteration(1, -1, 0)

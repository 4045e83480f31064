import dataclasses

from sae.train.progress import logs_curve_at
from tests.factories import single_spec


def test_a_curve_point_every_log_every_steps_and_at_the_last():
    s = dataclasses.replace(single_spec("batchtopk"), samples=10 * 256, log_every=4)
    assert s.total_steps == 10
    assert [step for step in range(1, 11) if logs_curve_at(step, s)] == [4, 8, 10]
    s = single_spec("batchtopk")  # 64 steps, every 8
    assert [step for step in range(1, 65) if logs_curve_at(step, s)] == list(range(8, 65, 8))

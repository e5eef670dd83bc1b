"""The README's main job: the sample class is graded exactly as expected."""
import pytest

from cs231n_lib.course import demo


@pytest.mark.slow
def test_demo_grades_every_sample_student_as_expected(tmp_path, capsys):
    assert demo.run_demo(out_dir=tmp_path / "demo", jobs=2, timeout=5) == 0
    out = capsys.readouterr().out
    assert "every score is the expected one" in out
    assert "MISMATCH" not in out
    for student in demo.STORIES:
        assert f"\n{student}" in out
    assert (tmp_path / "demo" / "work" / "export" / "grades.csv").exists()

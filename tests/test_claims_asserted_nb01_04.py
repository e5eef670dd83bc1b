"""Notebooks 01-04: every claim of CURRICULUM.md is asserted by an expect() call in the solution,
and the stored run printed it as holding."""
import json
import re

import pytest

from cs231n_lib.course import paths

CLAIMS = {
    "01_gradient_checking": [f"G{i}" for i in range(1, 12)],
    "02_sanity_checks": ["P1", "P2", "S1", "S2", "S3", "S4"],
    "03_monitoring": [f"M{i}" for i in range(1, 9)],
    "04_optimizers": [f"O{i}" for i in range(1, 11)],
}
EXPECT_CALL = re.compile(r"\bexpect\(\s*[\"']([A-Z]\d+)[\"']")
PRINTED = re.compile(r"^\[([A-Z]\d+)\] (holds|DOES NOT HOLD): ", re.MULTILINE)


def _code_and_output(assignment):
    sources, outputs = [], []
    for path in sorted((paths.SOLUTIONS / assignment).glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            sources.append("".join(cell["source"]))
            outputs += ["".join(o.get("text", "")) for o in cell.get("outputs", [])
                        if o.get("output_type") == "stream"]
    return "\n".join(sources), "\n".join(outputs)


@pytest.mark.parametrize("assignment", sorted(CLAIMS))
def test_every_claim_has_an_expect_call(assignment):
    code, _ = _code_and_output(assignment)
    asserted = set(EXPECT_CALL.findall(code))
    missing = [c for c in CLAIMS[assignment] if c not in asserted]
    assert not missing, f"{assignment}: no expect('ID', ...) call for {missing}"


@pytest.mark.parametrize("assignment", sorted(CLAIMS))
def test_stored_run_printed_every_claim_as_holding(assignment):
    _, output = _code_and_output(assignment)
    verdicts = PRINTED.findall(output)
    assert all(verdict == "holds" for _, verdict in verdicts), f"{assignment}: {verdicts}"
    missing = [c for c in CLAIMS[assignment] if c not in {claim for claim, _ in verdicts}]
    assert not missing, f"{assignment}: the stored outputs print no verdict for {missing}"

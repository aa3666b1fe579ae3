"""The worked change (docs/changes/): its patches still apply to the working tree, the patched
stacks hold the new step, and what the doc says each patch touched is what the patches and the
synths give now. When this fails, docs/changes/README.md says how to regenerate."""

import shutil

import pytest

from shared.contract import CHOREOGRAPHY, ORCHESTRATION, STYLES
from tools.analysis.compare import static, worked_change


@pytest.fixture(scope="module")
def change() -> static.WorkedChange:
    """The patches applied to a copy of the working tree, and both trees synthesized."""
    return worked_change.measure_change()


def test_there_is_a_shared_patch_and_one_per_deployed_style_or_none_needed(change):
    parts = [p.part for p in change.patches]
    assert parts[0] == worked_change.SHARED_PART
    assert {ORCHESTRATION, CHOREOGRAPHY} <= set(parts)
    for style, s in change.styles.items():
        # A style without a patch of its own must still have been changed, by another's.
        assert s.patch or s.wiring_touched, f"{style}: no patch, and no patch touches its wiring"


def test_the_style_patches_touch_different_files(change):
    touched = [f.path for p in change.patches for f in p.files]
    assert len(touched) == len(set(touched))


def test_every_style_runs_the_fraud_check_between_reserve_and_charge(change):
    assert set(change.styles) == set(STYLES)
    orchestrated = change.styles[ORCHESTRATION]
    assert {"ReserveInventory → CheckFraud", "CheckFraud → ChargePayment"} <= set(orchestrated.links_added)
    assert "ReserveInventory → ChargePayment" in orchestrated.links_removed
    choreographed = change.styles[CHOREOGRAPHY]
    assert {"InventoryReserved → check_fraud", "FraudCleared → charge_payment"} <= set(choreographed.links_added)
    assert "InventoryReserved → charge_payment" in choreographed.links_removed
    for style, s in change.styles.items():
        assert any("CheckFraud" in link or "check_fraud" in link for link in s.links_added), style
        assert s.resources_changed.get("AWS::Lambda::Function") == 1, style  # the check's function


def test_the_doc_states_what_the_patches_and_synths_give_now(change):
    assert worked_change.generated_part(worked_change.README.read_text()) == worked_change.markdown(change)
    written = static.WorkedChange.model_validate_json(worked_change.DATA.read_text())
    assert written == change, "run: python -m tools.analysis.compare.worked_change --write"


def test_the_doc_lines_are_the_patches_numstat(change):
    for stats in change.patches:
        patch = worked_change.CHANGES / stats.patch
        counted = {(f.path, f.added, f.removed) for f in worked_change.numstat(patch)}
        added = sum(line.startswith("+") and not line.startswith("+++") for line in patch.read_text().splitlines())
        assert {(f.path, f.added, f.removed) for f in stats.files} == counted
        assert stats.added == added


def test_a_patch_that_no_longer_applies_fails_loudly(tmp_path):
    changes = tmp_path / "changes"
    shutil.copytree(worked_change.CHANGES, changes)
    orchestration = changes / f"{worked_change.NAME}.{ORCHESTRATION}.patch"
    text = orchestration.read_text()
    # A context line of the first hunk that is not in the tree any more.
    first_context = next(line for line in text.splitlines() if line.startswith(" ") and line.strip())
    orchestration.write_text(text.replace(first_context, first_context + " # changed since", 1))
    with pytest.raises(worked_change.PatchFailed, match="git apply --check"):
        worked_change.patched_copy(static.ROOT, tmp_path / "tree", worked_change.patch_files(changes))

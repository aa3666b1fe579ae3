"""The static comparison: code lines, each style's wiring, resources, IAM statements and the
places that state the flow, from the code and one offline synth of app.py (no LocalStack)."""

import json
from pathlib import Path

import pytest
from rich.console import Console

from shared.contract import CHOREOGRAPHY, ORCHESTRATION, STACKS, STYLES
from shared.events import ROUTES
from tools.analysis.compare import __main__ as compare_cli
from tools.analysis.compare import static
from tools.analysis.compare.codebase import Project, code_lines, style_reach, wiring
from tools.analysis.compare.templates import flow, iam_statements, resource_permissions


@pytest.fixture(scope="module")
def measured() -> static.StaticComparison:
    return static.measure()


# --- code lines and wiring, on a project made up for the test ---------------------------------------


def test_code_lines_leave_out_blanks_comments_and_docstrings():
    source = '''"""Module docstring,
over two lines."""

import os  # a comment after code counts


def f(x):
    """Docstring."""
    # a comment line
    text = """a string
    that is not a docstring"""
    return os.sep + text + x
'''
    assert code_lines(source) == 5  # import, def, the string over 2 lines, return


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def project(tmp_path) -> Project:
    """Three styles over four adapters: each uses one of its own, all use `store`, and the third
    borrows one function (and what it calls) of the first's stack."""
    write(
        tmp_path,
        {
            "shared/__init__.py": "",
            "shared/adapters/__init__.py": "",
            "shared/adapters/store.py": "class Store:\n    pass\n",
            "shared/adapters/machine.py": "class Machine:\n    pass\n",
            "shared/adapters/bus.py": "class Bus:\n    pass\n",
            "shared/runtime.py": (
                "from .adapters.bus import Bus\nfrom .adapters.machine import Machine\n"
                "from .adapters.store import Store\n\n"
                "def store() -> Store:\n    return Store()\n\n"
                "def machine() -> Machine:\n    return Machine()\n\n"
                "def bus() -> Bus:\n    return Bus()\n\n"
                "def run(step):\n    return step(store())\n"
            ),
            f"{ORCHESTRATION}/__init__.py": "",
            f"{ORCHESTRATION}/handlers/go.py": "from shared.runtime import machine, run\n\nhandler = run(machine)\n",
            f"{ORCHESTRATION}/infra/stack.py": (
                "LIMIT = 3\n\n\ndef helper():\n    return LIMIT\n\n\n"
                "def definition():\n    return helper() + 1\n\n\n"
                "def unrelated():\n    x = 1\n    y = 2\n    return x + y\n"
            ),
            f"{CHOREOGRAPHY}/__init__.py": "",
            f"{CHOREOGRAPHY}/handlers/go.py": "from shared.runtime import bus, run\n\nhandler = run(bus)\n",
            "hybrid/__init__.py": "",
            "hybrid/infra/stack.py": "from orchestration.infra.stack import definition\n\nSTATES = definition()\n",
        },
    )
    return Project(tmp_path, ["shared", ORCHESTRATION, CHOREOGRAPHY, "hybrid"])


def test_wiring_is_the_style_package_and_the_adapters_not_every_style_uses(project):
    reaches = {
        ORCHESTRATION: style_reach(project, ORCHESTRATION, []),
        CHOREOGRAPHY: style_reach(project, CHOREOGRAPHY, []),
        "hybrid": style_reach(project, "hybrid", [f"{ORCHESTRATION}.handlers.go"]),  # runs orchestration's handler
    }
    files, shared = wiring(project, reaches)
    lines = {style: {f.path: f.lines for f in found} for style, found in files.items()}
    assert lines[ORCHESTRATION] == {
        "orchestration/handlers/go.py": 2,
        "orchestration/infra/stack.py": 9,
        "shared/adapters/machine.py": 2,
    }
    assert lines[CHOREOGRAPHY] == {"choreography/handlers/go.py": 2, "shared/adapters/bus.py": 2}
    # Borrowed: only `definition`, what it calls and the constant it reads (not `unrelated`), and
    # the one statement of the handler module that the stack deploys.
    assert lines["hybrid"] == {
        "hybrid/infra/stack.py": 2,
        "orchestration/handlers/go.py": 1,
        "orchestration/infra/stack.py": 5,
        "shared/adapters/machine.py": 2,
    }
    # Used by every style (through run -> store): shared, like the modules nobody's wiring holds.
    assert {m.name for m in shared} >= {"shared.adapters.store", "shared.runtime"}
    assert "shared.adapters.machine" not in {m.name for m in shared}


# --- templates, on made-up resources ----------------------------------------------------------


def test_iam_statements_count_identity_policies_and_permissions_count_resource_policies():
    template = {
        "Resources": {
            "P": {"Type": "AWS::IAM::Policy", "Properties": {"PolicyDocument": {"Statement": [{}, {}]}}},
            "R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {"Statement": [{}]}}]}},
            "Q": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"PolicyDocument": {"Statement": [{}, {}, {}]}}},
            "L": {"Type": "AWS::Lambda::Permission", "Properties": {}},
            "G": {"Type": "AWS::Logs::ResourcePolicy", "Properties": {"PolicyDocument": '{"Statement": [{}]}'}},
        }
    }
    assert iam_statements(template) == 3
    assert resource_permissions(template) == 5


def test_a_rule_into_a_log_group_is_a_tap_not_a_place_of_the_flow():
    template = {
        "Resources": {
            "FnA1B2C3D4": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "Stack-do-it"}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
            "DoRule0A1B2C3D": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"detail-type": ["Asked", "Retried"]},
                    "Targets": [{"Arn": {"Fn::GetAtt": ["FnA1B2C3D4", "Arn"]}}],
                },
            },
            "Tap": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"source": ["x"]},
                    "Targets": [{"Arn": {"Fn::GetAtt": ["Logs", "Arn"]}}],
                },
            },
            "Schedule": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(1 minute)"}},
        }
    }
    (place,) = flow(template, "Stack")
    assert (place.kind, place.name, place.links) == ("rule", "DoRule", ["Asked | Retried → do_it"])


# --- the real stacks --------------------------------------------------------------------------------


def test_every_style_of_the_contract_is_measured(measured):
    assert list(measured.styles) == list(STYLES)
    assert not measured.missing
    assert {s.stack for s in measured.styles.values()} == {STACKS[s] for s in STYLES}


def test_each_style_wires_its_own_adapter_and_shares_the_rest(measured):
    def wired(style: str) -> set[str]:
        return {f.path for f in measured.styles[style].wiring_files}

    assert {"orchestration/infra/stack.py", "shared/adapters/stepfunctions.py"} <= wired(ORCHESTRATION)
    assert {"choreography/infra/stack.py", "shared/adapters/eventbridge.py"} <= wired(CHOREOGRAPHY)
    assert "shared/adapters/eventbridge.py" not in wired(ORCHESTRATION)
    assert "shared/adapters/stepfunctions.py" not in wired(CHOREOGRAPHY)
    shared = {f.path for f in measured.shared_runtime}
    assert {"shared/steps.py", "shared/adapters/dynamodb.py"} <= shared
    for s in measured.styles.values():
        assert not {f.path for f in s.wiring_files} & shared
        assert s.wiring_lines == sum(f.lines for f in s.wiring_files) > 0


def test_choreography_states_its_flow_in_one_rule_per_route(measured):
    choreography = measured.styles[CHOREOGRAPHY]
    expected = {f"{' | '.join(t.detail_type() for t in triggers)} → {step}" for step, triggers in ROUTES.items()}
    assert {link for place in choreography.flow for link in place.links} == expected
    assert choreography.flow_places == len(ROUTES)  # the event tap is not one of them
    assert [(p.kind, p.path, p.name, p.entries) for p in choreography.flow_sources] == [
        ("routing table", "shared/events.py", "ROUTES", len(ROUTES))
    ]


def test_orchestration_states_its_flow_in_one_state_machine(measured):
    orchestration = measured.styles[ORCHESTRATION]
    (machine,) = orchestration.flow
    assert machine.kind == "state machine"
    assert "ReserveInventory → ChargePayment" in machine.links
    assert any(link.startswith("ChargePayment → ") and "catch PaymentDeclinedError" in link for link in machine.links)
    assert [p.kind for p in orchestration.flow_sources] == ["state machine definition"]
    assert orchestration.flow_sources[0].path == "orchestration/infra/stack.py"
    assert orchestration.resources["AWS::StepFunctions::StateMachine"] == 1
    assert "AWS::Events::EventBus" not in orchestration.resources
    assert measured.styles[CHOREOGRAPHY].resources["AWS::Events::EventBus"] == 1


def test_resources_are_the_templates(measured):
    templates = static.synthesize(static.ROOT)  # the run's synth, cached
    for style, s in measured.styles.items():
        template = templates[STACKS[style]]
        assert s.resource_count == len(template["Resources"])
        assert s.iam_statements == iam_statements(template) > 0


# --- rendering and the command line -----------------------------------------------------------------


def test_the_tables_show_every_style_uncropped(measured):
    console = Console(width=80, record=True)
    console.print(static.tables(measured))
    text = console.export_text()
    assert "…" not in text
    for style in measured.styles:
        assert style in text
    assert "orchestration/infra/stack.py" in text.replace("\n", "").replace("│", "").replace(" ", "")


def test_the_report_section_names_every_style_and_escapes(measured):
    html = static.html(measured)
    assert html.startswith('<section id="static">') and html.endswith("</section>")
    for style in measured.styles:
        assert f">{style}</th>" in html
    assert "ReserveInventory → ChargePayment" in html
    assert "<b>AWS::StepFunctions::StateMachine</b>" in html  # the styles differ on it


def test_static_only_never_touches_localstack(measured, tmp_path, monkeypatch, capsys):
    def no_aws(*args):
        raise AssertionError("the static comparison called AWS")

    monkeypatch.setattr(compare_cli.aws, "outputs", no_aws)
    out = tmp_path / "static.json"
    assert compare_cli.main(["--static", "--json", str(out)]) == 0
    written = static.StaticComparison.model_validate(json.loads(out.read_text()))
    assert written.styles[ORCHESTRATION].wiring_lines == measured.styles[ORCHESTRATION].wiring_lines
    assert "Reading and changing" in capsys.readouterr().out

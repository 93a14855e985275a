"""A client picker in every panel (issue 26, item 4): another client's plan without editing
the notebook; a broken file marked and named, the panel left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ftcost_helpers.engine.breakdown import estimate
from ftcost_helpers.engine.loading import load_params, project_root
from ftcost_helpers.views import widgets
from ftcost_helpers.views.notebook import NotebookContext, dashboard_clients
from ftcost_helpers.views.picker import AS_RUN, BROKEN, ClientPanel, show_panel

CLIENTS = project_root() / "params" / "clients"


@pytest.fixture
def clients(tmp_path: Path) -> dict[str, Path]:
    bad = tmp_path / "bad.yaml"
    text = (CLIENTS / "example_a.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("gpus_per_run: 8", "gpus_per_run: eight"), encoding="utf-8")
    return {"example_a": CLIENTS / "example_a.yaml", "example_b": CLIENTS / "example_b.yaml", "bad": bad}


def test_picking_a_client_shows_its_plan_in_the_panel(clients, examples, book) -> None:
    picked = ClientPanel(widgets.compute_panel, examples["a"], book, clients["example_a"], clients, area="compute")
    assert picked.picker.value == "example_a" and [v for _, v in picked.picker.options] == list(clients)
    first = picked.panel
    picked.picker.value = "example_b"
    assert picked.panel is not first and picked.client == "example_b"
    assert picked.total() == estimate(examples["b"], book).programme_total  # the panel answers as itself
    assert picked.controls["gpu"].value == "h200"  # example B trains on 4 × H200
    assert picked.following is not None and picked.following.panel is picked.panel
    assert picked.widget.children[2] is picked.panel.widget
    assert picked.panel.client_file == clients["example_b"]


def test_a_broken_file_is_marked_and_named_and_the_panel_stays(clients, examples, book) -> None:
    picked = ClientPanel(widgets.dataset_panel, examples["a"], book, clients["example_a"], clients, area="dataset")
    shown = picked.panel
    picked.picker.value = "bad"
    assert picked.panel is shown and picked.client == "example_a" and picked.picker.value == "example_a"
    assert dict(picked.picker.options)[f"bad{BROKEN}"] == "bad"
    assert "bad.yaml: training.gpus_per_run:" in picked.message.value
    assert picked.following is None  # the dataset panel has no chart under it
    # Mended, it opens.
    clients["bad"].write_text((CLIENTS / "example_b.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    picked.picker.value = "bad"
    assert picked.client == "bad" and picked.message.value == ""
    assert "bad" in dict(picked.picker.options) and not picked.broken


def test_a_plan_from_elsewhere_is_listed_as_run_and_can_be_shown_again(clients, examples, book, tmp_path) -> None:
    elsewhere = tmp_path / "mine.yaml"
    shutil.copy(clients["example_a"], elsewhere)
    params = load_params(elsewhere, book)
    picked = ClientPanel(widgets.roi_panel, params, book, elsewhere, clients, area="roi")
    assert picked.picker.value == AS_RUN and picked.picker.options[0][0] == "as run: mine.yaml"
    picked.picker.value = "example_b"
    assert picked.params.client == examples["b"].client
    picked.picker.value = AS_RUN
    assert picked.params is params and picked.client == AS_RUN


def test_the_file_written_into_is_the_one_the_rule_allows(clients, examples, book) -> None:
    picked = ClientPanel(
        widgets.eval_panel, examples["a"], book, clients["example_a"], clients, writable=lambda path: None
    )
    assert picked.panel.client_file is None
    picked.picker.value = "example_b"
    assert picked.panel.client_file is None


def test_show_panel_puts_every_known_client_in_the_picker(examples, book) -> None:
    path = CLIENTS / "example_c.yaml"
    ctx = NotebookContext(
        examples["c"], book, estimate(examples["c"], book), "params/clients/example_c.yaml", True, path
    )
    picked = show_panel(widgets.maintenance_panel, ctx)
    assert isinstance(picked, ClientPanel) and picked.picker.value == "example_c"
    assert [v for _, v in picked.picker.options] == list(dashboard_clients())
    assert picked.panel.client_file == path

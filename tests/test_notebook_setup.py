"""Where a notebook takes its client from: papermill's injection, a dashboard address
(``?client=example_b``, Voilà's QUERY_STRING), or its ``params_file``."""

from __future__ import annotations

import pytest

from ftcost_helpers.engine.loading import ParamsError
from ftcost_helpers.views.notebook import DASHBOARD_QUERY, client_from_query, load_notebook_params


def test_no_query_names_no_client():
    assert client_from_query(None) is None
    assert client_from_query("") is None
    assert client_from_query("voila-template=ftcost") is None


def test_a_query_names_a_client_file(example_files):
    assert client_from_query("client=example_b") == example_files["b"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "example_b.yaml", "nobody", "<script>"])
def test_a_query_cannot_name_anything_else(name):
    with pytest.raises(ParamsError, match="no client file"):
        client_from_query(f"client={name}")


def test_the_dashboard_address_picks_the_client(monkeypatch, book):
    monkeypatch.setenv(DASHBOARD_QUERY, "client=example_c")
    params, source = load_notebook_params("params/clients/example_a.yaml", {}, book)
    assert source == "params/clients/example_c.yaml" and params.client.startswith("Example C")


def test_injected_parameters_win_over_the_address(monkeypatch, book, examples):
    monkeypatch.setenv(DASHBOARD_QUERY, "client=example_c")
    sections = {"client": "Injected", **examples["b"].model_dump(mode="json", exclude={"client"})}
    params, _ = load_notebook_params("params/clients/example_a.yaml", sections, book)
    assert params.client == "Injected"


def test_without_an_address_the_params_file_is_used(monkeypatch, book):
    monkeypatch.delenv(DASHBOARD_QUERY, raising=False)
    params, source = load_notebook_params("params/clients/example_b.yaml", {}, book)
    assert source == "params/clients/example_b.yaml" and params.client.startswith("Example B")

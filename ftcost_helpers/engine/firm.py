"""The firm that signs the client document: ``params/firm.yaml``.

A consultancy sends the report under its own name: letterhead and cover (name, logo,
colours, contact), a disclaimer and a confidentiality label on every page, and the budget
basis it states headlines on unless a client file says otherwise (``report.basis``). The
file is optional: without it the document is signed by nobody in particular and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError

from ftcost_helpers.engine.loading import ParamsError, params_dir, read_yaml
from ftcost_helpers.engine.quantities import Name, Text
from ftcost_helpers.engine.schema import Section

HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]
"""A colour as ``#rrggbb``."""

LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
MAX_LOGO_BYTES = 512_000


class Firm(Section):
    """The firm file's keys (see params/README.md, "The firm file")."""

    name: Name = "ftcost"
    logo: Name | None = None
    """An image beside the firm file (PNG, JPEG or SVG, at most 500 KB), by file name."""
    primary_colour: HexColour = "#1f3a5f"
    accent_colour: HexColour = "#0072b2"
    contact: Text = ""
    disclaimer: Text = (
        "This estimate is a model of the plan described to us, on the prices and assumptions it states. "
        "It is not a quotation or an offer, and actual costs will differ."
    )
    confidentiality: Name = "Confidential: prepared for the client named on the cover"
    default_basis: Literal["p50", "p80", "base_case"] = "p50"


def firm_file() -> Path:
    """``params/firm.yaml`` of the project (the ``FTCOST_ROOT`` checkout's)."""
    return params_dir() / "firm.yaml"


def load_firm(path: str | Path | None = None) -> Firm:
    """The firm file at ``path`` (default :func:`firm_file`); the defaults when the default
    file is absent. Errors name the file, the key and the problem (:class:`ParamsError`)."""
    path = Path(path) if path is not None else firm_file()
    if not path.exists() and path == firm_file():
        return Firm()
    data = read_yaml(path)
    try:
        firm = Firm.model_validate(data)
    except ValidationError as error:
        problems = [(".".join(str(part) for part in e["loc"]), e["msg"]) for e in error.errors()]
        raise ParamsError.several(path, problems) from None
    if firm.logo is not None:
        logo_problem(path, firm.logo)
    return firm


def logo_path(firm: Firm, path: str | Path | None = None) -> Path | None:
    """The logo's file (beside the firm file), or None."""
    if firm.logo is None:
        return None
    folder = Path(path).parent if path is not None else firm_file().parent
    return folder / firm.logo


def logo_problem(firm_path: Path, logo: str) -> None:
    """Refuse a logo that is not a small image file beside the firm file."""
    if Path(logo).name != logo:
        raise ParamsError(firm_path, "logo", "give the image's file name, beside the firm file (no folders)")
    if Path(logo).suffix.lower() not in LOGO_SUFFIXES:
        raise ParamsError(firm_path, "logo", f"must be a {', '.join(LOGO_SUFFIXES)} image")
    image = firm_path.parent / logo
    if not image.is_file():
        raise ParamsError(firm_path, "logo", f"{logo} is not a file beside the firm file")
    if image.stat().st_size > MAX_LOGO_BYTES:
        raise ParamsError(firm_path, "logo", f"{logo} is larger than {MAX_LOGO_BYTES // 1000} KB")

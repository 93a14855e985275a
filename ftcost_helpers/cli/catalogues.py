"""The reference data a plan is priced from, listed: ``pricebook``, ``models`` and ``gpus``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ftcost_helpers.cli.common import EXIT_BAD_INPUT, EXIT_OK, add_command
from ftcost_helpers.engine.loading import load_price_book


def _pricebook(args: argparse.Namespace) -> int:
    from ftcost_helpers.views.text_report import price_book_text

    print(price_book_text(load_price_book(args.price_book, args.rates), dt.date.today()))
    return EXIT_OK


def _models(args: argparse.Namespace) -> int:
    from ftcost_helpers.engine.catalogue import search_models
    from ftcost_helpers.engine.loading import load_models
    from ftcost_helpers.views.text_report import models_text

    found = search_models(load_models(), " ".join(args.query))
    print(models_text(found, load_models().as_of))
    return EXIT_OK if found else EXIT_BAD_INPUT


def _gpus(args: argparse.Namespace) -> int:
    from ftcost_helpers.engine.loading import load_gpus
    from ftcost_helpers.views.text_report import gpus_text

    print(gpus_text(load_gpus(), load_price_book(args.price_book, args.rates)))
    return EXIT_OK


def add_pricebook(commands: Any) -> None:
    add_command(commands, "pricebook", _pricebook, help="every price-book entry with its as-of date and source")


def add_models(commands: Any) -> None:
    models = add_command(
        commands, "models", _models, help="the model catalogue (params/models.yaml), optionally searched"
    )
    models.add_argument("query", nargs="*", help="words every listed model's name or licence contains")


def add_gpus(commands: Any) -> None:
    add_command(commands, "gpus", _gpus, help="the GPU catalogue (params/gpus.yaml) and the tiers each is priced on")

"""ftcost_helpers: what fine-tuning an open-weights LLM really costs, and when it pays back.

The package import stays cheap (no pandas or matplotlib): import what you need from
:mod:`ftcost_helpers.api`, or the modules directly.
"""

__version__ = "0.1.0"

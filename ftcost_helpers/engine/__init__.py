"""The engine: inputs, the pure cost model and what it derives. Imports nothing from
``ftcost_helpers.views`` or the faces (cli, report, dashboard, pdf)."""

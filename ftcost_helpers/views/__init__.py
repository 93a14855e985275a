"""Views: tables, charts, widgets, readings and notebook set-up over the engine results.
Imports the engine, never the faces (cli, report, dashboard, pdf)."""

"""Batch client reports: ``python -m ftcost_helpers report`` turns client parameter files
into ``reports/<slug>/`` folders (executed notebooks, HTML, Excel, summary.json) and
``reports/index.html``.

Modules: :mod:`.runner` (the batch and its process pool), :mod:`.execute` (papermill in a
worker), :mod:`.figures` (the numbers, from the package), :mod:`.html`, :mod:`.excel`,
:mod:`.index` and :mod:`.slug`. Importing this package is cheap; papermill and nbconvert
are imported only by the worker processes that need them.
"""

"""One bounded reader for every file a user names: client files, price books and rates
overlays and catalogues (YAML, :mod:`.yaml_files`), Hugging Face ``config.json`` files
(JSON, :mod:`.json_files`), and any later log or cost export (:func:`read_text`).

Every reader takes a regular file only, of at most its cap, read no further
(:mod:`.files`); the parsers bound nesting, alias expansion and numbers. Every refusal is
one :class:`ParamsError`: the file as the user named it, the key and the problem.
"""

from ftcost_helpers.engine.readers.errors import (
    MAX_PROBLEMS_SHOWN,
    MAX_QUOTED,
    ParamsError,
    json_kind,
    json_text,
    quoted,
)
from ftcost_helpers.engine.readers.files import read_bytes, read_text
from ftcost_helpers.engine.readers.json_files import MAX_JSON_DEPTH, MAX_NUMBER_CHARACTERS, read_json, read_json_object
from ftcost_helpers.engine.readers.yaml_files import MAX_DEPTH, MAX_FILE_BYTES, MAX_VALUES, read_yaml

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_NUMBER_CHARACTERS",
    "MAX_PROBLEMS_SHOWN",
    "MAX_QUOTED",
    "MAX_VALUES",
    "ParamsError",
    "json_kind",
    "json_text",
    "quoted",
    "read_bytes",
    "read_json",
    "read_json_object",
    "read_text",
    "read_yaml",
]

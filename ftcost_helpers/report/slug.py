"""Safe folder names for clients: lower-case ASCII letters, digits and single hyphens.

A slug never contains a path separator, a dot or a leading underscore, so it cannot
escape the output folder nor collide with the runner's own ``_failed`` and ``.staging``
entries; :func:`client_dir` checks the resolved path all the same.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

MAX_LENGTH = 60
FALLBACK = "client"
SAFE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")


def slugify(name: str, max_length: int = MAX_LENGTH) -> str:
    """``"Example A: LoRA on Qwen2.5-7B"`` → ``"example-a-lora-on-qwen2-5-7b"``.

    Accents are folded to ASCII, every other run of characters becomes one hyphen, and a
    long slug is cut at a hyphen. A name with nothing usable gives ``"client"``.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug.strip("-") or FALLBACK


def client_dir(root: Path, slug: str) -> Path:
    """``root/slug``, refusing any slug that is not a plain child of ``root``."""
    if not SAFE.fullmatch(slug):
        raise ValueError(f"not a safe slug: {slug!r}")
    root = root.resolve()
    path = (root / slug).resolve()
    if path.parent != root:
        raise ValueError(f"slug {slug!r} escapes {root}")
    return path


def source_id(path: Path) -> str:
    """Which client file a report folder belongs to, without writing its path down: the
    SHA-256 of the file's resolved path (hex). Two files never share one."""
    return hashlib.sha256(str(Path(path).resolve()).encode("utf-8")).hexdigest()

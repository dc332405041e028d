"""A product catalogue for talking-head batches: products from CSV or JSON, their scripts (written from
name + description by an editable template when empty, 500 characters at most like the seed's player),
their output keys from a template, and the content hash that caches a video.

Columns (CSV header or JSON keys, any case, spaces or underscores): ``product id`` (or ``id``),
``name``, ``description``, ``image`` or ``persona``, ``script`` (optional), ``voice`` (optional).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from layer_desktop import __version__
from layer_desktop.engine.hashing import sha256_file
from layer_desktop.errors import ImageError, InputError

SCRIPT_CAP = 500  # characters, as the seed's product player allows
DEFAULT_TEMPLATE = "Meet {name}. {description}"
DEFAULT_KEY = "{org}/videos/ai-generated/{product}-{id}.mp4"
KEY_FIELDS = ("org", "product", "id", "name")
SCRIPT_FIELDS = ("name", "description", "product")
MAX_PRODUCTS = 10_000
_ALIASES = {
    "product": "product_id", "productid": "product_id", "product_id": "product_id", "id": "product_id",
    "sku": "product_id", "name": "name", "title": "name", "description": "description",
    "image": "image", "photo": "image", "picture": "image", "persona": "persona", "script": "script",
    "voice": "voice",
}  # fmt: skip
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Product:
    """One row: the photo (a path, resolved against the catalogue's folder) or persona, and the words."""

    product_id: str
    name: str
    description: str
    image: str | None
    persona: str | None
    script: str
    voice: str


def _column(name: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    return _ALIASES.get(key) or _ALIASES.get(key.replace("_", ""))


def _rows(path: Path) -> list[dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"The catalogue {path} cannot be read ({exc}).", hint="Give a UTF-8 CSV or JSON file.", path=path
        ) from exc
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"The catalogue {path} is not valid JSON ({exc}).", path=path) from exc
        data = data.get("products", data) if isinstance(data, dict) else data
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputError(
                f"The catalogue {path} holds no list of products.",
                hint='Write [{"product id": …, "name": …, …}, …] or {"products": [ … ]}.', path=path,
            )  # fmt: skip
        return data
    if path.suffix.lower() != ".csv":
        raise InputError(
            f"{path.name} is neither .csv nor .json.", hint="Give products.csv or products.json."
        )
    return list(csv.DictReader(text.splitlines()))


def read_catalogue(path: Path) -> list[Product]:
    """The products of ``path`` (CSV or JSON). Raises ``InputError`` for an unreadable file, missing
    columns, an empty or duplicate product id, or too many products."""
    rows = _rows(path)
    if not rows:
        raise InputError(f"The catalogue {path} lists no products.", path=path)
    if len(rows) > MAX_PRODUCTS:
        raise InputError(
            f"The catalogue {path} lists {len(rows)} products; at most {MAX_PRODUCTS}.", path=path
        )
    products, seen = [], set()
    for number, raw in enumerate(rows, start=1):
        row = {
            col: str(v if v is not None else "").strip() for k, v in raw.items() if k and (col := _column(k))
        }
        pid = row.get("product_id", "")
        if not pid:
            raise InputError(
                f"Product {number} of {path.name} has no product id.",
                hint="Every row needs a 'product id' column with a value.",
                path=path,
            )
        if pid in seen:
            raise InputError(f"Product id {pid!r} is listed twice in {path.name}.", path=path)
        seen.add(pid)
        image = row.get("image") or None
        if image is not None and not Path(image).is_absolute():
            image = str((path.parent / image).resolve())
        persona = row.get("persona") or None
        text = (row.get("name", ""), row.get("description", ""))
        products.append(Product(pid, *text, image, persona, row.get("script", ""), row.get("voice", "")))
    return products


def check_template(template: str, fields: tuple[str, ...], what: str) -> None:
    """Raise ``InputError`` when ``template`` is malformed or uses a field outside ``fields``."""
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    except ValueError as exc:
        raise InputError(f"The {what} template {template!r} is malformed ({exc}).") from None
    unknown = [n for n in names if n not in fields]
    if unknown:
        raise InputError(
            f"The {what} template {template!r} uses an unknown field {{{unknown[0]}}}.",
            hint=f"Use {', '.join('{' + f + '}' for f in fields)}.",
        )


def script_for(product: Product, template: str = DEFAULT_TEMPLATE) -> str:
    """The product's script, or one written from its name and description by ``template``. Raises
    ``InputError`` for an empty script or one over ``SCRIPT_CAP`` characters."""
    text = product.script or template.format(
        name=product.name, description=product.description, product=product.product_id
    )
    text = re.sub(r"\s+", " ", text).strip()
    if not text.strip(" ."):
        raise InputError(
            f"Product {product.product_id} has no script and no name or description to write one from.",
            hint="Fill in its script, or its name and description.",
        )
    if len(text) > SCRIPT_CAP:
        written = "" if product.script else " (written from its name and description)"
        raise InputError(
            f"Product {product.product_id}: the script{written} has {len(text)} characters; "
            f"at most {SCRIPT_CAP} are allowed.",
            hint="Shorten the script (or the description, or the script template) to 500 characters.",
        )
    return text


def segment(value: str) -> str:
    """One safe key segment (as the publish keys are made): accents folded, anything else unsafe → ``-``."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", folded).strip(".-")
    return re.sub(r"-{2,}", "-", cleaned)[:120] or "x"


def output_key(template: str, *, org: str, product: Product, content: str) -> str:
    """The object key (and relative output path) of a product's video; ``{id}`` is the content hash's
    first 12 hex digits, so a changed script or photo gets a new key. Raises ``InputError``."""
    check_template(template, KEY_FIELDS, "key")
    values = {"org": org, "product": product.product_id, "id": content[:12], "name": product.name}
    key = template.format(**{k: segment(v) for k, v in values.items()})
    parts = [p for p in key.replace("\\", "/").split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise InputError(f"The key template {template!r} gives an empty or unsafe key ({key!r}).")
    return "/".join(parts)


def content_hash(product: Product, script: str, voice: str, settings: dict[str, Any]) -> str:
    """What makes a video: the photo's bytes (or the persona), the script, the voice and the settings."""
    if product.image:
        try:
            face = f"image:{sha256_file(Path(product.image))}"
        except OSError as exc:
            raise ImageError(f"Product {product.product_id}: the image {product.image} cannot be read "
                             f"({exc.strerror or exc}).", path=product.image) from exc  # fmt: skip
    else:
        face = f"persona:{product.persona}"
    payload = {"face": face, "script": script, "voice": voice, "settings": settings, "version": __version__}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

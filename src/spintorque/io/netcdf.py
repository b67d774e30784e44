"""Atomic writing and reading of result Datasets (NetCDF4 via h5netcdf) and JSON files.

Every writer goes through a temporary file in the destination folder followed by
:func:`os.replace`, so a reader (or a resumed run) never sees a half-written file. NetCDF
attributes may only be strings, numbers or 1-D numeric arrays: dicts, nested lists, None and
booleans are stored as JSON strings (see :func:`netcdf_safe_attrs`; :func:`json_attr` reads them
back).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

ENGINE = "h5netcdf"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    The temporary name starts with a dot and ends in ``.tmp``, so globs such as ``*.nc`` never
    match it; it is removed if the block raises. ``durable`` flushes the file to disk before the
    rename (survives a power cut, not only a killed process; costs a disk sync).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete leftover ``.*.tmp`` files of interrupted writes in ``folder``; return how many."""
    count = 0
    for tmp in Path(folder).glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            count += 1
    return count


def _safe_value(value: Any) -> Any:
    """One attribute value in a NetCDF-safe form (JSON string for anything structured)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        arr = np.asarray(value)
        if arr.ndim == 1 and arr.size > 0 and arr.dtype.kind in "iuf":
            return arr
    return json.dumps(value, default=json_default)


def json_default(value: Any) -> Any:
    """JSON encoder fallback for numpy scalars and arrays and paths."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in a NetCDF attribute")


def netcdf_safe_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes with every value converted to a NetCDF-safe type."""
    return {str(key): _safe_value(val) for key, val in attrs.items()}


def json_attr(ds: xr.Dataset, key: str, default: Any = None) -> Any:
    """Read back an attribute that was stored as a JSON string (or return it as is)."""
    if key not in ds.attrs:
        return default
    value = ds.attrs[key]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def write_dataset(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to ``path`` as NetCDF4 (h5netcdf), atomically; return the path.

    Attributes of the Dataset and of every variable are made NetCDF-safe on a shallow copy;
    ``ds`` itself is not modified.
    """
    out = ds.copy(deep=False)
    out.attrs = netcdf_safe_attrs(ds.attrs)
    for name in out.variables:
        out[name].attrs = netcdf_safe_attrs(ds[name].attrs)
    path = Path(path)
    with atomic_path(path) as tmp:
        out.to_netcdf(tmp, engine=ENGINE)
    return path


def read_dataset(path: str | os.PathLike) -> xr.Dataset:
    """Load a Dataset written by :func:`write_dataset` fully into memory (file closed after)."""
    return xr.load_dataset(Path(path), engine=ENGINE)


def write_json(obj: Any, path: str | os.PathLike) -> Path:
    """Write ``obj`` as indented JSON, atomically; return the path."""
    path = Path(path)
    text = json.dumps(obj, indent=2, sort_keys=False, default=json_default, allow_nan=True)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def read_json(path: str | os.PathLike) -> Any:
    """Parse a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))

"""numpy arrays and scalars as ``.npy`` files (never pickled). → artifacts.materializers, numpy"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from modelplane.artifacts.materializers import ArtifactFolder, Materializer

__all__ = ["NdarrayMaterializer"]

_FILE = "array.npy"


def _npy_header(array: np.ndarray) -> bytes:
    fields = npy_format.header_data_from_array_1_0(array)
    buffer = io.BytesIO()
    try:
        npy_format.write_array_header_1_0(buffer, fields)
    except ValueError:  # the header needs more than 64 KiB (very many fields)
        buffer = io.BytesIO()
        npy_format.write_array_header_2_0(buffer, fields)
    return buffer.getvalue()


def _save_npy(array: np.ndarray, folder: ArtifactFolder) -> None:
    """The bytes ``np.save`` writes, but the data goes out as one zero-copy buffer.

    ``np.save`` on a file-like object that is not a real file copies the array in 16 MiB chunks;
    handing over one memoryview lets the artifact file hash and write it in parallel instead.
    """
    if not (array.flags.c_contiguous or array.flags.f_contiguous):
        array = np.ascontiguousarray(array)
    header = _npy_header(array)
    with folder.open(_FILE, "wb", size_hint=len(header) + array.nbytes) as fileobj:
        fileobj.write(header)
        data = array if array.flags.c_contiguous else array.T
        if data.size:
            fileobj.write(data.reshape(-1).view(np.uint8).data)


class NdarrayMaterializer(Materializer):
    """``np.ndarray`` (and ``np.memmap``) and numpy scalars; object arrays go to the fallback."""

    handled_types = (np.ndarray, np.generic)

    def can_save(self, value: Any) -> bool:
        if isinstance(value, np.generic):
            return not value.dtype.hasobject
        return type(value) in (np.ndarray, np.memmap) and not value.dtype.hasobject

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        _save_npy(np.asarray(value), folder)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        path = folder.local_path(_FILE)
        if path is not None:
            array = np.load(path, allow_pickle=False)
        else:
            with folder.open(_FILE, "rb") as fileobj:
                array = np.load(fileobj, allow_pickle=False)
        if isinstance(data_type, type) and issubclass(data_type, np.generic):
            return array[()]
        return array

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"shape": list(np.shape(value)), "dtype": str(value.dtype)}

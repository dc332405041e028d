"""The default video detector finds the generated wide shot's small face that neither BlazeFace model
finds on the whole frame."""

from __future__ import annotations

import av
import numpy as np

from layer_desktop.engine.faces.blazeface import BlazeFaceConfig, BlazeFaceDetector
from layer_desktop.engine.faces.geometry import iou
from layer_desktop.engine.faces.tiled import TiledDetector, tile_grid
from tests.footage import Footage


def _frame(path: object, index: int) -> np.ndarray:
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(index)


def test_tiles_cover_the_frame_with_overlap() -> None:
    grid = tile_grid(1280, 720, 336)
    assert (0, 0) in grid and (1280 - 336, 720 - 336) in grid
    assert tile_grid(640, 360, 640) == []  # one tile would be the whole frame


def test_small_faces_are_found_in_640x360_and_1280x720(real_footage: Footage) -> None:
    for path, scale in ((real_footage.small_path, 0.5), (real_footage.path, 1.0)):
        rgb = _frame(path, 40)
        truth = real_footage.face(40, "main", scale)
        assert truth is not None
        width = truth[2] - truth[0]
        assert 20 <= width <= 46  # 640x360: ~23 px; 1280x720: ~45 px
        whole = [BlazeFaceDetector(BlazeFaceConfig(range=r)).detect(rgb) for r in ("short", "full")]
        assert not any(iou(truth, f.bbox) > 0.3 for faces in whole for f in faces)
        tiled = TiledDetector(tiles_per_call=100).detect(rgb)
        assert any(iou(truth, f.bbox) > 0.3 for f in tiled), (path, tiled)

"""Generated ONNX lip-sync models with the real exports' input/output names, shapes and dtypes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _save(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], out_shape: list[int],
          inits: list[onnx.TensorProto], path: Path) -> Path:  # fmt: skip
    graph = helper.make_graph(
        nodes,
        path.stem,
        inputs,
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _source() -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("source", TensorProto.FLOAT, [1, 1, 80, 16])


def wav2lip_model(path: Path, colour_bgr: tuple[float, float, float] | None = None) -> Path:
    """``source`` (1,1,80,16) + ``target`` (1,6,96,96) → (1,3,96,96): ``target[:, 3:6]`` (the unmasked
    face), or a constant BGR colour in [0, 1]."""
    nodes = [
        helper.make_node("Slice", ["target", "starts", "ends", "axes"], ["face"]),
        helper.make_node("ReduceMean", ["source"], ["level"], keepdims=1),
        helper.make_node("Mul", ["level", "zero"], ["nothing"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([3], np.int64), "starts"),
        numpy_helper.from_array(np.array([6], np.int64), "ends"),
        numpy_helper.from_array(np.array([1], np.int64), "axes"),
        numpy_helper.from_array(np.zeros(1, np.float32), "zero"),
    ]
    if colour_bgr is None:
        nodes.append(helper.make_node("Add", ["face", "nothing"], ["output"]))
    else:
        colour = np.array(colour_bgr, np.float32).reshape(1, 3, 1, 1)
        inits.append(numpy_helper.from_array(colour, "colour"))
        nodes += [
            helper.make_node("Mul", ["face", "zero"], ["blank"]),
            helper.make_node("Add", ["blank", "colour"], ["flat"]),
            helper.make_node("Add", ["flat", "nothing"], ["output"]),
        ]
    target = helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 6, 96, 96])
    return _save(nodes, [_source(), target], [1, 3, 96, 96], inits, path)


def edtalk_model(path: Path, colour_rgb: tuple[float, float, float] | None = None) -> Path:
    """``source`` (1,1,80,16) + ``target`` (1,3,256,256) + ``weight`` (1,) → (1,3,256,256): the target,
    or a constant RGB colour."""
    nodes = [
        helper.make_node("ReduceMean", ["source"], ["level"], keepdims=1),
        helper.make_node("Mul", ["level", "zero"], ["nothing"]),
        helper.make_node("Mul", ["weight", "zero"], ["w0"]),
        helper.make_node("Add", ["nothing", "w0"], ["nothing2"]),
    ]
    inits = [numpy_helper.from_array(np.zeros(1, np.float32), "zero")]
    if colour_rgb is None:
        nodes.append(helper.make_node("Add", ["target", "nothing2"], ["output"]))
    else:
        inits.append(numpy_helper.from_array(np.array(colour_rgb, np.float32).reshape(1, 3, 1, 1), "colour"))
        nodes += [
            helper.make_node("Mul", ["target", "zero"], ["blank"]),
            helper.make_node("Add", ["blank", "colour"], ["flat"]),
            helper.make_node("Add", ["flat", "nothing2"], ["output"]),
        ]
    inputs = [
        _source(),
        helper.make_tensor_value_info("target", TensorProto.FLOAT, [1, 3, 256, 256]),
        helper.make_tensor_value_info("weight", TensorProto.FLOAT, [1]),
    ]
    return _save(nodes, inputs, [1, 3, 256, 256], inits, path)

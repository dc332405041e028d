"""The exception tree mixes in built-in types and always carries a hint."""

from __future__ import annotations

import inspect

import layer_desktop.errors as errors


def test_every_error_is_a_layer_error_with_its_own_hint() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.LayerError)]
    assert len(classes) > 15
    for cls in classes:
        assert cls.default_hint, cls
        err = cls(f"{cls.__name__} happened")
        assert str(err) == f"{cls.__name__} happened"
        assert "What to do:" in err.user_text()


def test_builtin_types_are_mixed_in() -> None:
    assert issubclass(errors.MediaError, ValueError)
    assert issubclass(errors.FrameOutOfRangeError, IndexError)
    assert issubclass(errors.EngineError, RuntimeError)
    assert issubclass(errors.RemoteError, OSError)
    assert issubclass(errors.MediaNotFoundError, FileNotFoundError)


def test_documented_tree_names_every_class() -> None:
    doc = errors.__doc__ or ""
    for name, cls in inspect.getmembers(errors, inspect.isclass):
        if issubclass(cls, errors.LayerError):
            assert name in doc, f"{name} missing from the tree in errors.py's docstring"

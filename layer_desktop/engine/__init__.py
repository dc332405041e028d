"""The engine: media, faces, models, personas, render pipeline. No Qt, no UI, no remote imports."""

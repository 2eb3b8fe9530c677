"""The inpaint tool: ``python -m inpaint_lib inpaint ...`` on your own images.

- `command`: the command itself (which methods, where the holes are, the outputs, ``--compare``);
- `photos`: its inputs (photos and masks read as tensors, seeded squares and strokes, PNG out);
- `networks`: the trained networks of a profile's run cache, applied at any image size;
- `ranking`: which trained network the tool uses by default, from the report's evaluations;
- `explore`: what `notebooks/explore.ipynb` calls (one image, one mask, every method).
"""

"""latentstage's realtime side: sources, models, control, shows and the renderer.

Nothing under `live` imports torch: an installation machine carries only the
ONNX runtime and the libraries in pyproject's main dependencies.
"""

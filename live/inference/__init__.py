"""Models on ONNX Runtime: the model-card contract, provider probing, the engine, tensor conversion, CPPN weights."""

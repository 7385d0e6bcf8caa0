"""Models on ONNX Runtime: the model-card contract, provider probing, the engine and tensor conversion."""

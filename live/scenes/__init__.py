"""Scene kinds behind one contract: CPPN morphs and pipelines (source, filters, model), with their parameters."""

"""Super-resolution: a compact 4x network trained on paintings with pixel and perceptual losses."""

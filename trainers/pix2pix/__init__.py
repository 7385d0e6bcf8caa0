"""pix2pix: the U-Net generator that turns edges (or an RGB picture) into a picture in a learned look."""

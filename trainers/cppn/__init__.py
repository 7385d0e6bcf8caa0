"""CPPN: the network, a sampler (stills and latent walks) and a fitter that trains one to a picture."""

"""The machinery every trainer shares, so a new trainer brings only its networks and losses.

checkpoint (one resumable file format), rng (random generator states),
files (atomic writes), device and distributed (where a process trains, torchrun),
batches (seeded, sharded, resumable batch order), data (image folders, video
frames), images and plots (sample grids, loss curves), interrupt (Ctrl-C as a
stop request), loop (the Trainer and its Recipe and Callback contracts) and
callbacks (progress bar, sample grids, loss plots, checkpoints).
"""

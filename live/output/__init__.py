"""What leaves the machine: the pyglet renderer and HUD, video files and the live recorder."""

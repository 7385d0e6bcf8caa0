"""Where pictures and sound come from: cameras, video files, image folders, GIFs, test patterns, audio."""

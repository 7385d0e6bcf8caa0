"""Shows from file to screen: the schema, the director, the conductor's frame step, the stage, live runs, rehearsals."""

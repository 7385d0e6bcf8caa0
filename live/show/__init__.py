"""Shows from file to screen: the schema, the director's timeline, the stage of scenes, live runs and rehearsals."""

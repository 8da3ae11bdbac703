"""Small real crop caches built from the shared MTFL data, shared by the whole suite."""

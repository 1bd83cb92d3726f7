"""Read data files as records with line numbers, detect their format, normalise each row."""

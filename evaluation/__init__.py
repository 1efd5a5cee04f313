"""Labelled evaluation sets and the scripts that score birdwatch on them."""

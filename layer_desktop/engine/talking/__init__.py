"""Talking heads: one photo and a script (or audio) become a talking-head video."""

"""Datasets (MTFL, CelebA, labelled folders), the mouth-crop math, and the crop cache."""

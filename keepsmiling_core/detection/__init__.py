"""Offline face + landmark detection (dlib HOG detector + 68-point shape predictor)."""

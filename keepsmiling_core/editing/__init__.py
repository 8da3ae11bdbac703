"""Turning a trained model into a smile edit on a real photo: latent directions, crop edit, paste-back."""

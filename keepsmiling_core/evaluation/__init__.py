"""Measured quality: smile classifier, edit success, PSNR/SSIM, skin colour shift, KID."""

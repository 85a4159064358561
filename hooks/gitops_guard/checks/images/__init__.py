"""check-images: image references against the image policy."""

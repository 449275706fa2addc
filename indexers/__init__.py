"""Chain readers: each turns one kind of chain into the lake datasets."""

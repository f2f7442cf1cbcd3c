"""Alignment: from text to model windows and back — tokenization with offsets, windows, window merge, words."""

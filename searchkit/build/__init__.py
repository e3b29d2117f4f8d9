"""Build: bringing an index up to date with the articles folder."""

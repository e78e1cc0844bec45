"""The store, split by concept: the corpus, moderation, readers' traces and short-lived state."""

"""Fast style transfer: the feed-forward network that repaints a camera frame in one trained style."""

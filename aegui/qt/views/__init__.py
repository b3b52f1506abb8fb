"""Views: each shows part of the explorer's state and forwards user intent to it."""

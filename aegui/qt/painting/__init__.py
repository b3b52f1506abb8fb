"""Fast-paint helpers shared by the views."""

"""Qt widgets: they display the core's state and forward what the user does."""

"""Agent-side control: path planning and path following for the mobile base."""

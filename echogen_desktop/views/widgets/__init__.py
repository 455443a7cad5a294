"""Small reusable widgets shared by the sections."""
